package dev.activa.jmh;

import dev.activa.activation.Activation;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Each activation kernel next to a copy in the same seconds: every invocation runs the kernel
 * (into preallocated tensors, 2^24 elements, as {@link ActivationBench}'s {@code *Into}) and then
 * copies 2^24 floats on all cores, timing the two apart. On a shared host whose memory bandwidth
 * moves by tens of percent from one window to the next, the limit a kernel is compared with
 * should come from the same window: {@link MemoryCopy} runs in a fork of its own, minutes away.
 *
 * <p>The secondary results {@code kernelNanos}, {@code copyNanos} and {@code calls} (JMH aux
 * counters, summed per iteration) give the fraction: kernel bytes / kernelNanos over 8·2^24 /
 * copyNanos, the kernel credited 8 B/element forward and 12 backward; {@code report.py} prints it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class ActivationVsCopy {
    @Param({"relu", "elu", "swish", "mish", "tanhrelu", "nami"})
    public String name;

    private final CpuBackend cpu = new CpuBackend();
    private Activation act;
    private double[] params;
    private Tensor x, dy, y, dx, gradient;
    private float[] source, target;

    /** Time spent in each half of the invocations of one iteration. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Window {
        public long kernelNanos, copyNanos, calls;

        @Setup(Level.Iteration)
        public void clear() {
            kernelNanos = 0;
            copyNanos = 0;
            calls = 0;
        }

        void add(long kernel, long copy) {
            kernelNanos += kernel;
            copyNanos += copy;
            calls++;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        act = Activation.of(name);
        params = act.initialParameters();
        var t = ActivationBench.Tensors.of(cpu);
        x = t.x();
        dy = t.dy();
        y = t.y();
        dx = t.dx();
        gradient = cpu.zeros(DType.F32, ActivationBench.ELEMENTS);
        source = Data.random(new SplittableRandom(4), ActivationBench.ELEMENTS);
        target = new float[ActivationBench.ELEMENTS];
    }

    /** 2^24 floats copied on all cores, one contiguous share each: 8 B/element, read and write. */
    private void copy() {
        int threads = Runtime.getRuntime().availableProcessors(), n = source.length;
        IntStream.range(0, threads).parallel().forEach(t -> {
            int from = (int) ((long) n * t / threads), to = (int) ((long) n * (t + 1) / threads);
            System.arraycopy(source, from, target, from, to - from);
        });
    }

    @Benchmark
    public void forwardInto(Window w) {
        long t0 = System.nanoTime();
        cpu.activationForwardInto(act, params, x, null, y);
        long t1 = System.nanoTime();
        copy();
        w.add(t1 - t0, System.nanoTime() - t1);
    }

    /** dx over dy, dy refilled first (outside the kernel's time): see ActivationBench.Upstream. */
    @Benchmark
    public void backwardInPlace(Window w) {
        cpu.copy(gradient, dy);
        long t0 = System.nanoTime();
        cpu.activationBackwardInto(act, params, x, null, gradient, gradient);
        long t1 = System.nanoTime();
        copy();
        w.add(t1 - t0, System.nanoTime() - t1);
    }

    @Benchmark
    public void backwardInto(Window w) {
        long t0 = System.nanoTime();
        cpu.activationBackwardInto(act, params, x, null, dy, dx);
        long t1 = System.nanoTime();
        copy();
        w.add(t1 - t0, System.nanoTime() - t1);
    }
}
