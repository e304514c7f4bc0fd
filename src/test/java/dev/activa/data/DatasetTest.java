package dev.activa.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class DatasetTest {

    // Two 2-channel 1×2 images: channel 0 holds 0,255,0,255; channel 1 holds 51 everywhere.
    final Dataset d = new Dataset("tiny",
            new byte[] {0, (byte) 255, 51, 51, 0, (byte) 255, 51, 51},
            new int[] {1, 0}, 2, 2, 1, 2, 2, List.of("a", "b"));

    @Test
    void meanAndStdArePerChannelInUnitScale() {
        assertArrayEquals(new float[] {0.5f, 0.2f}, d.mean(), 1e-7f);
        assertArrayEquals(new float[] {0.5f, 0f}, d.std(), 1e-7f);
    }

    @Test
    void subsetCopiesTheRightImages() {
        Dataset s = d.subset(1, 1);
        assertEquals(1, s.count());
        assertArrayEquals(new byte[] {0, (byte) 255, 51, 51}, s.pixels());
        assertArrayEquals(new int[] {0}, s.labels());
        assertEquals(4, s.imageSize());
        assertEquals(1, d.first(1).labels()[0]);
        assertEquals(2, d.first(99).count());
        assertThrows(IndexOutOfBoundsException.class, () -> d.subset(1, 2));
    }

    @Test
    void classCountsIsAHistogram() {
        assertArrayEquals(new int[] {1, 1}, d.classCounts());
    }

    @Test
    void inconsistentShapesAreRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> new Dataset("bad", new byte[7], new int[] {0, 0}, 2, 2, 1, 2, 2, List.of("a", "b")));
        assertThrows(IllegalArgumentException.class,
                () -> new Dataset("bad", new byte[8], new int[] {0, 2}, 2, 2, 1, 2, 2, List.of("a", "b")));
        assertThrows(IllegalArgumentException.class,
                () -> new Dataset("bad", new byte[8], new int[] {0, 1}, 2, 2, 1, 2, 2, List.of("a")));
    }
}
