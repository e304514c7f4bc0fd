package dev.activa.data;

/**
 * One mini-batch ready for the trainer.
 *
 * @param images {@code size × C × H × W} normalised pixels, CHW order per image
 * @param labels class index per image
 * @param size number of images; the arrays are exactly this long (a last partial batch is
 *     simply shorter)
 */
public record Batch(float[] images, int[] labels, int size) {

    public Batch {
        if (labels.length != size || (size > 0 && images.length % size != 0)) {
            throw new IllegalArgumentException(
                    "batch of " + size + " has " + labels.length + " labels and " + images.length + " floats");
        }
    }
}
