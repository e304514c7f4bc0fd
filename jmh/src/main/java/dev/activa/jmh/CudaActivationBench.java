package dev.activa.jmh;

import dev.activa.activation.Activation;
import dev.activa.backend.cuda.CudaBackend;
import dev.activa.backend.cuda.CudaStorage;
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
 * The CUDA backend's fused activation kernels, forward and backward, on 2^26 elements in FP32
 * and FP16, through the public backend API; run it with {@link CudaMemoryCopy}, the limit. Each
 * call ends with a device synchronize, so the time is the kernel's with its launch; the result
 * goes back to the caching allocator at once. {@code report.py} counts 2 tensors' bytes for the
 * forward (read x, write y) and 3 for the backward (read x and dy, write dx), and compares each
 * kernel's GB/s with the copy's of the same dtype in the same run (target: 85%).
 *
 * <p>Needs an NVIDIA GPU and the CUDA stack; without them the setup fails with what is missing.
 * On a GPU host without a JDK, {@code .ci/gpu-check}'s bench step runs it from the bundle.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CudaActivationBench {
    static final int ELEMENTS = 1 << 26;

    @Param({"relu", "elu", "swish", "mish", "tanhrelu", "nami"})
    public String name;

    @Param({"fp32", "fp16"})
    public String dtype;

    private CudaBackend cuda;
    private Activation act;
    private double[] params;
    private Tensor x, dy;

    @Setup(Level.Trial)
    public void setup() {
        cuda = CudaBackend.open();
        act = Activation.of(name);
        params = act.initialParameters();
        DType type = CudaMemoryCopy.dtype(dtype);
        SplittableRandom rng = new SplittableRandom(3);
        x = cuda.fromFloats(Data.random(rng, ELEMENTS, 4), type, ELEMENTS);
        dy = cuda.fromFloats(Data.random(rng, ELEMENTS), type, ELEMENTS);
        cuda.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (cuda != null) cuda.close();
    }

    @Benchmark
    public void forward() {
        Tensor y = cuda.activationForward(act, params, x, null);
        cuda.synchronize();
        ((CudaStorage) y.storage()).release();
    }

    @Benchmark
    public double backward() {
        var grad = cuda.activationBackward(act, params, x, null, dy);
        cuda.synchronize();
        ((CudaStorage) grad.dx().storage()).release();
        return grad.paramGrads().length == 0 ? 0 : grad.paramGrads()[0];
    }
}
