package dev.activa.jmh;

import dev.activa.backend.cuda.CudaBackend;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The GPU's bandwidth limit for {@link CudaActivationBench}: a device-to-device copy of 2^26
 * elements of the same dtype into a preallocated tensor, through the backend's copy, synchronized
 * after each call. {@code report.py} counts its bytes read and written (2 tensors).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CudaMemoryCopy {
    @Param({"fp32", "fp16"})
    public String dtype;

    private CudaBackend cuda;
    private Tensor source, target;

    static DType dtype(String name) {
        return switch (name) {
            case "fp32" -> DType.F32;
            case "fp16" -> DType.F16;
            default -> throw new IllegalArgumentException("dtype " + name + ": expected fp32 or fp16");
        };
    }

    @Setup(Level.Trial)
    public void setup() {
        cuda = CudaBackend.open();
        DType type = dtype(dtype);
        source = cuda.fromFloats(Data.random(new SplittableRandom(3), CudaActivationBench.ELEMENTS, 4), type,
                CudaActivationBench.ELEMENTS);
        target = cuda.zeros(type, CudaActivationBench.ELEMENTS);
        cuda.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (cuda != null) cuda.close();
    }

    @Benchmark
    public void copy() {
        cuda.copy(target, source);
        cuda.synchronize();
    }
}
