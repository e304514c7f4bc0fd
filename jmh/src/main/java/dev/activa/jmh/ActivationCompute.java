package dev.activa.jmh;

import dev.activa.activation.Activation;
import dev.activa.activation.FloatBlock;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What each activation kernel costs in arithmetic alone: one thread, {@value #ELEMENTS} elements
 * that stay in L1, so memory is out of the picture. One operation is one element; {@code report.py}
 * shows ns per 16-lane vector next to what the copy bandwidth allows a core per vector, which is
 * what decides how close {@link ActivationBench} can come to {@link MemoryCopy}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class ActivationCompute {
    static final int ELEMENTS = 4096;

    @Param({"relu", "elu", "swish", "mish", "tanhrelu", "nami"})
    public String name;

    private Activation act;
    private float[] params, x, dy, out;
    private FloatBlock block;

    @Setup(Level.Trial)
    public void setup() {
        act = Activation.of(name);
        double[] p = act.initialParameters();
        params = new float[p.length];
        for (int k = 0; k < p.length; k++) params[k] = (float) p[k];
        SplittableRandom rng = new SplittableRandom(3);
        x = Data.random(rng, ELEMENTS, 4);
        dy = Data.random(rng, ELEMENTS);
        out = new float[ELEMENTS];
        block = new FloatBlock(p.length);
    }

    @Benchmark
    @OperationsPerInvocation(ELEMENTS)
    public float[] forward() {
        block.forward(act, params, x, null, out, 0, ELEMENTS);
        return out;
    }

    @Benchmark
    @OperationsPerInvocation(ELEMENTS)
    public float[] backward() {
        block.backward(act, params, x, null, dy, out, 0, ELEMENTS);
        return out;
    }
}
