package dev.activa.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * A cuBLAS handle bound to one stream, for the GEMMs of linear layers: FP32 {@code cublasSgemm_v2}
 * and mixed-precision {@code cublasGemmEx} (FP16 in/out, FP32 accumulation). Signatures and enum
 * values from cuBLAS 13's cublas_api.h (cudaDataType_t from CUDA's library_types.h).
 *
 * <p><b>Row-major vs column-major.</b> cuBLAS is column-major; the engine stores row-major. A
 * row-major m×n matrix with row stride ld is, byte for byte, the column-major n×m matrix (its
 * transpose) with leading dimension ld. So the row-major C = op(A)·op(B) is computed as the
 * column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands and m with n, keep each operand's transpose
 * flag and leading dimension. {@link #gemmRowMajor} does exactly that.
 *
 * <p>Alpha and beta live in host memory (the default CUBLAS_POINTER_MODE_HOST). Like the cuBLAS
 * handle, an instance is for one thread at a time.
 */
public final class Cublas implements AutoCloseable {
    /** cublasOperation_t, cublas_api.h. */
    public enum Operation {
        N(0), T(1);

        public final int value;

        Operation(int value) { this.value = value; }
    }

    /** cublasMath_t, cublas_api.h. TF32_TENSOR_OP_MATH lets FP32 GEMMs use TF32 tensor cores. */
    public enum MathMode {
        DEFAULT_MATH(0), PEDANTIC_MATH(2), TF32_TENSOR_OP_MATH(3);

        public final int value;

        MathMode(int value) { this.value = value; }
    }

    /** cublasComputeType_t, cublas_api.h. */
    public enum ComputeType {
        COMPUTE_16F(64), COMPUTE_32F(68), COMPUTE_32F_PEDANTIC(69), COMPUTE_32F_FAST_16F(74), COMPUTE_32F_FAST_TF32(77);

        public final int value;

        ComputeType(int value) { this.value = value; }
    }

    /** cudaDataType_t, library_types.h. */
    public enum DataType {
        R_32F(0), R_16F(2), R_16BF(14);

        public final int value;

        DataType(int value) { this.value = value; }
    }

    /** cublasGemmAlgo_t CUBLAS_GEMM_DEFAULT, cublas_api.h: let cuBLAS choose (tensor cores included on sm_80+). */
    public static final int GEMM_DEFAULT = -1;

    private final Api api;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment alpha = arena.allocate(JAVA_FLOAT), beta = arena.allocate(JAVA_FLOAT);
    private boolean closed;

    private Cublas(Api api, MemorySegment handle) {
        this.api = api;
        this.handle = handle;
    }

    /** The loaded cuBLAS's version, e.g. "13.0.0" (cublasGetProperty); needs no GPU. */
    public static String version() {
        return NativeLibraries.cublas().version();
    }

    public static Cublas create(CudaDriver driver) {
        driver.makeCurrent();
        return create(driver.streamAddress());
    }

    /** A handle for the current context, working on {@code stream} (a raw cudaStream_t). */
    public static Cublas create(long stream) {
        Api api = Api.get();
        MemorySegment handle;
        try (Arena local = Arena.ofConfined()) {
            MemorySegment out = local.allocate(ADDRESS);
            api.check("cublasCreate_v2", () -> (int) api.create.invoke(out));
            handle = out.get(ADDRESS, 0);
        }
        var cublas = new Cublas(api, handle);
        cublas.setStream(stream);
        return cublas;
    }

    public void setStream(long stream) {
        api.check("cublasSetStream_v2", () -> (int) api.setStream.invoke(handle, MemorySegment.ofAddress(stream)));
    }

    /** The version this handle reports (cublasGetVersion_v2), e.g. 130000 + minor·100 + patch. */
    public int handleVersion() {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment out = local.allocate(JAVA_INT);
            api.check("cublasGetVersion_v2", () -> (int) api.getVersion.invoke(handle, out));
            return out.get(JAVA_INT, 0);
        }
    }

    public void setMathMode(MathMode mode) {
        api.check("cublasSetMathMode", () -> (int) api.setMathMode.invoke(handle, mode.value));
    }

    /** Column-major FP32 C = alpha·op(A)·op(B) + beta·C (cublasSgemm_v2); A is m×k after op, B k×n, C m×n. */
    public void sgemm(Operation transA, Operation transB, int m, int n, int k, float alpha, long a, int lda,
                      long b, int ldb, float beta, long c, int ldc) {
        MemorySegment al = scalar(this.alpha, alpha), be = scalar(this.beta, beta);
        api.check("cublasSgemm_v2", () -> (int) api.sgemm.invoke(handle, transA.value, transB.value, m, n, k,
                al, ptr(a), lda, ptr(b), ldb, be, ptr(c), ldc));
    }

    /**
     * Column-major mixed-type GEMM (cublasGemmEx). With FP16 or BF16 operands use
     * {@link ComputeType#COMPUTE_32F}: accumulation in FP32, alpha and beta as floats.
     */
    public void gemmEx(Operation transA, Operation transB, int m, int n, int k, float alpha, long a, DataType aType, int lda,
                       long b, DataType bType, int ldb, float beta, long c, DataType cType, int ldc, ComputeType computeType,
                       int algorithm) {
        if (computeType == ComputeType.COMPUTE_16F) {
            throw new IllegalArgumentException("COMPUTE_16F needs half-precision alpha/beta; use COMPUTE_32F");
        }
        MemorySegment al = scalar(this.alpha, alpha), be = scalar(this.beta, beta);
        api.check("cublasGemmEx", () -> (int) api.gemmEx.invoke(handle, transA.value, transB.value, m, n, k,
                al, ptr(a), aType.value, lda, ptr(b), bType.value, ldb, be, ptr(c), cType.value, ldc,
                computeType.value, algorithm));
    }

    /**
     * Row-major FP32 C (m×n, row stride ldc) = alpha·op(A)·op(B) + beta·C, with op(A) m×k and op(B)
     * k×n; lda and ldb are the row strides of A and B as stored. See the class comment for why the
     * operands swap.
     */
    public void gemmRowMajor(Operation transA, Operation transB, int m, int n, int k, float alpha, long a, int lda,
                             long b, int ldb, float beta, long c, int ldc) {
        sgemm(transB, transA, n, m, k, alpha, b, ldb, a, lda, beta, c, ldc);
    }

    /** Row-major GEMM in {@code type} (FP16/BF16 in and out, FP32 accumulation, or FP32). */
    public void gemmRowMajor(Operation transA, Operation transB, int m, int n, int k, float alpha, long a, int lda,
                             long b, int ldb, float beta, long c, int ldc, DataType type) {
        gemmEx(transB, transA, n, m, k, alpha, b, type, ldb, a, type, lda, beta, c, type, ldc,
                ComputeType.COMPUTE_32F, GEMM_DEFAULT);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            api.check("cublasDestroy_v2", () -> (int) api.destroy.invoke(handle));
        } finally {
            arena.close();
        }
    }

    private static MemorySegment ptr(long address) {
        return MemorySegment.ofAddress(address);
    }

    private static MemorySegment scalar(MemorySegment slot, float value) {
        slot.set(JAVA_FLOAT, 0, value);
        return slot;
    }

    /** Downcall handles, bound on first use; every function returns cublasStatus_t. */
    static final class Api {
        private static final MemoryLayout A = ADDRESS, I = JAVA_INT;
        private static java.util.function.Supplier<NativeLibraries.Library> source = NativeLibraries::cublas;
        private static Api instance;
        private static CudaUnavailableException failure;

        // Declared first: field initializers run in order and the bindings below need these.
        final NativeLibraries.Library library = source.get();
        private final Linker linker = Linker.nativeLinker();

        final MethodHandle getStatusString = bind("cublasGetStatusString", FunctionDescriptor.of(A, I)); // const char*
        final MethodHandle create = status("cublasCreate_v2", A);
        final MethodHandle destroy = status("cublasDestroy_v2", A);
        final MethodHandle setStream = status("cublasSetStream_v2", A, A);
        final MethodHandle getVersion = status("cublasGetVersion_v2", A, A);
        final MethodHandle setMathMode = status("cublasSetMathMode", A, I);
        // handle, transa, transb, m, n, k, alpha*, A, lda, B, ldb, beta*, C, ldc
        final MethodHandle sgemm = status("cublasSgemm_v2", A, I, I, I, I, I, A, A, I, A, I, A, A, I);
        // handle, transa, transb, m, n, k, alpha*, A, Atype, lda, B, Btype, ldb, beta*, C, Ctype, ldc, computeType, algo
        final MethodHandle gemmEx = status("cublasGemmEx", A, I, I, I, I, I, A, A, I, I, A, I, I, A, A, I, I, I, I);

        private Api() {}

        /** Binds to another library from now on (tests bind a fake cuBLAS); {@code null} restores the real search. */
        static synchronized void bindTo(java.util.function.Supplier<NativeLibraries.Library> library) {
            source = library == null ? NativeLibraries::cublas : library;
            instance = null;
            failure = null;
        }

        static synchronized Api get() {
            if (instance != null) return instance;
            if (failure != null) throw failure;
            try {
                instance = new Api();
                return instance;
            } catch (CudaUnavailableException e) {
                failure = e;
                throw e;
            }
        }

        void check(String function, CudnnApi.Call call) {
            int status;
            try {
                status = call.run();
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(function + " could not be called", t);
            }
            if (status != 0) throw new NativeCallException("cuBLAS", function, status, describe(status), null);
        }

        private String describe(int status) {
            try {
                MemorySegment text = (MemorySegment) getStatusString.invokeExact(status);
                return text.address() == 0 ? "CUBLAS_STATUS_" + status : text.reinterpret(256).getString(0);
            } catch (Throwable t) {
                return "CUBLAS_STATUS_" + status;
            }
        }

        private MethodHandle status(String name, MemoryLayout... arguments) {
            return bind(name, FunctionDescriptor.of(JAVA_INT, arguments));
        }

        private MethodHandle bind(String name, FunctionDescriptor descriptor) {
            return library.symbols().find(name).map(symbol -> linker.downcallHandle(symbol, descriptor))
                    .orElseThrow(() -> new CudaUnavailableException(
                            "cuBLAS at " + library.path() + " (version " + library.version() + ") has no symbol " + name,
                            List.of(library.path().toString()), "use cuBLAS 12 or 13 (pip install nvidia-cublas)"));
        }
    }
}
