package dev.activa.jmh;

import dev.activa.backend.Backend.BatchNormForward;
import dev.activa.backend.Backend.BatchNormGrad;
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
 * FP32 batch norm in training mode through the public backend API, at the quick start's shapes
 * (batch 128, ResNet-18 at width 16 on 28 × 28) and ResNet-18's on CIFAR (batch 32); {@code layer}
 * = {@code N,C,H} (colons on the command line). {@code forward} is {@code batchNormTrain}: the
 * batch statistics, the running ones, and y in a new tensor, as a training step allocates it.
 * {@code backward} is {@code batchNormBackwardOverDy}: dx written over dy, as training's backward
 * does, dy refilled before every call, untimed (and so still in the caches). {@code report.py}
 * credits the bytes a call must move, 12 an element forward (read x for the statistics, read it
 * again and write y) and 20 backward (read x and dy for the sums, again for dx, and write dx),
 * against {@link MemoryCopy}'s bandwidth. The kernels move more: the statistics read x twice (the
 * mean, then the deviations, from the caches where a channel fits), and the JVM zeroes the new y
 * first. A tensor of the late layers fits in the caches, so its fraction can pass 100%.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class BatchNormBench {
    @Param({"128:16:28", "128:32:14", "128:64:7", "128:128:4", "32:64:32", "32:128:16", "32:256:8", "32:512:4"})
    public String layer;

    private final CpuBackend cpu = new CpuBackend();
    private Tensor x, gamma, beta, runningMean, runningVar, dy, savedMean, savedInvStd;

    @Setup(Level.Trial)
    public void setup() {
        String[] f = layer.split("[,:]");
        int n = Integer.parseInt(f[0]), c = Integer.parseInt(f[1]), h = Integer.parseInt(f[2]);
        SplittableRandom rng = new SplittableRandom(4);
        x = cpu.fromFloats(Data.random(rng, n * c * h * h, 2), DType.F32, n, c, h, h);
        dy = cpu.fromFloats(Data.random(rng, n * c * h * h), DType.F32, n, c, h, h);
        gamma = cpu.full(DType.F32, 1, c);
        beta = cpu.zeros(DType.F32, c);
        runningMean = cpu.zeros(DType.F32, c);
        runningVar = cpu.full(DType.F32, 1, c);
        BatchNormForward out = cpu.batchNormTrain(x, gamma, beta, runningMean, runningVar, 0.1, 1e-5);
        savedMean = out.savedMean();
        savedInvStd = out.savedInvStd();
    }

    @Benchmark
    public BatchNormForward forward() {
        return cpu.batchNormTrain(x, gamma, beta, runningMean, runningVar, 0.1, 1e-5);
    }

    /** The upstream gradient the backward overwrites, refilled from dy before every call, untimed. */
    @State(Scope.Thread)
    public static class Upstream {
        Tensor gradient;
        private CpuBackend cpu;
        private Tensor fresh;

        @Setup(Level.Trial)
        public void setup(BatchNormBench bench) {
            cpu = bench.cpu;
            fresh = bench.dy;
            gradient = cpu.zeros(DType.F32, fresh.shape());
        }

        @Setup(Level.Invocation)
        public void refill() {
            cpu.copy(gradient, fresh);
        }
    }

    @Benchmark
    public BatchNormGrad backward(Upstream upstream) {
        return cpu.batchNormBackwardOverDy(x, upstream.gradient, gamma, savedMean, savedInvStd);
    }
}
