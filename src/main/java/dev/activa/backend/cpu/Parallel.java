package dev.activa.backend.cpu;

import java.util.stream.IntStream;

/** Splits a range over the common fork-join pool (all cores, the caller included). */
final class Parallel {
    private Parallel() {}

    interface RangeBody {
        void run(int from, int to);
    }

    /** Runs body over [0, n) in chunks of at least {@code grain}; small ranges stay on this thread. */
    static void forRange(int n, int grain, RangeBody body) {
        int chunks = Math.max(1, Math.min(n / Math.max(1, grain), 4 * Runtime.getRuntime().availableProcessors()));
        if (chunks == 1) {
            body.run(0, n);
            return;
        }
        IntStream.range(0, chunks).parallel().forEach(t -> body.run((int) ((long) n * t / chunks),
                (int) ((long) n * (t + 1) / chunks)));
    }
}
