package dev.activa.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CachingAllocatorTest {
    /** Device memory of a fixed capacity with bump addresses; counts calls like a profiler would. */
    static final class FakeMemory implements RawDeviceMemory {
        final long capacity;
        final Map<Long, Long> live = new HashMap<>();
        long next = 0x7f00_0000_0000L, used;
        int mallocs, frees;

        FakeMemory(long capacity) { this.capacity = capacity; }

        @Override
        public long malloc(long bytes) {
            if (used + bytes > capacity) throw new DeviceOutOfMemoryException(bytes, "fake OOM");
            long address = next;
            next += bytes + 4096;
            live.put(address, bytes);
            used += bytes;
            mallocs++;
            return address;
        }

        @Override
        public void free(long address) {
            Long bytes = live.remove(address);
            if (bytes == null) throw new IllegalStateException("fake free of unknown " + address);
            used -= bytes;
            frees++;
        }

        @Override
        public long freeBytes() { return capacity - used; }
    }

    static final long MiB = 1L << 20;

    @Test
    void roundsTo512AndPicksSegmentSizes() {
        assertEquals(512, CachingAllocator.roundSize(0));
        assertEquals(512, CachingAllocator.roundSize(1));
        assertEquals(1024, CachingAllocator.roundSize(513));
        assertEquals(2 * MiB, CachingAllocator.segmentSize(512));
        assertEquals(2 * MiB, CachingAllocator.segmentSize(MiB));
        assertEquals(20 * MiB, CachingAllocator.segmentSize(MiB + 512));
        assertEquals(12 * MiB, CachingAllocator.segmentSize(11 * MiB - 512));
    }

    @Test
    void smallBlocksShareASegmentAndAreReused() {
        var memory = new FakeMemory(1L << 30);
        var allocator = new CachingAllocator(memory);
        long a = allocator.allocate(1000);
        long b = allocator.allocate(1000);
        assertEquals(1, memory.mallocs, "two small blocks come from one 2 MiB segment");
        assertEquals(a + 1024, b, "split from the same segment, 512-byte rounded");
        allocator.free(a);
        long c = allocator.allocate(700);
        assertEquals(a, c, "best fit reuses the freed 1024-byte block");
        var stats = allocator.stats();
        assertEquals(2048, stats.allocatedBytes());
        assertEquals(2 * MiB, stats.reservedBytes());
        assertEquals(3, stats.allocations());
        assertEquals(1, stats.frees());
        assertTrue(stats.cacheHits() >= 2, "the second and third came from the cache: " + stats);
    }

    @Test
    void largeBlocksSplitAndMergeBack() {
        var memory = new FakeMemory(1L << 30);
        var allocator = new CachingAllocator(memory);
        long a = allocator.allocate(3 * MiB);
        assertEquals(20 * MiB, allocator.stats().reservedBytes(), "a 3 MiB request reserves a 20 MiB segment");
        long b = allocator.allocate(5 * MiB);
        assertEquals(a + 3 * MiB, b, "the remainder of the first segment serves the second request");
        assertEquals(1, memory.mallocs);
        allocator.free(a);
        allocator.free(b);
        // Everything merged back into one 20 MiB block: a 19 MiB request fits without a new segment.
        long c = allocator.allocate(19 * MiB);
        assertEquals(a, c);
        assertEquals(1, memory.mallocs);
        allocator.free(c);
        allocator.emptyCache();
        assertEquals(0, allocator.stats().reservedBytes());
        assertEquals(1, memory.frees);
        assertTrue(memory.live.isEmpty());
    }

    @Test
    void smallRequestsNeverTakeLargeBlocks() {
        var allocator = new CachingAllocator(new FakeMemory(1L << 30));
        long big = allocator.allocate(30 * MiB);
        allocator.free(big);
        long small = allocator.allocate(4096);
        assertNotEquals(big, small);
        assertEquals(30 * MiB + 2 * MiB, allocator.stats().reservedBytes());
    }

    @Test
    void memoryStaysFlatAcrossTrainingSteps() {
        var memory = new FakeMemory(4L << 30);
        var allocator = new CachingAllocator(memory);
        long[] sizes = {4 * MiB + 123, 700, 64 * MiB, 12 * MiB, 300_000, 4 * MiB + 123, 2 * MiB, 512 * 1024};
        long reservedAfterFirstStep = -1;
        int mallocsAfterFirstStep = -1;
        var random = new Random(7);
        for (int step = 0; step < 50; step++) {
            List<Long> blocks = new ArrayList<>();
            for (long size : sizes) blocks.add(allocator.allocate(size));
            // activations are freed in an order that varies from step to step
            java.util.Collections.shuffle(blocks, random);
            for (long block : blocks) allocator.free(block);
            if (step == 0) {
                reservedAfterFirstStep = allocator.stats().reservedBytes();
                mallocsAfterFirstStep = memory.mallocs;
            }
        }
        var stats = allocator.stats();
        assertEquals(reservedAfterFirstStep, stats.reservedBytes(), "no growth after the first step: " + stats);
        assertEquals(mallocsAfterFirstStep, memory.mallocs, "no cudaMalloc after the first step");
        assertEquals(0, stats.allocatedBytes());
        assertEquals(50L * sizes.length, stats.allocations());
        assertTrue(stats.cacheHits() >= 49L * sizes.length, "every later allocation is a cache hit: " + stats);
        assertTrue(stats.peakAllocatedBytes() >= 64 * MiB);
    }

    @Test
    void outOfMemoryReleasesTheCacheAndRetriesOnce() {
        var memory = new FakeMemory(64 * MiB);
        var allocator = new CachingAllocator(memory);
        long a = allocator.allocate(40 * MiB);
        allocator.free(a); // 40 MiB cached
        long b = allocator.allocate(50 * MiB); // does not fit beside the cache: released, then retried
        assertEquals(1, allocator.stats().oomRetries());
        assertEquals(1, allocator.stats().segmentFrees());
        assertEquals(50 * MiB, allocator.stats().reservedBytes());
        allocator.free(b);
    }

    @Test
    void outOfMemoryMessageNamesTheNumbers() {
        var memory = new FakeMemory(64 * MiB);
        var allocator = new CachingAllocator(memory);
        allocator.allocate(40 * MiB);
        var e = assertThrows(DeviceOutOfMemoryException.class, () -> allocator.allocate(30 * MiB));
        assertEquals(30 * MiB, e.requestedBytes());
        String m = e.getMessage();
        assertTrue(m.contains("tried to allocate 30.00 MiB"), m);
        assertTrue(m.contains("24.00 MiB (25165824 bytes) free"), m);
        assertTrue(m.contains("40.00 MiB (41943040 bytes) allocated"), m);
        assertTrue(m.contains("reserved"), m);
    }

    @Test
    void rejectsUnknownAndDoubleFrees() {
        var allocator = new CachingAllocator(new FakeMemory(1L << 30));
        long a = allocator.allocate(10);
        assertEquals(512, allocator.sizeOf(a));
        allocator.free(a);
        assertThrows(IllegalArgumentException.class, () -> allocator.free(a));
        assertThrows(IllegalArgumentException.class, () -> allocator.free(12345));
    }
}
