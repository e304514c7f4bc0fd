package dev.activa.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.stream.IntStream;

/**
 * Where a {@link CpuBackend}'s parallel loops run: the common fork-join pool (all cores, the
 * caller included), a pool of the backend's own, or the calling thread alone.
 *
 * <p>How a loop is cut depends on {@link #threads()} only, so a backend with a fixed thread
 * count cuts every loop the same way on every machine; the sums that add one partial result per
 * piece (a convolution's weight gradient) then round the same way too.
 */
final class Parallel {
    /** The common pool: threads are the cores, up to its parallelism plus the caller. */
    static final Parallel COMMON = new Parallel(null, Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(),
            ForkJoinPool.getCommonPoolParallelism() + 1)));

    /** The pool the loops run in (null: the common pool, or the caller alone when threads is 1). */
    private final ForkJoinPool pool;
    private final int threads;

    private Parallel(ForkJoinPool pool, int threads) {
        this.pool = pool;
        this.threads = threads;
    }

    /** Loops on the given pool, cut for its parallelism. */
    static Parallel on(ForkJoinPool pool) {
        return pool == ForkJoinPool.commonPool() ? COMMON : new Parallel(pool, pool.getParallelism());
    }

    /** Loops on a new pool of {@code threads} workers (on the calling thread alone for 1). */
    static Parallel ofThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("cpu backend: threads must be at least 1, got " + threads);
        return new Parallel(threads == 1 ? null : new ForkJoinPool(threads), threads);
    }

    interface RangeBody {
        void run(int from, int to);
    }

    interface TaskBody {
        void run(int task);
    }

    /** Threads that work on a parallel loop, and so the number of pieces a per-thread split makes. */
    int threads() { return threads; }

    /** Runs body over [0, n) in chunks of at least {@code grain}; small ranges stay on this thread. */
    void forRange(int n, int grain, RangeBody body) {
        int chunks = Math.max(1, Math.min(n / Math.max(1, grain), 4 * threads));
        if (chunks == 1) {
            body.run(0, n);
            return;
        }
        forTasks(chunks, t -> body.run((int) ((long) n * t / chunks), (int) ((long) n * (t + 1) / chunks)));
    }

    /** Runs tasks 0 … n−1, in parallel when there is more than one. */
    void forTasks(int n, TaskBody body) {
        if (n == 1 || threads == 1) {
            for (int t = 0; t < n; t++) body.run(t);
        } else if (pool == null || ForkJoinTask.getPool() == pool) {
            // in the common pool, or already on one of this pool's workers (a loop inside a loop)
            IntStream.range(0, n).parallel().forEach(body::run);
        } else {
            // a parallel stream forks its tasks into the pool of the thread that starts it
            pool.invoke(ForkJoinTask.adapt(() -> IntStream.range(0, n).parallel().forEach(body::run)));
        }
    }
}
