package dev.activa.jmh;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Copy bandwidth on all cores: the memory limit the activation kernels are measured against.
 * Every thread ({@code @Threads(MAX)}) copies its own pair of 64 MiB float arrays (2^24
 * elements, twice the L3 of most machines and far past it here), so the copy streams from and
 * to DRAM. One JMH operation is one byte moved, read and write both counted (2 × 64 MiB per
 * invocation), and JMH sums the threads' scores: <b>GB/s = score (ops/s) / 1e9</b>.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Threads(Threads.MAX)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class MemoryCopy {
    static final int ELEMENTS = 1 << 24;
    /** Bytes moved per copy: each element is read once and written once. */
    static final int BYTES = 2 * Float.BYTES * ELEMENTS;

    float[] src, dst;

    @Setup(Level.Trial)
    public void setup() {
        src = new float[ELEMENTS];
        dst = new float[ELEMENTS];
        for (int i = 0; i < ELEMENTS; i++) src[i] = i;
    }

    @Benchmark
    @OperationsPerInvocation(BYTES)
    public float[] arraycopy() {
        System.arraycopy(src, 0, dst, 0, ELEMENTS);
        return dst;
    }
}
