package dev.activa.jmh;

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
 * FP32 matmul through the public backend API: C[M, N] = A[M, K] · B[K, N], one call per
 * operation on all cores (the backend parallelises internally). The shape is "MxNxK": square
 * ones and the GEMMs ResNet's 3×3 convolutions become under im2col (M = output channels,
 * N = batch·Ho·Wo, K = C·3·3). {@code report.py} turns the time into 2·M·N·K flops per op.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class SgemmBench {
    @Param({"512x512x512", "1024x1024x1024", "64x8192x576", "128x2048x1152", "256x512x2304", "512x128x4608"})
    public String shape;

    private final CpuBackend cpu = new CpuBackend();
    private Tensor a, b;

    @Setup(Level.Trial)
    public void setup() {
        String[] d = shape.split("x");
        int m = Integer.parseInt(d[0]), n = Integer.parseInt(d[1]), k = Integer.parseInt(d[2]);
        SplittableRandom rng = new SplittableRandom(1);
        a = cpu.fromFloats(Data.random(rng, m * k), DType.F32, m, k);
        b = cpu.fromFloats(Data.random(rng, k * n), DType.F32, k, n);
    }

    @Benchmark
    public Tensor matmul() {
        return cpu.matmul(a, b, false, false);
    }
}
