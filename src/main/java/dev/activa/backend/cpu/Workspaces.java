package dev.activa.backend.cpu;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Scratch that a kernel's parallel tasks borrow and give back (packing buffers, padded images,
 * transforms), grown on demand and never shrunk, so that a call in steady state allocates none.
 *
 * <p>Thread locals held it before, but on JDK 25 the common fork-join pool's workers
 * ({@code InnocuousForkJoinWorkerThread}) erase their thread locals after every task: each task
 * such a worker ran allocated its buffers again (JFR: 4.4 GB of SGEMM buffers in one evaluation of
 * 10,000 images). A pool holds as many workspaces as were ever out at once, and lends the one
 * given back last first.
 */
final class Workspaces<T> {
    /** Every pool, so that {@link #releaseIdle} can empty them all. */
    private static final List<Workspaces<?>> ALL = new CopyOnWriteArrayList<>();

    private final ConcurrentLinkedDeque<T> idle = new ConcurrentLinkedDeque<>();
    private final Supplier<T> create;

    Workspaces(Supplier<T> create) {
        this.create = create;
        ALL.add(this);
    }

    /**
     * Drops every idle workspace of every pool, for the collector ({@link CpuBackend#releasePooledArrays},
     * {@link CpuBackend#close}): the pools are the process's, shared by its backends, and would
     * otherwise keep scratch for the largest layer and the most tasks ever run at once (on 16
     * threads, 116 MB after a ResNet's convolutions). Workspaces out at the time come back after.
     */
    static void releaseIdle() {
        for (Workspaces<?> pool : ALL) pool.idle.clear();
    }

    /** How many workspaces all pools hold idle now. */
    static int idleCount() {
        return ALL.stream().mapToInt(pool -> pool.idle.size()).sum();
    }

    /** A workspace of this caller's alone until it {@link #give}s it back. */
    T take() {
        T w = idle.pollFirst();
        return w != null ? w : create.get();
    }

    void give(T workspace) {
        idle.offerFirst(workspace);
    }

    /** A float array grown on demand, never shrunk: one buffer of a workspace, or of a thread's own. */
    static final class Floats {
        private float[] data = new float[0];

        /**
         * The array, at least {@code size} floats long. Its contents are whatever its last user
         * left (NaN in the tests: {@link ArrayPool#POISON}): a kernel writes what it reads, zeros included.
         */
        float[] atLeast(long size) {
            if (data.length < size) data = new float[Math.toIntExact(size)];
            if (ArrayPool.POISON) Arrays.fill(data, Float.NaN);
            return data;
        }
    }
}
