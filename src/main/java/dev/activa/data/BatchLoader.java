package dev.activa.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Turns a {@link Dataset} into normalised, optionally shuffled and augmented mini-batches,
 * prepared on a background thread so the trainer does not wait on data.
 *
 * <p><b>Determinism.</b> Epoch {@code e}'s batches depend only on (seed, e): the sample order
 * comes from a generator seeded by (seed, e), and each batch's augmentation from one seeded by
 * (seed, e, batch index), so neither threads nor timing can change a single value.
 *
 * <p><b>Augmentation.</b> Random crop with 4 pixels of padding (shift by -4..4 in x and y), then
 * horizontal flip with p = 0.5. Padding is 0 in normalised space, i.e. padded pixels equal the
 * channel mean: a black border (torchvision's default) would be a strong off-distribution edge
 * after normalisation, while the mean carries no signal.
 *
 * <p><b>Use.</b> {@code for (Batch b : loader.epoch(e))}. One epoch is produced at a time: calling
 * {@link #epoch} again abandons the previous epoch's iterator. Close the loader to stop its thread.
 */
public final class BatchLoader implements AutoCloseable {

    /** Padding of the random crop, in pixels per side. */
    public static final int PAD = 4;

    /** Batches prepared ahead of the trainer. */
    private static final int PREFETCH = 3;

    private static final AtomicInteger THREADS = new AtomicInteger();

    private final Dataset data;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final boolean augment;
    private final int batches;
    private final float[] lut; // channel c, pixel byte v -> normalised value at [c * 256 + v]
    private final IntConsumer beforeBatch; // test hook, called on the producer thread
    private final ExecutorService producer;
    private volatile Thread producerThread; // joined by close(): a terminated executor's thread may still be exiting
    private Epoch current;
    private volatile boolean closed; // read by Epoch.take for its message

    /**
     * @param mean per-channel mean in [0,1] pixel scale (usually the training set's {@link Dataset#mean()})
     * @param std per-channel standard deviation in [0,1] pixel scale, all positive
     */
    public BatchLoader(Dataset data, int batchSize, long seed, boolean shuffle, boolean augment,
            boolean dropLast, float[] mean, float[] std) {
        this(data, batchSize, seed, shuffle, augment, dropLast, mean, std, b -> {});
    }

    BatchLoader(Dataset data, int batchSize, long seed, boolean shuffle, boolean augment,
            boolean dropLast, float[] mean, float[] std, IntConsumer beforeBatch) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        int channels = data.channels();
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException(data.name() + " has " + channels + " channels but normalisation has "
                    + mean.length + " means and " + std.length + " standard deviations");
        }
        this.batches = dropLast ? data.count() / batchSize : (data.count() + batchSize - 1) / batchSize;
        if (batches == 0) {
            throw new IllegalArgumentException(data.name() + " has " + data.count() + " images: no full batch of "
                    + batchSize + (dropLast ? " (dropLast is on)" : ""));
        }
        this.lut = new float[channels * 256];
        for (int c = 0; c < channels; c++) {
            if (!(std[c] > 0)) {
                throw new IllegalArgumentException("standard deviation of channel " + c + " must be positive, got " + std[c]);
            }
            for (int v = 0; v < 256; v++) {
                lut[c * 256 + v] = (v / 255f - mean[c]) / std[c];
            }
        }
        this.data = data;
        this.batchSize = batchSize;
        this.seed = seed;
        this.shuffle = shuffle;
        this.augment = augment;
        this.beforeBatch = beforeBatch;
        String threadName = "activa-batches-" + data.name() + "-" + THREADS.incrementAndGet();
        this.producer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true); // a loader left open must not keep the JVM alive
            producerThread = t;
            return t;
        });
    }

    public Dataset dataset() {
        return data;
    }

    public int batchSize() {
        return batchSize;
    }

    public int batchesPerEpoch() {
        return batches;
    }

    /** Starts producing epoch {@code e} and returns its single-use iterator; abandons any previous epoch. */
    public synchronized Epoch epoch(int e) {
        if (closed) {
            throw new IllegalStateException("BatchLoader for " + data.name() + " is closed");
        }
        if (current != null) {
            current.abandon();
        }
        BlockingQueue<Object> queue = new ArrayBlockingQueue<>(PREFETCH);
        // The single thread runs this only after the abandoned producer has stopped.
        Future<?> task = producer.submit(() -> produce(e, queue));
        current = new Epoch(e, queue, task);
        return current;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (current != null) {
            current.abandon();
        }
        producer.shutdownNow();
        try {
            if (producer.awaitTermination(10, TimeUnit.SECONDS) && producerThread != null) {
                producerThread.join(TimeUnit.SECONDS.toMillis(10));
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    private void produce(int epoch, BlockingQueue<Object> queue) {
        try {
            int[] order = order(epoch);
            for (int b = 0; b < batches; b++) {
                beforeBatch.accept(b);
                queue.put(prepare(order, epoch, b));
            }
        } catch (InterruptedException ex) {
            // Abandoned or closed: nobody is waiting for the rest.
        } catch (Throwable t) {
            try {
                queue.put(new Failure(t)); // after the good batches, so the consumer sees it in order
            } catch (InterruptedException ex) {
                // Abandoned while reporting: nobody to report to.
            }
        }
    }

    private int[] order(int epoch) {
        int n = data.count();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (shuffle) {
            SplittableRandom rng = new SplittableRandom(seedFor(epoch, -1));
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    private Batch prepare(int[] order, int epoch, int b) {
        int from = b * batchSize;
        int n = Math.min(batchSize, data.count() - from);
        int size = data.imageSize();
        float[] images = new float[n * size]; // zero-filled, which is also the crop padding
        int[] labels = new int[n];
        SplittableRandom rng = augment ? new SplittableRandom(seedFor(epoch, b)) : null;
        for (int i = 0; i < n; i++) {
            int s = order[from + i];
            labels[i] = data.labels()[s];
            if (augment) {
                int dx = rng.nextInt(-PAD, PAD + 1);
                int dy = rng.nextInt(-PAD, PAD + 1);
                boolean flip = rng.nextBoolean();
                copyShifted(s * size, images, i * size, dx, dy, flip);
            } else {
                copy(s * size, images, i * size);
            }
        }
        return new Batch(images, labels, n);
    }

    private void copy(int src, float[] out, int dst) {
        byte[] px = data.pixels();
        int plane = data.height() * data.width();
        for (int c = 0; c < data.channels(); c++) {
            int lb = c * 256;
            int o = c * plane;
            for (int p = 0; p < plane; p++) {
                out[dst + o + p] = lut[lb + (px[src + o + p] & 0xFF)];
            }
        }
    }

    /** out(y, x) = in(y + dy, x + dx) of the (optionally mirrored) image; outside stays 0. */
    private void copyShifted(int src, float[] out, int dst, int dx, int dy, boolean flip) {
        byte[] px = data.pixels();
        int h = data.height(), w = data.width(), plane = h * w;
        int x0 = Math.max(0, -dx), x1 = Math.min(w, w - dx);
        int y0 = Math.max(0, -dy), y1 = Math.min(h, h - dy);
        for (int c = 0; c < data.channels(); c++) {
            int lb = c * 256;
            for (int y = y0; y < y1; y++) {
                int in = src + c * plane + (y + dy) * w;
                int o = dst + c * plane + y * w;
                if (flip) {
                    int last = in + w - 1 - dx;
                    for (int x = x0; x < x1; x++) {
                        out[o + x] = lut[lb + (px[last - x] & 0xFF)];
                    }
                } else {
                    int first = in + dx;
                    for (int x = x0; x < x1; x++) {
                        out[o + x] = lut[lb + (px[first + x] & 0xFF)];
                    }
                }
            }
        }
    }

    /** A well-mixed seed for (seed, epoch, batch); batch -1 is the epoch's shuffle. */
    private long seedFor(int epoch, int batch) {
        long h = mix(seed ^ 0x9E3779B97F4A7C15L);
        h = mix(h + 0x9E3779B97F4A7C15L * (epoch + 1L));
        return mix(h + 0xC2B2AE3D27D4EB4FL * (batch + 2L));
    }

    private static long mix(long z) { // SplitMix64 finaliser
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Why the producer stopped, queued in place of a batch. */
    private record Failure(Throwable cause) {}

    /** The batches of one epoch, in order; single use (also usable once in a for-each). */
    public final class Epoch implements Iterator<Batch>, Iterable<Batch> {
        private final int epoch;
        private final BlockingQueue<Object> queue;
        private final Future<?> task;
        private volatile boolean abandoned;
        private int delivered;

        private Epoch(int epoch, BlockingQueue<Object> queue, Future<?> task) {
            this.epoch = epoch;
            this.queue = queue;
            this.task = task;
        }

        public int epoch() {
            return epoch;
        }

        @Override
        public boolean hasNext() {
            return delivered < batches;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException("epoch " + epoch + " has " + batches + " batches");
            }
            Object item = take();
            return switch (item) {
                case Batch b -> {
                    delivered++;
                    yield b;
                }
                case Failure(Throwable cause) -> throw new IllegalStateException(
                        "preparing batch " + delivered + " of epoch " + epoch + " of " + data.name() + " failed: " + cause, cause);
                default -> throw new AssertionError(item);
            };
        }

        @Override
        public Iterator<Batch> iterator() {
            return this;
        }

        private void abandon() {
            abandoned = true;
            task.cancel(true);
        }

        private Object take() {
            try {
                while (true) {
                    if (abandoned) {
                        throw new IllegalStateException("epoch " + epoch + " of " + data.name() + " was abandoned: "
                                + (closed ? "the loader was closed" : "epoch() was called again before it finished"));
                    }
                    // Poll, not take: a cancelled producer would otherwise leave us waiting forever.
                    Object item = queue.poll(50, TimeUnit.MILLISECONDS);
                    if (item != null) {
                        return item;
                    }
                    if (task.isDone() && queue.isEmpty()) { // cannot happen unless the producer died silently
                        throw new IllegalStateException("producer of epoch " + epoch + " of " + data.name()
                                + " stopped without delivering batch " + delivered);
                    }
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a batch of " + data.name(), ex);
            }
        }
    }
}
