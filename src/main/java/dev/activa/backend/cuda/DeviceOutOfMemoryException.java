package dev.activa.backend.cuda;

/** The GPU has no room for an allocation, even after the caching allocator released its cache. */
public final class DeviceOutOfMemoryException extends RuntimeException {
    private final long requestedBytes;

    public DeviceOutOfMemoryException(long requestedBytes, String message) {
        super(message);
        this.requestedBytes = requestedBytes;
    }

    public long requestedBytes() { return requestedBytes; }
}
