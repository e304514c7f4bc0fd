package dev.activa.autograd;

import dev.activa.backend.Backend;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Where a training step's time goes: each op's forward and backward time (batchnorm2d, nami,
 * add+nami, …, and each shape of convolution apart: "conv2d 3×3 16→32 s2 28×28", kernel, input →
 * output channels, stride, input height × width), and phases outside the graph that the caller
 * names (the optimiser step, waiting for data). For a researcher weighing an activation, the share
 * of the step it costs.
 *
 * <p>It times only while active on the thread that runs the ops, so that a service can profile
 * one training among several, and evaluation in between stays out:
 * <pre>{@code
 * var profiler = new Profiler(backend);
 * try (var _ = profiler.activate()) { ...forward, backward, optimiser step... }
 * System.out.print(profiler.report().table());
 * }</pre>
 * On a GPU, work is queued and runs later, so the profiler waits for the device before each
 * reading of the clock ({@link Backend#synchronize}): the figures are then each op's own, but the
 * steps run slower than unprofiled ones, as the queue never fills. It waits for the backend it was
 * made with: ops on another one are timed as their calls return.
 */
public final class Profiler {
    private static final ThreadLocal<Profiler> ACTIVE = new ThreadLocal<>();
    /** What {@link #begin} returns while no profiler is active. */
    static final long OFF = Long.MIN_VALUE;
    private static final int FORWARD = 0, BACKWARD = 2, PHASE = 4;

    private final Backend backend;
    // op or phase → nanoseconds and calls, forward, backward and as a phase, in order of first sight
    private final Map<String, long[]> times = new LinkedHashMap<>();
    private long activeNanos, activations, gcPauseMillis;
    private long toLeaveOut, leftOut; // activations still to leave untimed, and those left so far
    private Thread owner;
    private int phaseDepth; // phases open on the owner thread: ops within one are the phase's time
    private boolean warmingUp; // the owner thread's activation is one left out: nothing is timed

    public Profiler(Backend backend) {
        this.backend = backend;
    }

    /**
     * Times this thread's ops until the scope closes; the time between activations is not counted.
     * A trainer activates it once per step. A profiler is active on one thread at a time, and a
     * thread has one active profiler at a time; the scope closes on the thread that opened it.
     */
    public Autograd.Scope activate() {
        Profiler current = ACTIVE.get();
        if (current != null)
            throw new IllegalStateException(current == this ? "profiler: already active on this thread"
                    : "profiler: another profiler is already active on this thread; close its scope first");
        long gcStart = GcPauses.millis();
        long start = clock(); // before any state changes: on a GPU it may throw, reporting an earlier failure
        Thread opener = Thread.currentThread();
        boolean warmup;
        synchronized (this) {
            if (owner != null)
                throw new IllegalStateException("profiler: already active on thread " + owner.getName()
                        + "; a profiler times one thread at a time");
            owner = opener;
            warmup = toLeaveOut > 0;
            if (warmup) toLeaveOut--;
        }
        ACTIVE.set(this);
        phaseDepth = 0;
        warmingUp = warmup; // active, so that the rules above hold, but timing nothing
        return new Autograd.Scope() {
            private boolean closed; // guarded by the profiler

            @Override
            public void close() {
                synchronized (Profiler.this) {
                    if (closed) return;
                    if (Thread.currentThread() != opener)
                        throw new IllegalStateException("profiler: a scope closes on the thread that opened it, "
                                + opener.getName() + ", not " + Thread.currentThread().getName());
                    closed = true;
                }
                long end = System.nanoTime();
                try {
                    end = clock();
                } finally {
                    ACTIVE.remove();
                    phaseDepth = 0;
                    long gcEnd = GcPauses.millis();
                    synchronized (Profiler.this) {
                        if (warmup) {
                            leftOut++;
                        } else {
                            activeNanos += end - start;
                            activations++;
                            gcPauseMillis += gcEnd - gcStart;
                        }
                        owner = null;
                    }
                }
            }
        };
    }

    /**
     * Leaves the next {@code activations} activations untimed: a run's first steps, while the JIT
     * compiles the kernels (and on a GPU convolution algorithms are searched), cost several times
     * what its later steps do, and would be counted into every op's average. The report counts
     * them apart ({@link Report#warmupSteps}). Such an activation is active all the same (one
     * thread, one profiler), it only times nothing. Replaces an earlier call's count of those not
     * yet left out; 0 cancels it.
     */
    public synchronized void leaveOut(long activations) {
        if (activations < 0) throw new IllegalArgumentException("profiler: cannot leave out " + activations + " activations");
        toLeaveOut = activations;
    }

    /** The thread this profiler is active on, or null between activations. */
    public synchronized Thread activeThread() {
        return owner;
    }

    /**
     * Runs {@code work}, counting its time as {@code phase} if a profiler is active on this thread.
     * Ops and phases within it are not counted apart: its time is counted once, as the phase's.
     */
    public static <T> T time(String phase, Supplier<T> work) {
        Profiler p = ACTIVE.get();
        long start = begin();
        if (start == OFF) return work.get();
        p.phaseDepth++;
        T result;
        try {
            result = work.get();
        } catch (RuntimeException | Error failure) {
            closePhase(p, phase, start, failure);
            throw failure;
        }
        closePhase(p, phase, start, null);
        return result;
    }

    /** Closes a phase that {@link #time} opened; a failure of the clock then rides on the work's own, if any. */
    private static void closePhase(Profiler p, String phase, long start, Throwable failure) {
        if (p.phaseDepth > 0) p.phaseDepth--; // 0 where the work closed the activation itself
        try {
            end(phase, PHASE, start);
        } catch (RuntimeException clock) {
            if (failure == null) throw clock;
            failure.addSuppressed(clock);
        }
    }

    /** {@link #time(String, Supplier)} for work without a result. */
    public static void time(String phase, Runnable work) {
        time(phase, () -> {
            work.run();
            return null;
        });
    }

    /** Whether a profiler is active on this thread. */
    public static boolean isActive() {
        return ACTIVE.get() != null;
    }

    /** The clock before an op, or {@link #OFF} when no profiler is active on this thread, or a phase is open. */
    static long begin() {
        Profiler p = ACTIVE.get();
        return p == null || p.phaseDepth > 0 || p.warmingUp ? OFF : p.clock();
    }

    static void endForward(String op, long start) {
        end(op, FORWARD, start);
    }

    static void endBackward(String op, long start) {
        end(op, BACKWARD, start);
    }

    static void endPhase(String phase, long start) {
        end(phase, PHASE, start);
    }

    private static void end(String name, int slot, long start) {
        Profiler p = ACTIVE.get();
        if (p != null && start != OFF) p.add(name, slot, p.clock() - start);
    }

    private long clock() {
        backend.synchronize();
        return System.nanoTime();
    }

    private synchronized void add(String name, int slot, long nanos) {
        long[] t = times.computeIfAbsent(name, k -> new long[6]);
        t[slot] += nanos;
        t[slot + 1]++;
    }

    /**
     * What has been timed so far, the most expensive first. Between activations it is consistent;
     * read during one (from another thread), it holds that step's ops so far but not its time.
     */
    public synchronized Report report() {
        var entries = new ArrayList<Entry>();
        times.forEach((name, t) -> {
            if (t[1] + t[3] > 0) entries.add(new Entry(name, false, t[0] / 1e6, t[1], t[2] / 1e6, t[3]));
            if (t[5] > 0) entries.add(new Entry(name, true, t[4] / 1e6, t[5], 0, 0));
        });
        entries.sort(Comparator.comparingDouble(Entry::totalMillis).reversed());
        return new Report(activations, leftOut, activeNanos / 1e6, GcPauses.AVAILABLE ? (double) gcPauseMillis : null, entries);
    }

    /**
     * One op's time in milliseconds, summed over its calls, forward and backward; or a phase's
     * ({@code phase} true), its time counted as forward.
     */
    public record Entry(String name, boolean phase, double forwardMillis, long forwardCalls, double backwardMillis,
                        long backwardCalls) {
        public double totalMillis() { return forwardMillis + backwardMillis; }
    }

    /**
     * The JVM's stop-the-world collections, in milliseconds since it started, as its collectors
     * report them (their concurrent cycles left out). Where the runtime lacks java.management (the
     * product bundle's jlink runtime, {@code -Pdist}), none: {@link #AVAILABLE} is false.
     */
    private static final class GcPauses {
        static final boolean AVAILABLE = ModuleLayer.boot().findModule("java.management").isPresent();

        static long millis() {
            if (!AVAILABLE) return 0;
            long total = 0;
            for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
                String name = gc.getName();
                // ZGC's and Shenandoah's "… Cycles" run beside the program; their "… Pauses" stop
                // it. G1's "Concurrent GC" counts its remark and cleanup pauses, which stop it too.
                if (!name.endsWith("Cycles")) total += Math.max(0, gc.getCollectionTime());
            }
            return total;
        }
    }

    /**
     * The profile: how often the profiler was activated ({@code steps}: a trainer activates it
     * once per step) and timed, how many activations before those it left untimed
     * ({@code warmupSteps}, {@link #leaveOut}), for how long in all it timed ({@code activeMillis}), and each op's and phase's share
     * of that; what no entry covers (bookkeeping between ops) is the rest. {@code gcPauseMillis}:
     * the JVM's garbage-collection pauses while it was active, which lie within those times (an op
     * that allocates waits for them), whichever thread's allocations caused them, so profiles of
     * trainings side by side count the same pauses; null where the runtime cannot tell (no
     * java.management).
     */
    public record Report(long steps, long warmupSteps, double activeMillis, Double gcPauseMillis, List<Entry> entries) {
        public Report {
            entries = List.copyOf(entries);
        }

        public double coveredMillis() {
            return entries.stream().mapToDouble(Entry::totalMillis).sum();
        }

        /** A plain-text table: per step, each op's forward and backward time, then the phases, the rest and the total. */
        public String table() {
            double per = Math.max(1, steps);
            String counted = warmupSteps == 0 ? "(" + steps + ")" : "(" + steps + " of " + (steps + warmupSteps) + ")";
            var s = new StringBuilder(String.format(Locale.ROOT, "%-28s %11s %11s %11s %7s%n",
                    "ms per step " + counted, "forward", "backward", "total", "share"));
            for (Entry e : entries) {
                String forward = e.phase() ? "" : String.format(Locale.ROOT, "%.2f", e.forwardMillis() / per);
                String backward = e.phase() ? "" : String.format(Locale.ROOT, "%.2f", e.backwardMillis() / per);
                s.append(String.format(Locale.ROOT, "%-28s %11s %11s %11.2f %6.1f%%%n", e.phase() ? "[" + e.name() + "]"
                        : e.name(), forward, backward, e.totalMillis() / per, share(e.totalMillis())));
            }
            double rest = Math.max(0, activeMillis - coveredMillis());
            s.append(String.format(Locale.ROOT, "%-28s %11s %11s %11.2f %6.1f%%%n", "(between ops)", "", "", rest / per,
                    share(rest)));
            s.append(String.format(Locale.ROOT, "%-28s %11s %11s %11.2f%n", "step", "", "", activeMillis / per));
            if (gcPauseMillis != null)
                s.append(String.format(Locale.ROOT, "%-28s %11s %11s %11.2f %6.1f%%%n", "(GC pauses, within the above)",
                        "", "", gcPauseMillis / per, share(gcPauseMillis)));
            if (warmupSteps > 0)
                s.append(warmupSteps == 1 ? "(the first step" : "(the first " + warmupSteps + " steps")
                        .append(" not timed: warm-up, the JIT compiling)\n");
            return s.toString();
        }

        private double share(double millis) {
            return activeMillis > 0 ? 100 * millis / activeMillis : 0;
        }
    }
}
