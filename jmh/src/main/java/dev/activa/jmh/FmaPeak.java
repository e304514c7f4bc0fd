package dev.activa.jmh;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The FP32 FMA peak that Java reaches here: the compute limit the SGEMM and convolution figures
 * are measured against. Every thread ({@code @Threads(MAX)}: one per available processor) runs
 * {@value #ACC} independent {@link FloatVector} accumulators of {@code SPECIES_PREFERRED}, so no
 * FMA waits on another's latency and only the FMA ports' throughput limits the loop: 12 cover
 * two pipes of 4-cycle FMAs, and with the two operands they fit AVX2's 16 registers (16
 * accumulators, as before 2026-12-06, spilled there and understated the peak).
 *
 * <p>One JMH operation is one floating-point operation (an FMA counts 2): the loop runs
 * {@code FLOPS / (2 · ACC · lanes)} times so that every invocation does exactly {@value #FLOPS}
 * flops whatever the vector width, and {@code @OperationsPerInvocation(FLOPS)} makes the score
 * FLOP/s. With {@code @Threads(MAX)} JMH sums the threads' scores, so the score is the whole
 * machine's: <b>GFLOP/s = score (ops/s) / 1e9</b>.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Threads(Threads.MAX)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class FmaPeak {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int ACC = 12;
    /** Flops per invocation: 3·2^23, so that the loop count, 2^20 / lanes, is whole for any vector width. */
    static final int FLOPS = 3 << 23;

    float a = 1.000001f, b = 0.999999f;

    @Benchmark
    @OperationsPerInvocation(FLOPS)
    public float fma() {
        FloatVector va = FloatVector.broadcast(S, a), vb = FloatVector.broadcast(S, b);
        FloatVector c0 = FloatVector.broadcast(S, 0f), c1 = FloatVector.broadcast(S, 1f);
        FloatVector c2 = FloatVector.broadcast(S, 2f), c3 = FloatVector.broadcast(S, 3f);
        FloatVector c4 = FloatVector.broadcast(S, 4f), c5 = FloatVector.broadcast(S, 5f);
        FloatVector c6 = FloatVector.broadcast(S, 6f), c7 = FloatVector.broadcast(S, 7f);
        FloatVector c8 = FloatVector.broadcast(S, 8f), c9 = FloatVector.broadcast(S, 9f);
        FloatVector c10 = FloatVector.broadcast(S, 10f), c11 = FloatVector.broadcast(S, 11f);
        int iterations = FLOPS / (2 * ACC * S.length());
        for (int i = 0; i < iterations; i++) {
            c0 = c0.fma(va, vb); c1 = c1.fma(va, vb); c2 = c2.fma(va, vb); c3 = c3.fma(va, vb);
            c4 = c4.fma(va, vb); c5 = c5.fma(va, vb); c6 = c6.fma(va, vb); c7 = c7.fma(va, vb);
            c8 = c8.fma(va, vb); c9 = c9.fma(va, vb); c10 = c10.fma(va, vb); c11 = c11.fma(va, vb);
        }
        FloatVector s = c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7)
                .add(c8).add(c9).add(c10).add(c11);
        return s.reduceLanes(VectorOperators.ADD);
    }
}
