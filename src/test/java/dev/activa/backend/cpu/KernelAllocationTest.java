package dev.activa.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.activation.Activation;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Once compiled, the activation kernels keep their vectors in registers: a kernel that the JIT
 * compiled with vectors on the heap (a call it did not inline; see FloatBlock) allocates about
 * 80 bytes per 16 elements, which this test sees. Not a timing test: it counts bytes.
 */
class KernelAllocationTest {
    /** Below one parallel grain, so the kernel runs on this thread, whose allocations we can count. */
    private static final int N = 30_000;

    @Test
    void compiledKernelsDoNotAllocatePerElement() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().threadId();
        var cpu = new CpuBackend();
        float[] values = new float[N];
        for (int i = 0; i < N; i++) values[i] = (i % 200) / 20f - 5;
        Tensor x = cpu.fromFloats(values, DType.F32, N), dy = cpu.fromFloats(values, DType.F32, N);
        Tensor y = cpu.zeros(DType.F32, N), dx = cpu.zeros(DType.F32, N);
        // Every activation runs in one process, as in a sweep: call sites see them all.
        for (String name : Activation.NAMES) {
            Activation act = Activation.of(name);
            double[] p = act.initialParameters();
            long perCall = Long.MAX_VALUE;
            long deadline = System.nanoTime() + 30_000_000_000L;
            // Warm up until a batch of calls allocates no more than the per-call scratch (FloatBlock: ~10 KiB);
            // interpreted or boxed code allocates over 100 KiB per call here.
            while (perCall > 24 * 1024 && System.nanoTime() < deadline) {
                long before = threads.getThreadAllocatedBytes(self);
                for (int call = 0; call < 200; call++) {
                    cpu.activationForwardInto(act, p, x, null, y);
                    cpu.activationBackwardInto(act, p, x, null, dy, dx);
                }
                perCall = (threads.getThreadAllocatedBytes(self) - before) / 400;
            }
            assertTrue(perCall <= 24 * 1024, name + ": still " + perCall + " bytes per call after 30 s of warm-up");
        }
    }
}
