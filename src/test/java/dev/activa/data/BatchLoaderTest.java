package dev.activa.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BatchLoaderTest {

    static final int N = 103, C = 3, H = 6, W = 5;

    /** Label i for image i, so a batch's labels say exactly which images it holds. */
    static Dataset data(String name) {
        return new Dataset(name, DataFiles.randomBytes(7, N * C * H * W), IntStream.range(0, N).toArray(),
                N, C, H, W, N, IntStream.range(0, N).mapToObj(Integer::toString).toList());
    }

    final Dataset data = data("synthetic");
    final float[] mean = {0.4f, 0.5f, 0.6f};
    final float[] std = {0.2f, 0.25f, 0.3f};

    BatchLoader loader(long seed, boolean shuffle, boolean augment, boolean dropLast) {
        return new BatchLoader(data, 10, seed, shuffle, augment, dropLast, mean, std);
    }

    static List<Batch> all(BatchLoader loader, int epoch) {
        List<Batch> out = new ArrayList<>();
        for (Batch b : loader.epoch(epoch)) {
            out.add(b);
        }
        return out;
    }

    static int[] labels(List<Batch> batches) {
        return batches.stream().flatMapToInt(b -> Arrays.stream(b.labels())).toArray();
    }

    static void assertSameBatches(List<Batch> a, List<Batch> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).labels(), b.get(i).labels(), "labels of batch " + i);
            assertArrayEquals(a.get(i).images(), b.get(i).images(), 0f, "images of batch " + i);
        }
    }

    float normalised(int image, int c, int y, int x) {
        int v = data.pixels()[((image * C + c) * H + y) * W + x] & 0xFF;
        return (v / 255f - mean[c]) / std[c];
    }

    @Test
    void sameSeedAndEpochGiveTheSameBatchesWhateverTheTiming() throws InterruptedException {
        try (BatchLoader a = loader(42, true, true, false); BatchLoader b = loader(42, true, true, false)) {
            for (int e = 0; e < 3; e++) {
                List<Batch> slow = new ArrayList<>();
                for (Batch batch : b.epoch(e)) {
                    Thread.sleep(2); // let the producer run ahead and fill its queue
                    slow.add(batch);
                }
                assertSameBatches(all(a, e), slow);
            }
            assertSameBatches(all(a, 1), all(a, 1)); // replaying an epoch
        }
    }

    @Test
    void epochsAndSeedsChangeTheOrder() {
        try (BatchLoader a = loader(42, true, false, false); BatchLoader b = loader(43, true, false, false)) {
            int[] e0 = labels(all(a, 0));
            assertFalse(Arrays.equals(e0, labels(all(a, 1))));
            assertFalse(Arrays.equals(e0, labels(all(b, 0))));
            assertFalse(Arrays.equals(e0, IntStream.range(0, N).toArray()));
        }
    }

    @Test
    void everyImageOncePerEpochWithoutDropLast() {
        try (BatchLoader l = loader(1, true, true, false)) {
            assertEquals(11, l.batchesPerEpoch());
            for (int e = 0; e < 3; e++) {
                List<Batch> batches = all(l, e);
                assertEquals(11, batches.size());
                assertEquals(3, batches.getLast().size());
                int[] seen = labels(batches);
                Arrays.sort(seen);
                assertArrayEquals(IntStream.range(0, N).toArray(), seen);
            }
        }
    }

    @Test
    void dropLastGivesOnlyFullBatches() {
        try (BatchLoader l = loader(1, true, false, true)) {
            assertEquals(10, l.batchesPerEpoch());
            List<Batch> batches = all(l, 0);
            assertEquals(10, batches.size());
            batches.forEach(b -> assertEquals(10, b.size()));
            assertEquals(100, Arrays.stream(labels(batches)).distinct().count());
        }
    }

    @Test
    void plainLoadingReproducesNormalisedPixelsExactly() {
        try (BatchLoader l = loader(5, false, false, false)) {
            List<Batch> batches = all(l, 3);
            assertArrayEquals(IntStream.range(0, N).toArray(), labels(batches));
            float[] images = new float[N * C * H * W];
            int at = 0;
            for (Batch b : batches) {
                assertEquals(b.size() * C * H * W, b.images().length);
                System.arraycopy(b.images(), 0, images, at, b.images().length);
                at += b.images().length;
            }
            for (int i = 0; i < N; i++) {
                for (int c = 0; c < C; c++) {
                    for (int y = 0; y < H; y++) {
                        for (int x = 0; x < W; x++) {
                            assertEquals(normalised(i, c, y, x), images[((i * C + c) * H + y) * W + x]);
                        }
                    }
                }
            }
        }
    }

    /** Every augmented image must be some shift (|d| ≤ 4) of the image or its mirror, padded with 0. */
    @Test
    void augmentationShiftsAndFlipsButKeepsTheShape() {
        int changed = 0, flipped = 0;
        try (BatchLoader l = loader(9, true, true, false)) {
            for (Batch b : all(l, 0)) {
                assertEquals(b.size() * C * H * W, b.images().length);
                for (int i = 0; i < b.size(); i++) {
                    float[] img = Arrays.copyOfRange(b.images(), i * C * H * W, (i + 1) * C * H * W);
                    int match = matchingTransform(b.labels()[i], img);
                    assertTrue(match >= 0, "augmented image " + b.labels()[i] + " is no shift/flip of the original");
                    if (match != 0) {
                        changed++;
                    }
                    if (match >= 1000) {
                        flipped++;
                    }
                }
            }
        }
        assertTrue(changed > N / 2, "only " + changed + " of " + N + " images changed");
        assertTrue(flipped > N / 5 && flipped < 4 * N / 5, flipped + " of " + N + " flipped");
    }

    /** 1000·flip + 100·(dy+4) + (dx+4) with identity encoded as 0, or -1 if nothing matches. */
    int matchingTransform(int image, float[] img) {
        for (int flip = 0; flip < 2; flip++) {
            for (int dy = -BatchLoader.PAD; dy <= BatchLoader.PAD; dy++) {
                for (int dx = -BatchLoader.PAD; dx <= BatchLoader.PAD; dx++) {
                    if (matches(image, img, dx, dy, flip == 1)) {
                        return flip == 0 && dx == 0 && dy == 0 ? 0 : 1000 * flip + 100 * (dy + 4) + dx + 4 + 1;
                    }
                }
            }
        }
        return -1;
    }

    boolean matches(int image, float[] img, int dx, int dy, boolean flip) {
        for (int c = 0; c < C; c++) {
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    int sy = y + dy, sx = x + dx;
                    float want = sy < 0 || sy >= H || sx < 0 || sx >= W ? 0f
                            : normalised(image, c, sy, flip ? W - 1 - sx : sx);
                    if (img[(c * H + y) * W + x] != want) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    @Test
    void producerFailureReachesTheConsumerInOrder() {
        RuntimeException boom = new RuntimeException("boom");
        try (BatchLoader l = new BatchLoader(data, 10, 1, true, true, false, mean, std, b -> {
            if (b == 2) {
                throw boom;
            }
        })) {
            BatchLoader.Epoch epoch = l.epoch(0);
            epoch.next();
            epoch.next();
            IllegalStateException e = assertThrows(IllegalStateException.class, epoch::next);
            assertSame(boom, e.getCause());
            assertTrue(e.getMessage().contains("batch 2") && e.getMessage().contains("boom"), e.getMessage());
        }
    }

    @Test
    void newEpochAbandonsTheOldOne() {
        try (BatchLoader l = loader(1, true, false, false)) {
            BatchLoader.Epoch first = l.epoch(0);
            first.next(); // the producer is now blocked on a full queue
            assertEquals(11, all(l, 1).size());
            assertThrows(IllegalStateException.class, first::next);
        }
    }

    @Test
    void closeStopsTheThread() throws InterruptedException {
        Dataset named = data("close-test");
        BatchLoader l = new BatchLoader(named, 10, 1, true, true, false, mean, std);
        l.epoch(0).next();
        assertTrue(threadAlive("activa-batches-close-test-"));
        l.close();
        assertFalse(threadAlive("activa-batches-close-test-"));
        assertThrows(IllegalStateException.class, () -> l.epoch(1));
    }

    static boolean threadAlive(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith(prefix) && t.isAlive());
    }

    @Test
    void badSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(data, 0, 1, true, true, false, mean, std));
        assertThrows(IllegalArgumentException.class,
                () -> new BatchLoader(data, 10, 1, true, true, false, new float[] {0.5f}, new float[] {0.5f}));
        assertThrows(IllegalArgumentException.class,
                () -> new BatchLoader(data, 10, 1, true, true, false, mean, new float[] {1, 0, 1}));
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(data, 200, 1, true, true, true, mean, std));
        assertNotEquals(0, new BatchLoader(data, 200, 1, true, true, false, mean, std).batchesPerEpoch());
    }
}
