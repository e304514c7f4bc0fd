package dev.activa.backend.cuda;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * A caching device-memory allocator in the manner of PyTorch's: cudaMalloc is slow and synchronizes
 * the device, and a training step allocates and frees the same sizes every time, so freed blocks are
 * kept and reused instead of returned.
 *
 * <ul>
 *   <li>Sizes round up to 512 bytes. Requests up to 1 MiB are "small" and are carved from 2 MiB
 *       segments; larger ones get a 20 MiB segment (requests under 10 MiB) or their size rounded up
 *       to 2 MiB. Small and large blocks live in separate pools so small tensors do not fragment the
 *       big segments.</li>
 *   <li>A free block is found best-fit in a pool ordered by (size, address) and split when the rest
 *       is worth keeping (at least 512 bytes in the small pool, more than 1 MiB in the large one).
 *       Freed blocks merge with free neighbours from the same segment.</li>
 *   <li>On out-of-memory every wholly free segment is released and the allocation retried once;
 *       a second failure throws {@link DeviceOutOfMemoryException} with the numbers needed to see
 *       why.</li>
 * </ul>
 *
 * <p>All work is assumed to be on one stream, so a freed block may be reused at once: the next
 * kernel that writes it is queued after every kernel that read it. Thread-safe.
 */
public final class CachingAllocator {
    public static final long ROUND = 512;
    public static final long SMALL_REQUEST = 1L << 20;
    public static final long SMALL_SEGMENT = 2L << 20;
    public static final long MEDIUM_REQUEST = 10L << 20;
    public static final long MEDIUM_SEGMENT = 20L << 20;
    public static final long LARGE_ROUND = 2L << 20;

    /** Bytes are rounded sizes, as handed out; cached = reserved − allocated. */
    public record Stats(long allocatedBytes, long reservedBytes, long peakAllocatedBytes, long peakReservedBytes,
                        long allocations, long frees, long cacheHits, long segmentAllocations, long segmentFrees,
                        long oomRetries) {
        public long cachedBytes() { return reservedBytes - allocatedBytes; }
    }

    private static final class Block {
        final long segment;
        final long address;
        final boolean small;
        long size;
        boolean free = true;
        Block prev, next; // neighbours inside the same segment

        Block(long segment, long address, long size, boolean small) {
            this.segment = segment;
            this.address = address;
            this.size = size;
            this.small = small;
        }
    }

    private static final Comparator<Block> BY_SIZE =
            Comparator.<Block>comparingLong(b -> b.size).thenComparingLong(b -> b.address);

    private final RawDeviceMemory memory;
    private final TreeSet<Block> smallPool = new TreeSet<>(BY_SIZE), largePool = new TreeSet<>(BY_SIZE);
    private final Map<Long, Block> live = new HashMap<>();
    private long allocated, reserved, peakAllocated, peakReserved;
    private long allocations, frees, cacheHits, segmentAllocations, segmentFrees, oomRetries;

    public CachingAllocator(RawDeviceMemory memory) {
        this.memory = memory;
    }

    /** The size a request is rounded to. */
    public static long roundSize(long bytes) {
        return Math.max(ROUND, (bytes + ROUND - 1) / ROUND * ROUND);
    }

    /** The segment a request that found no cached block asks the device for. */
    static long segmentSize(long rounded) {
        if (rounded <= SMALL_REQUEST) return SMALL_SEGMENT;
        if (rounded < MEDIUM_REQUEST) return MEDIUM_SEGMENT;
        return (rounded + LARGE_ROUND - 1) / LARGE_ROUND * LARGE_ROUND;
    }

    /** A device address for at least {@code bytes} bytes, 512-byte aligned within its segment. */
    public synchronized long allocate(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("negative allocation: " + bytes);
        long size = roundSize(bytes);
        boolean small = size <= SMALL_REQUEST;
        TreeSet<Block> pool = small ? smallPool : largePool;

        Block block = pool.ceiling(probe(size));
        if (block != null) {
            pool.remove(block);
            cacheHits++;
        } else {
            long segmentSize = segmentSize(size);
            long base = mallocOrRetry(segmentSize, bytes);
            reserved += segmentSize;
            peakReserved = Math.max(peakReserved, reserved);
            segmentAllocations++;
            block = new Block(base, base, segmentSize, small);
        }

        long rest = block.size - size;
        if (small ? rest >= ROUND : rest > SMALL_REQUEST) {
            var remainder = new Block(block.segment, block.address + size, rest, small);
            remainder.prev = block;
            remainder.next = block.next;
            if (block.next != null) block.next.prev = remainder;
            block.next = remainder;
            block.size = size;
            pool.add(remainder);
        }

        block.free = false;
        live.put(block.address, block);
        allocated += block.size;
        peakAllocated = Math.max(peakAllocated, allocated);
        allocations++;
        return block.address;
    }

    /** Returns a block to the cache (not to the device). */
    public synchronized void free(long address) {
        Block block = live.remove(address);
        if (block == null) throw new IllegalArgumentException("0x" + Long.toHexString(address) + " was not allocated here or was freed twice");
        allocated -= block.size;
        frees++;
        block.free = true;
        TreeSet<Block> pool = block.small ? smallPool : largePool;
        if (block.prev != null && block.prev.free) {
            Block prev = block.prev;
            pool.remove(prev);
            prev.size += block.size;
            prev.next = block.next;
            if (block.next != null) block.next.prev = prev;
            block = prev;
        }
        if (block.next != null && block.next.free) {
            Block next = block.next;
            pool.remove(next);
            block.size += next.size;
            block.next = next.next;
            if (next.next != null) next.next.prev = block;
        }
        pool.add(block);
    }

    /** The rounded size of a live allocation. */
    public synchronized long sizeOf(long address) {
        Block block = live.get(address);
        if (block == null) throw new IllegalArgumentException("0x" + Long.toHexString(address) + " is not a live allocation");
        return block.size;
    }

    /** Gives every wholly free segment back to the device. Live allocations are untouched. */
    public synchronized void emptyCache() {
        for (TreeSet<Block> pool : java.util.List.of(smallPool, largePool)) {
            for (Block block : new ArrayList<>(pool)) {
                if (block.prev != null || block.next != null) continue; // part of a segment still in use
                pool.remove(block);
                memory.free(block.segment);
                reserved -= block.size;
                segmentFrees++;
            }
        }
    }

    public synchronized Stats stats() {
        return new Stats(allocated, reserved, peakAllocated, peakReserved, allocations, frees, cacheHits,
                segmentAllocations, segmentFrees, oomRetries);
    }

    /** Starts peak tracking afresh, e.g. per epoch. */
    public synchronized void resetPeaks() {
        peakAllocated = allocated;
        peakReserved = reserved;
    }

    private long mallocOrRetry(long segmentSize, long requested) {
        try {
            return memory.malloc(segmentSize);
        } catch (DeviceOutOfMemoryException first) {
            oomRetries++;
            long cachedBefore = reserved - allocated;
            emptyCache();
            try {
                return memory.malloc(segmentSize);
            } catch (DeviceOutOfMemoryException second) {
                String free;
                try {
                    free = bytes(memory.freeBytes());
                } catch (RuntimeException e) {
                    free = "unknown";
                }
                throw new DeviceOutOfMemoryException(requested, "GPU out of memory: tried to allocate " + bytes(requested)
                        + " (a " + bytes(segmentSize) + " segment); the device has " + free + " free; this process has "
                        + bytes(allocated) + " allocated and " + bytes(reserved) + " reserved by the caching allocator ("
                        + bytes(cachedBefore) + " was cached and " + bytes(cachedBefore - (reserved - allocated))
                        + " of it released before retrying). Reduce the batch size or model size.");
            }
        }
    }

    private static Block probe(long size) {
        return new Block(0, Long.MIN_VALUE, size, false);
    }

    /** "1.50 GiB (1610612736 bytes)". */
    static String bytes(long n) {
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = 0;
        while (Math.abs(v) >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? n + " bytes" : String.format(java.util.Locale.ROOT, "%.2f %s (%d bytes)", v, units[u], n);
    }
}
