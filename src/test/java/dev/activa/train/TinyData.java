package dev.activa.train;

import dev.activa.data.Dataset;
import java.util.List;
import java.util.SplittableRandom;

/** Small datasets for tests. */
public final class TinyData {
    private TinyData() {}

    /** A small learnable dataset: the class decides which quadrant of an 8×8 image is bright. */
    static Dataset make(int count, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        byte[] pixels = new byte[count * 64];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            int label = i % 4;
            labels[i] = label;
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++) {
                    int quadrant = (y / 4) * 2 + x / 4;
                    int v = (quadrant == label ? 160 : 40) + rng.nextInt(60);
                    pixels[i * 64 + y * 8 + x] = (byte) v;
                }
        }
        return new Dataset("tiny", pixels, labels, count, 1, 8, 8, 4, List.of("a", "b", "c", "d"));
    }

    /**
     * Random 28 × 28 images, labels i mod 4: large enough for the convolutions' direct paths, whose
     * weight gradients add one partial sum per thread.
     */
    public static Dataset random28(int count, long seed) {
        var rng = new SplittableRandom(seed);
        byte[] pixels = new byte[count * 28 * 28];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (byte) rng.nextInt(256);
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = i % 4;
        return new Dataset("random28", pixels, labels, count, 1, 28, 28, 4, List.of("a", "b", "c", "d"));
    }
}
