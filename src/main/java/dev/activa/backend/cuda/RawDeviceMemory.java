package dev.activa.backend.cuda;

/**
 * Uncached device memory: what {@link CachingAllocator} sits on. The real one is
 * {@link CudaDriver#rawMemory()}; tests use a fake.
 */
public interface RawDeviceMemory {
    /**
     * Allocates {@code bytes} of device memory.
     *
     * @throws DeviceOutOfMemoryException when the device has no room
     */
    long malloc(long bytes);

    void free(long address);

    /** Free device memory as the driver reports it. */
    long freeBytes();
}
