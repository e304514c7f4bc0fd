package dev.activa.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.backend.cuda.CudnnTypes.TensorFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CUDA backend's memory layouts on the host side: which shapes move, where elements go, and the choice. */
class ImageLayoutTest {
    @Test
    void channelsLastPutsEachPixelsChannelsSideBySide() {
        int n = 2, c = 3, h = 2, w = 4;
        int[] shape = {n, c, h, w};
        float[] rowMajor = new float[n * c * h * w];
        for (int i = 0; i < rowMajor.length; i++) rowMajor[i] = i;
        float[] stored = ImageLayout.NHWC.toMemoryOrder(rowMajor, shape);
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        assertEquals(rowMajor[((b * c + ch) * h + y) * w + x], stored[((b * h + y) * w + x) * c + ch],
                                "element n=" + b + " c=" + ch + " y=" + y + " x=" + x);
        assertArrayEquals(rowMajor, ImageLayout.NHWC.toRowMajor(stored, shape));
    }

    @Test
    void onlyFourDimensionalTensorsWithChannelsAndPixelsMove() {
        assertTrue(ImageLayout.NHWC.reorders(new int[] {8, 16, 32, 32}));
        assertTrue(ImageLayout.NHWC.reorders(new int[] {64, 3, 3, 3}), "weights are KRSC");
        assertFalse(ImageLayout.NHWC.reorders(new int[] {8, 1, 28, 28}), "one channel: the same order");
        assertFalse(ImageLayout.NHWC.reorders(new int[] {8, 512, 1, 1}), "one pixel: the same order");
        assertFalse(ImageLayout.NHWC.reorders(new int[] {8, 512}));
        assertFalse(ImageLayout.NCHW.reorders(new int[] {8, 16, 32, 32}));
        float[] data = {1, 2, 3, 4};
        assertSame(data, ImageLayout.NHWC.toMemoryOrder(data, new int[] {1, 4, 1, 1}), "nothing to move, no copy");
        assertSame(data, ImageLayout.NCHW.toRowMajor(data, new int[] {1, 2, 2, 1}));
    }

    @Test
    void viewsShareMemoryOnlyWhereTheOrderIsTheSame() {
        var nhwc = ImageLayout.NHWC;
        assertTrue(nhwc.sameOrder(new int[] {8, 512, 1, 1}, new int[] {8, 512}), "pooled features flatten in place");
        assertTrue(nhwc.sameOrder(new int[] {2, 3, 4, 5}, new int[] {2, 3, 5, 4}), "the same images and channels");
        assertFalse(nhwc.sameOrder(new int[] {2, 3, 4, 5}, new int[] {2, 60}));
        assertFalse(nhwc.sameOrder(new int[] {2, 60}, new int[] {2, 3, 4, 5}));
        assertFalse(nhwc.sameOrder(new int[] {2, 3, 4, 5}, new int[] {2, 5, 3, 4}), "other channels");
        assertTrue(ImageLayout.NCHW.sameOrder(new int[] {2, 3, 4, 5}, new int[] {2, 60}));
    }

    @Test
    void theLayoutComesFromThePropertyThenTheEnvironmentAndDefaultsToNhwc() {
        assertEquals(ImageLayout.NHWC, ImageLayout.configured(k -> null, k -> null));
        assertEquals(ImageLayout.NCHW, ImageLayout.configured(Map.of(ImageLayout.PROPERTY, "nchw")::get, k -> null));
        assertEquals(ImageLayout.NCHW, ImageLayout.configured(k -> null, Map.of(ImageLayout.VARIABLE, " NCHW ")::get));
        assertEquals(ImageLayout.NHWC, ImageLayout.configured(Map.of(ImageLayout.PROPERTY, "nhwc")::get,
                Map.of(ImageLayout.VARIABLE, "nchw")::get), "the property wins");
        var e = assertThrows(IllegalArgumentException.class,
                () -> ImageLayout.configured(k -> null, Map.of(ImageLayout.VARIABLE, "chw")::get));
        assertTrue(e.getMessage().contains("ACTIVA_CUDA_LAYOUT=chw") && e.getMessage().contains("nchw"), e.getMessage());
        assertEquals(TensorFormat.NHWC, ImageLayout.NHWC.cudnnFormat());
        assertEquals(TensorFormat.NCHW, ImageLayout.NCHW.cudnnFormat());
    }
}
