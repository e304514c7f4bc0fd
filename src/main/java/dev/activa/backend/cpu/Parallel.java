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
final class Parallel implements AutoCloseable {
    /** The common pool: threads are the cores, up to its parallelism plus the caller. */
    static final Parallel COMMON = new Parallel(null, Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(),
            ForkJoinPool.getCommonPoolParallelism() + 1)), false);

    /** The most workers a ForkJoinPool takes. */
    static final int MAX_THREADS = 0x7fff;

    /** The pool the loops run in (null: the common pool, or the caller alone when threads is 1). */
    private final ForkJoinPool pool;
    private final int threads;
    /** Whether the pool is this object's own, to shut down on close. */
    private final boolean owned;

    private Parallel(ForkJoinPool pool, int threads, boolean owned) {
        this.pool = pool;
        this.threads = threads;
        this.owned = owned;
    }

    /** Loops on the given pool, cut for its parallelism (a pool of 1: on the caller alone). */
    static Parallel on(ForkJoinPool pool) {
        return pool == ForkJoinPool.commonPool() ? COMMON : new Parallel(pool, pool.getParallelism(), false);
    }

    /** Loops on a new pool of {@code threads} workers (on the calling thread alone for 1). */
    static Parallel ofThreads(int threads) {
        if (threads < 1 || threads > MAX_THREADS)
            throw new IllegalArgumentException("cpu backend: threads must be from 1 to " + MAX_THREADS + ", got " + threads);
        return new Parallel(threads == 1 ? null : new ForkJoinPool(threads), threads, true);
    }

    private void requireOpen() {
        if (owned && pool != null && pool.isShutdown())
            throw new IllegalStateException("cpu backend: closed, its threads ended; make a new CpuBackend");
    }

    /** Shuts down a pool of this object's own (its workers end once idle); a given or common pool stays. */
    @Override
    public void close() {
        if (owned && pool != null) pool.shutdown();
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
        requireOpen();
        int chunks = Math.max(1, Math.min(n / Math.max(1, grain), 4 * threads));
        if (chunks == 1) {
            body.run(0, n);
            return;
        }
        forTasks(chunks, t -> body.run((int) ((long) n * t / chunks), (int) ((long) n * (t + 1) / chunks)));
    }

    /** Runs tasks 0 … n−1, in parallel when there is more than one. */
    void forTasks(int n, TaskBody body) {
        requireOpen();
        if (n == 1 || threads == 1) {
            for (int t = 0; t < n; t++) body.run(t);
            return;
        }
        // A parallel stream forks its tasks into the pool of the thread that starts it, or into the
        // common pool from a thread outside every pool; so a stream starts there directly, and
        // from anywhere else (another pool's worker included) through the target pool.
        ForkJoinPool target = pool != null ? pool : ForkJoinPool.commonPool();
        Runnable loop = () -> IntStream.range(0, n).parallel().forEach(body::run);
        ForkJoinPool current = ForkJoinTask.getPool();
        try {
            if (current == target || (current == null && pool == null)) loop.run();
            else target.invoke(ForkJoinTask.adapt(loop));
        } catch (RuntimeException e) {
            throw thrownByTheTask(e);
        } catch (Error e) {
            throw thrownByTheTask(e);
        }
    }

    /**
     * What a task threw on another thread: a fork-join join rethrows it as a new exception of the
     * same class with the original as its cause (its message the cause's toString, "java.lang.X:
     * " first), once per join on another thread up the stream's task tree; the caller gets the
     * original, with its own message.
     */
    @SuppressWarnings("unchecked") // each cause unwrapped is of e's own class
    private static <T extends Throwable> T thrownByTheTask(T e) {
        Throwable t = e;
        for (Throwable cause = t.getCause(); cause != null && cause.getClass() == t.getClass()
                && (t.getMessage() == null || t.getMessage().equals(cause.toString())); cause = t.getCause())
            t = cause;
        return (T) t;
    }
}
