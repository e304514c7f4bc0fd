package dev.activa.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.tensor.DType;
import org.junit.jupiter.api.Test;

/** Device storage lifetime on fake device memory: recycling of unreachable storage, pinning, out-of-memory. */
class DeviceMemoryTest {
    private static final long MIB = 1L << 20;

    @Test
    void storageReleasedExplicitlyIsRecycledAtTheNextOp() {
        var memory = new DeviceMemory(new CachingAllocatorTest.FakeMemory(64 * MIB), Long.MAX_VALUE);
        CudaStorage s = memory.allocate("a", DType.F16, 1000);
        assertEquals(2000, s.bytes());
        assertEquals(DType.F16, s.dtype());
        long address = s.address();
        s.release();
        s.release(); // idempotent
        assertEquals(1, memory.stats().allocations() - memory.stats().frees(), "not recycled within the op");
        memory.enter();
        assertEquals(0, memory.stats().allocatedBytes());
        assertEquals(address, memory.allocate("b", DType.F32, 500).address(), "the cached block is reused");
    }

    @Test
    void memoryStaysFlatWhenStorageBecomesUnreachable() {
        // 64 MiB of "device": 200 steps of 8 MiB each only fit if dropped storage comes back.
        var fake = new CachingAllocatorTest.FakeMemory(64 * MIB);
        var memory = new DeviceMemory(fake, Long.MAX_VALUE);
        for (int step = 0; step < 200; step++) {
            memory.enter();
            memory.allocate("step " + step + " activations", DType.F32, 2 * MIB); // dropped at once
        }
        assertTrue(memory.stats().peakReservedBytes() <= 64 * MIB, memory.stats().toString());
        assertEquals(200, memory.stats().allocations());
    }

    @Test
    void collectionsAreRequestedBeforeMemoryRunsOut() {
        var fake = new CachingAllocatorTest.FakeMemory(1L << 40);
        var memory = new DeviceMemory(fake, 32 * MIB);
        for (int step = 0; step < 400; step++) {
            memory.enter();
            memory.allocate("step " + step, DType.F32, 2 * MIB);
        }
        // Without collections this would hold 400 × 8 MiB = 3.1 GiB; the GC keeps it far lower.
        assertTrue(memory.stats().peakReservedBytes() < 1600 * MIB, memory.stats().toString());
    }

    @Test
    void pinnedInputsSurviveUntilTheNextOp() {
        var fake = new CachingAllocatorTest.FakeMemory(64 * MIB);
        var memory = new DeviceMemory(fake, Long.MAX_VALUE);
        Object input = memory.allocate("input", DType.F32, 10);
        memory.enter(input);
        assertEquals(1, memory.pinnedCount());
        memory.enter();
        assertEquals(0, memory.pinnedCount());
    }

    @Test
    void outOfMemoryNamesTheAllocationAndTheFreeMemory() {
        var memory = new DeviceMemory(new CachingAllocatorTest.FakeMemory(16 * MIB), Long.MAX_VALUE);
        CudaStorage kept = memory.allocate("weights", DType.F32, 3 * MIB);
        var e = assertThrows(DeviceOutOfMemoryException.class,
                () -> memory.allocate("conv2d [256, 64, 32, 32] F32", DType.F32, 4 * MIB));
        assertTrue(e.getMessage().contains("conv2d [256, 64, 32, 32] F32"), e.getMessage());
        assertTrue(e.getMessage().contains("free"), e.getMessage());
        assertEquals(16 * MIB, e.requestedBytes());
        assertEquals(12 * MIB, kept.bytes());
        java.lang.ref.Reference.reachabilityFence(kept); // kept live: the retries must not find it
    }
}
