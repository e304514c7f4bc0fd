package dev.activa.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/** Splits a range over the common fork-join pool (all cores, the caller included). */
final class Parallel {
    private Parallel() {}

    interface RangeBody {
        void run(int from, int to);
    }

    interface TaskBody {
        void run(int task);
    }

    /** Threads that work on a parallel loop: the common pool's workers and the caller. */
    static int threads() {
        return Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(),
                ForkJoinPool.getCommonPoolParallelism() + 1));
    }

    /** Runs body over [0, n) in chunks of at least {@code grain}; small ranges stay on this thread. */
    static void forRange(int n, int grain, RangeBody body) {
        int chunks = Math.max(1, Math.min(n / Math.max(1, grain), 4 * threads()));
        if (chunks == 1) {
            body.run(0, n);
            return;
        }
        IntStream.range(0, chunks).parallel().forEach(t -> body.run((int) ((long) n * t / chunks),
                (int) ((long) n * (t + 1) / chunks)));
    }

    /** Runs tasks 0 … n−1, in parallel when there is more than one. */
    static void forTasks(int n, TaskBody body) {
        if (n == 1) {
            body.run(0);
            return;
        }
        IntStream.range(0, n).parallel().forEach(body::run);
    }
}
