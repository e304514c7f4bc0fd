package dev.activa.jmh;

import dev.activa.activation.Activation;
import dev.activa.backend.Backend;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
 * FP32 activation forward and backward on 2^24 elements (64 MiB a tensor, past the caches)
 * through the public backend API. These kernels should be bound by memory: {@code report.py}
 * counts 8 bytes per element for the forward pass (read x, write y) and 12 for the backward
 * (read x and dy, write dx) and compares the rate with {@link MemoryCopy}'s. {@code *Into} write
 * into preallocated tensors, as the copy does; {@code forward}/{@code backward} also allocate
 * their result. {@code backwardInPlace} writes dx over dy, as a training step's backward does
 * wherever no other op reads dy (see {@code Autograd}): no output line is fetched before it is
 * written, since the kernel has just read it.
 *
 * <p>{@code profile=mixed} first runs every activation through the kernels (on small tensors,
 * before the measured one is warmed up), as a process that trains or plots several activations
 * does. The kernels' call sites into {@link Activation} then have seen six receiver classes, a
 * megamorphic profile; {@code mono} is a process that only ever saw the measured one.
 *
 * <p>{@code gelu-defined} is GELU (tanh form) made with {@link Activation#define} from its
 * formulas in double, as a user adds an activation: the engine's tables from 8 lanes, each element
 * in double below.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class ActivationBench {
    static final int ELEMENTS = 1 << 24;

    @Param({"relu", "elu", "swish", "mish", "tanhrelu", "nami", "gelu-defined"})
    public String name;

    private static final double C = Math.sqrt(2 / Math.PI);
    static final Activation DEFINED_GELU = Activation.define("gelu",
            (x, p) -> 0.5 * x * (1 + Math.tanh(C * (x + 0.044715 * x * x * x))),
            (x, p) -> {
                double t = Math.tanh(C * (x + 0.044715 * x * x * x));
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * 0.044715 * x * x);
            });

    @Param({"mono", "mixed"})
    public String profile;

    private final CpuBackend cpu = new CpuBackend();
    private Activation act;
    private double[] params;
    private Tensor x, dy, y, dx;

    /** What every activation benchmark works on: x in [−4, 4), dy in [−1, 1) (seed 3), and preallocated y, dx. */
    record Tensors(Tensor x, Tensor dy, Tensor y, Tensor dx) {
        static Tensors of(CpuBackend cpu) {
            SplittableRandom rng = new SplittableRandom(3);
            return new Tensors(cpu.fromFloats(Data.random(rng, ELEMENTS, 4), DType.F32, ELEMENTS),
                    cpu.fromFloats(Data.random(rng, ELEMENTS), DType.F32, ELEMENTS),
                    cpu.zeros(DType.F32, ELEMENTS), cpu.zeros(DType.F32, ELEMENTS));
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        if (profile.equals("mixed")) pollute(cpu);
        act = name.equals("gelu-defined") ? DEFINED_GELU : Activation.of(name);
        params = act.initialParameters();
        var t = Tensors.of(cpu);
        x = t.x();
        dy = t.dy();
        y = t.y();
        dx = t.dx();
    }

    /** Every activation forward and backward, often enough for the JIT to profile and compile the kernels. */
    static void pollute(Backend backend) {
        int n = 1 << 16;
        SplittableRandom rng = new SplittableRandom(4);
        Tensor x = backend.fromFloats(Data.random(rng, n, 4), DType.F32, n);
        Tensor dy = backend.fromFloats(Data.random(rng, n), DType.F32, n);
        for (int round = 0; round < 200; round++)
            for (String name : Activation.NAMES) {
                Activation a = Activation.of(name);
                double[] p = a.initialParameters();
                backend.activationForward(a, p, x, null);
                backend.activationBackward(a, p, x, null, dy);
            }
    }

    /** The API call that allocates its result (the JVM zeroes it first: see ResultAllocation). */
    @Benchmark
    public Tensor forward() {
        return cpu.activationForward(act, params, x, null);
    }

    @Benchmark
    public Backend.ActivationGrad backward() {
        return cpu.activationBackward(act, params, x, null, dy);
    }

    /** The kernel alone, into a preallocated tensor: what MemoryCopy is compared with. */
    @Benchmark
    public Tensor forwardInto() {
        return cpu.activationForwardInto(act, params, x, null, y);
    }

    @Benchmark
    public double[] backwardInto() {
        return cpu.activationBackwardInto(act, params, x, null, dy, dx);
    }

    /**
     * The upstream gradient an in-place backward overwrites, refilled from dy before every call,
     * untimed: run over its own output again, a kernel would shrink it call by call towards
     * subnormal numbers. The refill is System.arraycopy (CpuBackend.copy), whose non-temporal
     * stores leave the gradient out of the caches.
     */
    @State(Scope.Thread)
    public static class Upstream {
        Tensor gradient;
        private CpuBackend cpu;
        private Tensor fresh;

        @Setup(Level.Trial)
        public void setup(ActivationBench bench) {
            cpu = bench.cpu;
            fresh = bench.dy;
            gradient = cpu.zeros(DType.F32, ELEMENTS);
        }

        @Setup(Level.Invocation)
        public void refill() {
            cpu.copy(gradient, fresh);
        }
    }

    @Benchmark
    public double[] backwardInPlace(Upstream upstream) {
        return cpu.activationBackwardInto(act, params, x, null, upstream.gradient, upstream.gradient);
    }
}
