package dev.activa.data;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An in-memory image classification set.
 *
 * <p>Pixels stay as raw uint8 ({@code N × C × H × W}, CHW per image) so a 60000-image set costs
 * 47 MB rather than four times that; {@link BatchLoader} turns them into normalised floats one
 * batch at a time. The arrays are shared, not copied: treat them as read-only.
 */
public record Dataset(
        String name,
        byte[] pixels,
        int[] labels,
        int count,
        int channels,
        int height,
        int width,
        int classes,
        List<String> classNames) {

    public Dataset {
        Objects.requireNonNull(name, "name");
        if (count < 0 || channels < 1 || height < 1 || width < 1 || classes < 1) {
            throw new IllegalArgumentException(
                    name + ": bad shape " + count + "×" + channels + "×" + height + "×" + width + ", " + classes + " classes");
        }
        if ((long) count * channels * height * width != pixels.length) {
            throw new IllegalArgumentException(name + ": " + pixels.length + " pixel bytes for "
                    + count + "×" + channels + "×" + height + "×" + width);
        }
        if (labels.length != count) {
            throw new IllegalArgumentException(name + ": " + labels.length + " labels for " + count + " images");
        }
        if (classNames.size() != classes) {
            throw new IllegalArgumentException(name + ": " + classNames.size() + " class names for " + classes + " classes");
        }
        for (int i = 0; i < count; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " at " + i + " outside 0.." + (classes - 1));
            }
        }
        classNames = List.copyOf(classNames);
    }

    /**
     * Images without labels, to classify ({@code Classifier.predict}): pixels as bytes 0–255,
     * image after image, each channel's plane in rows ({@code [count, channels, height, width]}).
     */
    public static Dataset unlabelled(String name, byte[] pixels, int count, int channels, int height, int width) {
        return new Dataset(name, pixels, new int[count], count, channels, height, width, 1, List.of("unlabelled"));
    }

    /** Bytes (and floats, once normalised) per image: {@code C × H × W}. */
    public int imageSize() {
        return channels * height * width;
    }

    /** A copy of images {@code from .. from+n-1}. */
    public Dataset subset(int from, int n) {
        Objects.checkFromIndexSize(from, n, count);
        int size = imageSize();
        return new Dataset(
                name + "[" + from + ":" + (from + n) + "]",
                Arrays.copyOfRange(pixels, from * size, (from + n) * size),
                Arrays.copyOfRange(labels, from, from + n),
                n, channels, height, width, classes, classNames);
    }

    /** A copy of the first {@code n} images (quick runs, smoke tests). */
    public Dataset first(int n) {
        return subset(0, Math.min(n, count));
    }

    /** Per-channel mean over the whole set, in [0,1] pixel scale. */
    public float[] mean() {
        double[][] s = channelSums();
        float[] mean = new float[channels];
        for (int c = 0; c < channels; c++) {
            mean[c] = (float) (s[0][c] / s[2][c]);
        }
        return mean;
    }

    /** Per-channel population standard deviation over the whole set, in [0,1] pixel scale. */
    public float[] std() {
        double[][] s = channelSums();
        float[] std = new float[channels];
        for (int c = 0; c < channels; c++) {
            double m = s[0][c] / s[2][c];
            std[c] = (float) Math.sqrt(Math.max(0, s[1][c] / s[2][c] - m * m));
        }
        return std;
    }

    /** Number of images per class. */
    public int[] classCounts() {
        int[] counts = new int[classes];
        for (int label : labels) {
            counts[label]++;
        }
        return counts;
    }

    /** Sums of x and x² per channel (x in [0,1]) and the pixel count; exact in longs first. */
    private double[][] channelSums() {
        long[] sum = new long[channels];
        long[] sumSq = new long[channels];
        int plane = height * width;
        for (int i = 0; i < count; i++) {
            for (int c = 0; c < channels; c++) {
                int base = (i * channels + c) * plane;
                long s = 0, q = 0;
                for (int p = 0; p < plane; p++) {
                    int v = pixels[base + p] & 0xFF;
                    s += v;
                    q += v * v;
                }
                sum[c] += s;
                sumSq[c] += q;
            }
        }
        double[][] out = new double[3][channels];
        for (int c = 0; c < channels; c++) {
            out[0][c] = sum[c] / 255.0;
            out[1][c] = sumSq[c] / (255.0 * 255.0);
            out[2][c] = (double) count * plane;
        }
        return out;
    }

    @Override
    public String toString() {
        return name + ": " + count + " × " + channels + "×" + height + "×" + width + ", " + classes + " classes";
    }
}
