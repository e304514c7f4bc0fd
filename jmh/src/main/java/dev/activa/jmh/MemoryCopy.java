package dev.activa.jmh;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
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
 *
 * <p>{@link #arraycopy} is the limit. HotSpot's stub for it streams large copies with
 * non-temporal stores and software prefetch ({@code vmovntdq}, {@code prefetcht0} in
 * {@code jint_disjoint_arraycopy} on AVX-512: see {@code -XX:+PrintStubCode}), which write a line
 * without reading it first. Java code cannot issue those: its stores read each destination line
 * before writing it (write-allocate). {@link #vectorLoop} copies with the stores a kernel has, to
 * show what that costs on the machine at hand.
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

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    @Benchmark
    @OperationsPerInvocation(BYTES)
    public float[] arraycopy() {
        System.arraycopy(src, 0, dst, 0, ELEMENTS);
        return dst;
    }

    /** The same copy as a loop of vector loads and stores (ELEMENTS is a multiple of every vector length). */
    @Benchmark
    @OperationsPerInvocation(BYTES)
    public float[] vectorLoop() {
        for (int i = 0; i < ELEMENTS; i += SPECIES.length()) FloatVector.fromArray(SPECIES, src, i).intoArray(dst, i);
        return dst;
    }
}
