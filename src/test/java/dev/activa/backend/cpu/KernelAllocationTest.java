package dev.activa.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.RandomArrays;
import dev.activa.activation.Activation;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Once compiled, the activation kernels keep their vectors in registers: a kernel that the JIT
 * compiled with vectors on the heap (a call it did not inline; see FloatBlock) allocates about
 * 80 bytes per 16 elements, which this test sees. Not a timing test: it counts bytes.
 *
 * <p>What the JIT inlines depends on the call sites' profiles, so both cases are checked: every
 * activation in one process, as in a sweep (the kernels' call site sees them all), and each alone
 * in a fresh JVM, as in a training run of one activation (the call site sees one, and the JIT
 * inlines the kernel into its caller).
 */
class KernelAllocationTest {
    /** Below one parallel grain, so the kernel runs on this thread, whose allocations we can count. */
    private static final int N = 30_000;
    /** Per call, a few small arrays (FloatBlocks are pooled); interpreted or boxed code allocates over 100 KiB per call here. */
    private static final long LIMIT = 24 * 1024;

    @Test
    void compiledKernelsDoNotAllocatePerElement() {
        for (String name : Activation.NAMES) {
            long perCall = bytesPerCallOnceWarm(name);
            assertTrue(perCall <= LIMIT, name + ": still " + perCall + " bytes per call after 30 s of warm-up");
        }
    }

    @Test
    void eachKernelAloneInAFreshJvmDoesNotAllocatePerElement() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        for (String name : Activation.NAMES) {
            List<String> command = List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                    "-cp", System.getProperty("java.class.path"), KernelAllocationTest.class.getName(), name);
            Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!child.waitFor(60, TimeUnit.SECONDS)) child.destroyForcibly();
            assertTrue(out.matches("\\d+"), name + " alone: the child JVM printed '" + out + "' instead of a byte count");
            long perCall = Long.parseLong(out);
            assertTrue(perCall <= LIMIT, name + " alone: still " + perCall + " bytes per call after 30 s of warm-up");
        }
    }

    /**
     * The GEMM's packing buffers and the direct convolution's padded images are borrowed by each
     * task and kept between calls, on every thread: on JDK 25 the common pool's workers erase their
     * thread locals after each task, and buffers held there came new on every task (a 1.5 MiB B
     * panel per tile here). Counted over all threads, steady-state calls allocate their outputs
     * and a few small arrays, not buffers.
     */
    @Test
    void steadyStateCallsAllocateNoScratchOnAnyThread() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        var cpu = new CpuBackend(); // the common pool, whose workers run tasks beside the caller
        int m = 8, k = 192, n = 4096; // a B panel of 192 × 2048 floats per tile
        Tensor a = cpu.fromFloats(RandomArrays.uniform(m * k, 1), DType.F32, m, k), b = cpu.fromFloats(RandomArrays.uniform(k * n, 2), DType.F32, k, n);
        var spec = new dev.activa.backend.Conv2dSpec(1, 1); // 4 → 4 channels at 64 × 64: the direct kernel, an image per task
        Tensor x = cpu.fromFloats(RandomArrays.uniform(4 * 4 * 64 * 64, 3), DType.F32, 4, 4, 64, 64);
        Tensor w = cpu.fromFloats(RandomArrays.uniform(4 * 4 * 9, 4), DType.F32, 4, 4, 3, 3);
        Tensor dy = cpu.fromFloats(RandomArrays.uniform(4 * 4 * 64 * 64, 5), DType.F32, 4, 4, 64, 64);
        Runnable calls = () -> {
            for (int i = 0; i < 10; i++) {
                cpu.recycle(cpu.matmul(a, b, false, false)); // its output is new each call: m·n floats
                cpu.recycle(cpu.conv2d(x, w, spec)); // these two outputs are lent again
                cpu.recycle(cpu.conv2dBackwardInput(dy, w, x.shape(), spec));
                cpu.conv2dBackwardWeight(dy, x, w.shape(), spec);
            }
        };
        for (int warm = 0; warm < 30; warm++) calls.run();
        long before = threads.getTotalThreadAllocatedBytes();
        calls.run();
        long perCall = (threads.getTotalThreadAllocatedBytes() - before) / 10;
        long output = 4L * m * n, limit = output + 64 * 1024;
        assertTrue(perCall <= limit, "all threads allocated " + perCall + " bytes per call, above the " + output
                + " of the matmul's output and 64 KiB besides");
        assertTrue(Workspaces.idleCount() > 0, "the tasks' scratch waits for the next call");
        cpu.releasePooledArrays();
        assertEquals(0, Workspaces.idleCount(), "and goes to the collector when the backend releases what it holds");
    }

    /** The child JVM's entry point: prints the bytes per call of one activation once warm. */
    public static void main(String[] args) {
        System.out.println(bytesPerCallOnceWarm(args[0]));
    }

    /** Runs the activation's forward and backward until a batch of calls allocates no more than LIMIT per call, or 30 s. */
    static long bytesPerCallOnceWarm(String name) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().threadId();
        var cpu = new CpuBackend();
        float[] values = new float[N];
        for (int i = 0; i < N; i++) values[i] = (i % 200) / 20f - 5;
        Tensor x = cpu.fromFloats(values, DType.F32, N), dy = cpu.fromFloats(values, DType.F32, N);
        Tensor y = cpu.zeros(DType.F32, N), dx = cpu.zeros(DType.F32, N);
        Activation act = Activation.of(name);
        double[] p = act.initialParameters();
        long perCall = Long.MAX_VALUE;
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (perCall > LIMIT && System.nanoTime() < deadline) {
            long before = threads.getThreadAllocatedBytes(self);
            for (int call = 0; call < 200; call++) {
                cpu.activationForwardInto(act, p, x, null, y);
                cpu.activationBackwardInto(act, p, x, null, dy, dx);
            }
            perCall = (threads.getThreadAllocatedBytes(self) - before) / 400;
        }
        return perCall;
    }
}
