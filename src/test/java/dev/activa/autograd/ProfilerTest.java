package dev.activa.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.backend.Backend;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.nn.ResNet;
import dev.activa.optim.Sgd;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ProfilerTest {
    private final Backend cpu = new CpuBackend();

    private ResNet model() {
        return new ResNet(cpu, new ResNet.Config(18, 4, 1, 4, ResNet.Stem.CIFAR, "nami"), 3);
    }

    private Tensor images(int n) {
        var rng = new SplittableRandom(5);
        float[] v = new float[n * 16 * 16];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextGaussian();
        return cpu.fromFloats(v, DType.F32, n, 1, 16, 16);
    }

    private static void step(ResNet model, Sgd sgd, Tensor x) {
        Tensor loss = Ops.crossEntropy(model.forward(x), new int[] {0, 1, 2, 3}, 0);
        Profiler.time("zero grad", model::zeroGrad);
        loss.backward();
        Profiler.time("sgd step", () -> sgd.step(1));
    }

    private static Map<String, Profiler.Entry> byName(Profiler.Report r, boolean phases) {
        return r.entries().stream().filter(e -> e.phase() == phases)
                .collect(Collectors.toMap(Profiler.Entry::name, Function.identity()));
    }

    @Test
    void timesEveryOpOfAResNetStepForwardAndBackwardAndTheNamedPhases() {
        var model = model();
        var sgd = new Sgd(model.parameters(), Sgd.Options.defaults(0.01));
        Tensor x = images(4);
        step(model, sgd, x); // unprofiled: nothing may be recorded
        var profiler = new Profiler(cpu);
        assertTrue(profiler.report().entries().isEmpty());
        int steps = 3;
        for (int s = 0; s < steps; s++) {
            try (var _ = profiler.activate()) {
                step(model, sgd, x);
            }
        }
        var report = profiler.report();
        assertEquals(steps, report.steps());
        var ops = byName(report, false);
        long convs = model.parameters().stream().filter(p -> p.tensor().rank() == 4).count();
        var convolutions = ops.values().stream().filter(e -> e.name().startsWith("conv2d ")).toList();
        assertEquals(convs * steps, convolutions.stream().mapToLong(Profiler.Entry::forwardCalls).sum(),
                "one forward per convolution and step");
        assertEquals(convs * steps, convolutions.stream().mapToLong(Profiler.Entry::backwardCalls).sum(),
                "one backward per convolution and step");
        // each shape apart: the stem, 3×3 from 1 channel to 4 at 16×16; the first 1×1 shortcut, 4→8 at stride 2
        assertEquals(steps, ops.get("conv2d 3×3 1→4 s1 16×16").forwardCalls(), ops.keySet().toString());
        assertEquals(steps, ops.get("conv2d 1×1 4→8 s2 16×16").backwardCalls(), ops.keySet().toString());
        for (String op : new String[] {"batchnorm2d", "nami", "add+nami", "global_avg_pool", "linear",
                "cross_entropy"}) {
            var e = ops.get(op);
            assertNotNull(e, op + " missing from " + ops.keySet());
            assertEquals(e.forwardCalls(), e.backwardCalls(), op + ": a backward per forward");
            assertTrue(e.forwardMillis() > 0 && e.backwardMillis() > 0, op + ": " + e);
        }
        var phases = byName(report, true);
        assertEquals(steps, phases.get("sgd step").forwardCalls());
        assertEquals(steps, phases.get("zero grad").forwardCalls());
        assertNotNull(phases.get(Autograd.GRADIENT_SUMS), "the gradients summed in backward");
        assertTrue(report.coveredMillis() <= report.activeMillis() + 1e-9,
                report.coveredMillis() + " ms covered of " + report.activeMillis());
        // the most expensive first, and the table names each with its share
        for (int i = 1; i < report.entries().size(); i++)
            assertTrue(report.entries().get(i - 1).totalMillis() >= report.entries().get(i).totalMillis());
        assertNotNull(report.gcPauseMillis(), "this runtime has java.management");
        assertTrue(report.gcPauseMillis() >= 0 && report.gcPauseMillis() <= report.activeMillis(), report.toString());
        String table = report.table();
        assertTrue(table.startsWith("ms per step (3)"), table);
        assertTrue(table.contains("[sgd step]") && table.contains("add+nami") && table.contains("(between ops)")
                && table.contains("(GC pauses, within the above)"), table);
    }

    @Test
    void timesOnlyWhileActiveAndOnlyItsOwnThread() throws Exception {
        var profiler = new Profiler(cpu);
        Tensor a = cpu.full(DType.F32, 1, 8), b = cpu.full(DType.F32, 2, 8);
        Ops.add(a, b);
        try (var _ = profiler.activate()) {
            Ops.add(a, b);
            CompletableFuture.runAsync(() -> Ops.add(a, b)).get(); // another thread's op
        }
        Ops.add(a, b);
        var add = byName(profiler.report(), false).get("add");
        assertEquals(1, add.forwardCalls());
        assertEquals(0, add.backwardCalls(), "nothing required a gradient");
        assertEquals(1, profiler.report().steps());
    }

    @Test
    void leavesTheWarmUpActivationsUntimedAndCountsThemApart() {
        var profiler = new Profiler(cpu);
        Tensor a = cpu.full(DType.F32, 1, 8), b = cpu.full(DType.F32, 2, 8);
        profiler.leaveOut(2);
        for (int step = 0; step < 2; step++) {
            try (var _ = profiler.activate()) {
                assertTrue(Profiler.isActive(), "a warm-up step is active, as any other");
                assertEquals(Thread.currentThread(), profiler.activeThread());
                assertThrows(IllegalStateException.class, profiler::activate, "one profiler, one thread, warm-up or not");
                Ops.add(a, b);
                Profiler.time("sgd step", () -> Ops.add(a, b));
            }
        }
        try (var _ = profiler.activate()) {
            assertTrue(Profiler.isActive());
            Ops.add(a, b);
        }
        var report = profiler.report();
        assertEquals(1, report.steps());
        assertEquals(2, report.warmupSteps());
        assertEquals(1, byName(report, false).get("add").forwardCalls(), "only the timed step's add");
        assertNull(byName(report, true).get("sgd step"), "nor a warm-up step's phases");
        String table = report.table();
        assertTrue(table.startsWith("ms per step (1 of 3)") && table.contains("(the first 2 steps not timed: warm-up"), table);
        assertThrows(IllegalArgumentException.class, () -> profiler.leaveOut(-1));
    }

    @Test
    void aPhaseRunsItsWorkWhetherOrNotAProfilerIsActive() {
        var runs = new AtomicInteger();
        assertEquals(7, Profiler.time("outside", () -> 7));
        Profiler.time("outside", runs::incrementAndGet);
        var profiler = new Profiler(cpu);
        try (var _ = profiler.activate()) {
            assertEquals(8, Profiler.time("inside", () -> 8));
            Profiler.time("inside", runs::incrementAndGet);
        }
        assertEquals(2, runs.get());
        var phases = byName(profiler.report(), true);
        assertEquals(java.util.Set.of("inside"), phases.keySet());
        assertEquals(2, phases.get("inside").forwardCalls());
    }

    @Test
    void opsWithinAPhaseCountOnceAsThePhase() {
        var profiler = new Profiler(cpu);
        Tensor a = cpu.full(DType.F32, 1, 1 << 16);
        try (var _ = profiler.activate()) {
            Profiler.time("outer", () -> {
                for (int i = 0; i < 20; i++) Ops.scale(a, 2);
                Profiler.time("inner", () -> Ops.add(a, a));
            });
            Ops.add(a, a);
        }
        var report = profiler.report();
        assertEquals(java.util.Set.of("outer"), byName(report, true).keySet());
        assertEquals(java.util.Set.of("add"), byName(report, false).keySet());
        assertEquals(1, byName(report, false).get("add").forwardCalls());
        assertTrue(report.coveredMillis() <= report.activeMillis(), report.toString());
    }

    /** The message of the IllegalStateException that {@code action} throws on another thread ("none" if none). */
    private static String messageOnAnotherThread(Runnable action) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                action.run();
                return "none";
            } catch (IllegalStateException e) {
                return e.getMessage();
            }
        }).get();
    }

    @Test
    void aScopeClosesOnceAndOnItsOwnThread() throws Exception {
        var profiler = new Profiler(cpu);
        var scope = profiler.activate();
        String elsewhere = messageOnAnotherThread(scope::close);
        assertTrue(elsewhere.contains("closes on the thread that opened it"), elsewhere);
        scope.close();
        scope.close();
        assertEquals(1, profiler.report().steps());
        try (var _ = new Profiler(cpu).activate()) {
            scope.close(); // a second close must not end another profiler's scope
            assertTrue(Profiler.isActive());
        }
        assertTrue(!Profiler.isActive());
    }

    /** A backend whose synchronize() fails while {@code failing} is set, as a GPU reports an earlier kernel's error. */
    private Backend failingOnSynchronize(java.util.concurrent.atomic.AtomicBoolean failing) {
        return (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("synchronize") && failing.get())
                        throw new IllegalStateException("an earlier kernel failed");
                    try {
                        return method.invoke(cpu, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void aFailingClockLeavesNeitherTheThreadNorTheProfilerTaken() {
        var failing = new java.util.concurrent.atomic.AtomicBoolean(true);
        var profiler = new Profiler(failingOnSynchronize(failing));
        assertThrows(IllegalStateException.class, profiler::activate);
        assertTrue(!Profiler.isActive(), "the thread is free after a failed activation");
        failing.set(false);
        var scope = profiler.activate();
        failing.set(true);
        assertThrows(IllegalStateException.class, scope::close);
        assertTrue(!Profiler.isActive(), "the thread is free after a failed close");
        failing.set(false);
        try (var _ = profiler.activate()) {
            Ops.add(cpu.zeros(DType.F32, 2), cpu.zeros(DType.F32, 2));
        }
        assertEquals(2, profiler.report().steps());
    }

    @Test
    void countsTheGarbageCollectorsPausesWhileActive() {
        var profiler = new Profiler(cpu);
        try (var _ = profiler.activate()) {
            var keep = new java.util.ArrayList<float[]>();
            for (int i = 0; i < 16; i++) keep.add(new float[1 << 21]);
            System.gc(); // a full collection, with 128 MB to look at
            assertEquals(16, keep.size());
        }
        assertTrue(profiler.report().gcPauseMillis() > 0, profiler.report().toString());
    }

    @Test
    void aScopeClosedWithinAPhaseLeavesTheNextActivationCountingRight() {
        var profiler = new Profiler(cpu);
        Tensor a = cpu.full(DType.F32, 1, 8);
        var scope = profiler.activate();
        Profiler.time("closing", scope::close);
        try (var _ = profiler.activate()) {
            Profiler.time("phase", () -> Ops.add(a, a));
            Ops.add(a, a);
        }
        assertEquals(1, byName(profiler.report(), false).get("add").forwardCalls(), "the add within the phase is the phase's");
    }

    @Test
    void aClockThatFailsAfterTheWorkFailedRidesOnTheWorksException() {
        var failing = new java.util.concurrent.atomic.AtomicBoolean(false);
        var profiler = new Profiler(failingOnSynchronize(failing));
        var scope = profiler.activate();
        var e = assertThrows(IllegalArgumentException.class, () -> Profiler.time("phase", () -> {
            failing.set(true);
            throw new IllegalArgumentException("the work's own failure");
        }));
        assertEquals("the work's own failure", e.getMessage());
        assertEquals(1, e.getSuppressed().length);
        assertTrue(e.getSuppressed()[0].getMessage().contains("an earlier kernel failed"));
        failing.set(false);
        scope.close();
        assertTrue(!Profiler.isActive());
    }

    @Test
    void oneProfilerPerThreadAndOneThreadPerProfilerAndAFailedStepClosesItsScope() throws Exception {
        var profiler = new Profiler(cpu);
        try (var _ = profiler.activate()) {
            var again = assertThrows(IllegalStateException.class, profiler::activate);
            assertEquals("profiler: already active on this thread", again.getMessage());
            var other = assertThrows(IllegalStateException.class, () -> new Profiler(cpu).activate());
            assertTrue(other.getMessage().contains("another profiler"), other.getMessage());
            String elsewhere = messageOnAnotherThread(profiler::activate);
            assertTrue(elsewhere.contains("already active on thread " + Thread.currentThread().getName()), elsewhere);
        }
        assertThrows(IllegalArgumentException.class, () -> {
            try (var _ = profiler.activate()) {
                Ops.add(cpu.zeros(DType.F32, 2), cpu.zeros(DType.F32, 3));
            }
        });
        try (var _ = profiler.activate()) {
            Ops.scale(cpu.zeros(DType.F32, 2), 2);
        }
        assertEquals(3, profiler.report().steps());
    }
}
