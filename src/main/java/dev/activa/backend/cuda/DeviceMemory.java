package dev.activa.backend.cuda;

import dev.activa.tensor.DType;
import java.lang.ref.Cleaner;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Device memory for tensors: {@link CachingAllocator} blocks handed out as {@link CudaStorage}
 * and taken back when the JVM finds the storage unreachable.
 *
 * <p><b>When a block may be reused.</b> The cleaner only queues a freed address; the queue is
 * drained into the allocator at {@link #enter}, which the backend calls at the start of every op.
 * So inside one op no block is recycled, even when the JIT considers an input tensor dead right
 * after reading its address; {@code enter} also keeps the op's inputs strongly reachable until the
 * next op starts. Across ops reuse is safe because all work runs on one stream: a kernel that
 * writes a recycled block is queued after every kernel that read it.
 *
 * <p><b>Why memory stays flat.</b> Device memory is invisible to the Java heap, so the GC has no
 * reason to run often. After every {@code collectEveryBytes} allocated it asks for a collection;
 * when an allocation fails it collects, drains and retries before giving up with a
 * {@link DeviceOutOfMemoryException} that names the allocation. Use from one thread at a time.
 */
public final class DeviceMemory {
    private static final int OOM_RETRIES = 3;

    private final CachingAllocator allocator;
    private final long collectEveryBytes;
    private final Cleaner cleaner = Cleaner.create();
    private final ConcurrentLinkedQueue<Long> released = new ConcurrentLinkedQueue<>();
    private Object[] pinned = {};
    private long allocatedSinceCollection;

    /** @param collectEveryBytes bytes allocated between requested garbage collections (e.g. half the GPU) */
    public DeviceMemory(RawDeviceMemory raw, long collectEveryBytes) {
        this.allocator = new CachingAllocator(raw);
        this.collectEveryBytes = collectEveryBytes;
    }

    /** The start of an op: recycles what became unreachable and pins the op's inputs until the next op. */
    public void enter(Object... inputs) {
        pinned = inputs;
        reclaim();
    }

    /** Storage for {@code elements} values of {@code dtype}; {@code what} names it in an out-of-memory error. */
    public CudaStorage allocate(String what, DType dtype, long elements) {
        if (elements < 0) throw new IllegalArgumentException(what + ": negative element count " + elements);
        long address = allocateBytes(what, elements * dtype.bytes());
        return new CudaStorage(address, elements, dtype, cleaner, released::add);
    }

    /** Scratch of {@code words} 32-bit words (int labels, flags, workspaces), typed F32 for its size only. */
    public CudaStorage scratch32(String what, long words) {
        return allocate(what, DType.F32, words);
    }

    /** Blocks the cleaner has released so far are returned to the allocator. */
    public void reclaim() {
        for (Long address; (address = released.poll()) != null; ) allocator.free(address);
    }

    public CachingAllocator.Stats stats() { return allocator.stats(); }

    /** Gives cached, wholly free segments back to the device (after recycling what is unreachable). */
    public void emptyCache() {
        reclaim();
        allocator.emptyCache();
    }

    int pinnedCount() { return pinned.length; }

    private long allocateBytes(String what, long bytes) {
        maybeCollect(bytes);
        try {
            return allocator.allocate(bytes);
        } catch (DeviceOutOfMemoryException first) {
            DeviceOutOfMemoryException last = first;
            // Tensors the program dropped come back only once the GC has found them: collect and retry.
            for (int attempt = 1; attempt <= OOM_RETRIES; attempt++) {
                collectAndWait(attempt);
                try {
                    return allocator.allocate(bytes);
                } catch (DeviceOutOfMemoryException again) {
                    last = again;
                }
            }
            throw new DeviceOutOfMemoryException(bytes, "out of GPU memory allocating " + what + " ("
                    + CachingAllocator.bytes(bytes) + ", after " + OOM_RETRIES + " garbage collections): "
                    + last.getMessage());
        }
    }

    /** Asks for a collection once {@code collectEveryBytes} have been allocated since the last one. */
    private void maybeCollect(long bytes) {
        allocatedSinceCollection += bytes;
        if (allocatedSinceCollection > collectEveryBytes) {
            System.gc();
            allocatedSinceCollection = 0;
        }
    }

    private void collectAndWait(int attempt) {
        System.gc();
        allocatedSinceCollection = 0;
        // The cleaner thread runs the release actions after the GC: give it a moment.
        long deadline = System.nanoTime() + 50_000_000L * attempt;
        try {
            do Thread.sleep(1); while (released.isEmpty() && System.nanoTime() < deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        reclaim();
    }
}
