package dev.activa.backend.cuda;

import jcuda.driver.CUstream;

/**
 * A JCuda stream whose raw handle can be read, to bind cuDNN and cuBLAS to the same stream
 * ({@code cudnnSetStream}, {@code cublasSetStream_v2} take a {@code cudaStream_t}, which is the
 * same object as the driver's {@code CUstream}).
 */
public final class CudaStream extends CUstream {
    public long address() {
        return getNativePointer();
    }
}
