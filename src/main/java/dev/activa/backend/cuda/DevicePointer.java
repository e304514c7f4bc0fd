package dev.activa.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A JCuda device pointer whose raw 64-bit address can be read and written, so the same memory can
 * be handed to cuDNN and cuBLAS through FFM. {@code getNativePointer()} is protected in JCuda, hence
 * the subclass. JCuda passes {@code nativePointer + byteOffset} to the driver (PointerUtils.cpp,
 * getPointer), so an address is carried as a byte offset from a null base.
 */
public final class DevicePointer extends CUdeviceptr {
    private static final CUdeviceptr NULL = new CUdeviceptr();

    /** An empty pointer for {@code cuMemAlloc} to fill in. */
    public DevicePointer() {}

    private DevicePointer(long address) {
        super(NULL, address);
    }

    /** Wraps an address obtained elsewhere (the caching allocator, cuDNN workspace, ...). */
    public static DevicePointer of(long address) {
        return new DevicePointer(address);
    }

    public long address() {
        return getNativePointer() + getByteOffset();
    }
}
