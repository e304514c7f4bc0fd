package dev.activa.jmh;

import dev.activa.tensor.Tensor;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * FP32 conv2d through the public backend API, at the layer shapes of the models Activa trains:
 * ResNet-18 for CIFAR (batch 32) and the small-width Fashion-MNIST model. {@code layer} is
 * "N,C,H,K,R,stride,pad" (square images and kernels, W = H, S = R), or the same with colons,
 * which is how to name one on the command line: JMH splits {@code -p} values at commas
 * ({@code -p layer=32:16:28:16:3:1:1}); {@code report.py} parses either
 * to count 2·N·K·C·R·S·Ho·Wo flops for the forward pass and three times that for
 * {@link #forwardBackward} (forward, input gradient and weight gradient).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class Conv2dBench {
    @Param({
        "32,64,32,64,3,1,1",    // ResNet-18 layer1: 64→64 at 32×32
        "32,64,32,128,3,2,1",   // layer2's first conv: 64→128, stride 2, 32×32 → 16×16
        "32,64,32,128,1,2,0",   // layer2's 1×1 stride-2 shortcut
        "32,128,16,128,3,1,1",  // layer2: 128→128 at 16×16
        "32,256,8,256,3,1,1",   // layer3: 256→256 at 8×8
        "32,512,4,512,3,1,1",   // layer4: 512→512 at 4×4
        "32,16,28,16,3,1,1",    // Fashion-MNIST small-width model: 16→16 at 28×28
        "32,32,14,32,3,1,1",    // … and its second stage: 32→32 at 14×14
    })
    public String layer;

    private ConvPasses passes;

    @Setup(Level.Trial)
    public void setup() {
        passes = new ConvPasses(layer);
    }

    @Benchmark
    public Tensor forward() {
        return passes.forward();
    }

    /** One training step's convolution work: y, dL/dx and dL/dw. */
    @Benchmark
    public void forwardBackward(Blackhole bh) {
        bh.consume(passes.forward());
        bh.consume(passes.inputGradient());
        bh.consume(passes.weightGradient());
    }
}
