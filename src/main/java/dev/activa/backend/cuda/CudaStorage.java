package dev.activa.backend.cuda;

import dev.activa.backend.Storage;
import dev.activa.tensor.DType;
import java.lang.ref.Cleaner;
import java.util.function.LongConsumer;

/**
 * A tensor's elements in device memory: a block from the {@link CachingAllocator}, dense, in the
 * backend's {@link ImageLayout} (4-D tensors channels-last by default, NCHW with
 * {@code ACTIVA_CUDA_LAYOUT=nchw}; every other rank row-major). The block is handed back
 * (through {@link DeviceMemory}) once the storage is unreachable, or on {@link #release()} for
 * scratch buffers. A class rather than a record: the cleaner must watch this very object.
 */
public final class CudaStorage implements Storage {
    private final long address;
    private final long elements;
    private final DType dtype;
    private final Cleaner.Cleanable cleanable;

    CudaStorage(long address, long elements, DType dtype, Cleaner cleaner, LongConsumer onUnreachable) {
        this.address = address;
        this.elements = elements;
        this.dtype = dtype;
        // The action captures the address and the callback only, never this storage.
        this.cleanable = cleaner.register(this, () -> onUnreachable.accept(address));
    }

    public long address() { return address; }

    public long elements() { return elements; }

    public DType dtype() { return dtype; }

    public long bytes() { return elements * dtype.bytes(); }

    /** Hands the block back now; the storage must not be used afterwards. Idempotent. */
    public void release() { cleanable.clean(); }

    @Override
    public String toString() {
        return "CudaStorage[0x" + Long.toHexString(address) + ", " + elements + " × " + dtype + "]";
    }
}
