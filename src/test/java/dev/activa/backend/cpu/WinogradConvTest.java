package dev.activa.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Winograd F(2×2, 3×3) against the FP64 reference convolution and its input gradient, called
 * directly so that every shape is covered whichever kernel {@link Im2colConv} would pick for it
 * on this CPU.
 */
class WinogradConvTest {
    private final SplittableRandom rng = new SplittableRandom(11);

    @ParameterizedTest(name = "n={0} c={1} {2}×{3} k={4}")
    @CsvSource({
        "2,16,28,28,16",  // the quick start's 16→16 layer: rows of 14 tiles
        "3,5,7,7,6",      // odd sizes: the last row and column of tiles half outside
        "2,9,9,13,13",    // non-square, odd, channels off the register block
        "1,4,1,1,3",      // one pixel: one tile, three quarters padding
        "1,3,5,2,2",      // rows of one tile
        "5,20,4,4,12",    // 4 tiles an image: several images in one chunk, blocks across images
        "3,8,32,32,8",    // rows of whole vectors of tiles
        "2,64,8,8,70",    // output channels past a register block, a ragged last one
        "2,3,5,35,4",     // rows of 18 tiles: more than a vector of 16, ragged
        "40,16,6,6,8",    // many images: several chunks, a ragged last chunk
        "1,256,8,8,16"})  // deep: one image per chunk
    void forwardAndInputGradientMatchTheReference(int n, int c, int h, int w, int k) {
        double[] x = random(n * c * h * w), weights = random(k * c * 9), dy = random(n * k * h * w);
        double[] y = new double[n * k * h * w], dx = new double[x.length];
        CpuReference.conv2d(x, weights, y, n, c, h, w, k, 3, 3, 1, 1, h, w);
        CpuReference.conv2dBackward(x, weights, dy, dx, null, n, c, h, w, k, 3, 3, 1, 1, h, w);

        float[] wf = floats(weights), yf = nans(y.length), dxf = nans(dx.length);
        WinogradConv.forward(Parallel.COMMON, floats(x), wf, yf, n, c, h, w, k);
        WinogradConv.forward(Parallel.COMMON, floats(dy), WinogradConv.transposedKernel(wf, k, c), dxf, n, k, h, w, c);
        close(y, yf, Math.sqrt(c), "forward");
        close(dx, dxf, Math.sqrt(k), "input gradient");
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        // one image a chunk (a 16 × 16 image of 64 channels fills the chunk budget): 24 chunks on 1 and 3 threads
        int n = 24, c = 64, h = 16, w = 16, k = 10;
        double[] x = random(n * c * h * w), weights = random(k * c * 9), y = new double[n * k * h * w];
        CpuReference.conv2d(x, weights, y, n, c, h, w, k, 3, 3, 1, 1, h, w);
        float[] one = nans(y.length), three = nans(y.length);
        try (var single = Parallel.ofThreads(1); var several = Parallel.ofThreads(3)) {
            WinogradConv.forward(single, floats(x), floats(weights), one, n, c, h, w, k);
            WinogradConv.forward(several, floats(x), floats(weights), three, n, c, h, w, k);
        }
        close(y, three, Math.sqrt(c), "three threads");
        assertArrayEquals(one, three);
    }

    @Test
    void takesTheLayersItIsFasterOn() {
        int lanes = WinogradConv.L, channels = WinogradConv.MIN_CHANNELS, batch = 8, threads = 2;
        var wide = new Im2colConv.Geometry(channels, lanes, lanes, 3, 3, 1, 1); // rows of L/2 tiles
        assertTrue(WinogradConv.fits(wide, batch, threads, channels, channels));
        assertFalse(WinogradConv.fits(wide, batch, threads, channels - 1, channels), "too few channels");
        assertFalse(WinogradConv.fits(wide, 1, threads, channels, channels), "fewer images than threads");
        var narrow = new Im2colConv.Geometry(channels, lanes - 2, lanes - 2, 3, 3, 1, 1);
        assertFalse(WinogradConv.fits(narrow, batch, threads, channels, channels), "narrow rows");
        var huge = new Im2colConv.Geometry(256, 512, 512, 3, 3, 1, 1);
        assertFalse(WinogradConv.fits(huge, batch, threads, 256, 256), "an image past the scratch limit");
        for (var other : new Im2colConv.Geometry[] {new Im2colConv.Geometry(channels, 32, 32, 3, 3, 2, 1),
                new Im2colConv.Geometry(channels, 32, 32, 3, 3, 1, 0), new Im2colConv.Geometry(channels, 32, 32, 5, 5, 1, 1)})
            assertFalse(WinogradConv.fits(other, batch, threads, channels, channels), other.toString());
    }

    /** Within a few float roundings of each output's magnitude: |error| ≤ 1e-6·√depth·max|y|. */
    private static void close(double[] want, float[] got, double depth, String what) {
        double scale = Arrays.stream(want).map(Math::abs).max().orElse(0);
        for (int i = 0; i < want.length; i++)
            assertEquals(want[i], got[i], 1e-6 * depth * Math.max(1, scale), what + " element " + i);
    }

    private double[] random(int size) {
        double[] v = new double[size];
        for (int i = 0; i < size; i++) v[i] = rng.nextDouble(-1, 1);
        return v;
    }

    private static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    /** NaN-filled, so that an element the kernel never writes fails the comparison. */
    private static float[] nans(int size) {
        float[] f = new float[size];
        Arrays.fill(f, Float.NaN);
        return f;
    }
}
