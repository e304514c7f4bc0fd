package dev.activa.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Downcall handles for the cuDNN 9 functions Activa uses, bound once on first use. Signatures follow
 * cuDNN 9's cudnn_graph.h, cudnn_ops.h and cudnn_cnn.h: handles and descriptors are pointers,
 * enums and {@code int} are {@code JAVA_INT}, {@code size_t} is {@code JAVA_LONG}, every function
 * returns {@code cudnnStatus_t} unless noted.
 */
final class CudnnApi {
    private static final MemoryLayout A = ADDRESS, I = JAVA_INT, L = JAVA_LONG, D = JAVA_DOUBLE;

    private static Supplier<NativeLibraries.Library> source = NativeLibraries::cudnn;
    private static CudnnApi instance;
    private static CudaUnavailableException failure;

    // Declared first: field initializers run in order and every binding below needs these two.
    final NativeLibraries.Library library = source.get();
    private final Linker linker = Linker.nativeLinker();

    // cudnn_graph.h
    final MethodHandle getErrorString = bind("cudnnGetErrorString", FunctionDescriptor.of(A, I)); // returns const char*
    final Optional<MethodHandle> getLastErrorString = optional("cudnnGetLastErrorString", FunctionDescriptor.ofVoid(A, L));
    final MethodHandle create = status("cudnnCreate", A);
    final MethodHandle destroy = status("cudnnDestroy", A);
    final MethodHandle setStream = status("cudnnSetStream", A, A);

    // cudnn_ops.h: tensors, filters, pooling, batch norm
    final MethodHandle createTensor = status("cudnnCreateTensorDescriptor", A);
    final MethodHandle setTensor4d = status("cudnnSetTensor4dDescriptor", A, I, I, I, I, I, I);      // desc, format, dataType, n, c, h, w
    final MethodHandle destroyTensor = status("cudnnDestroyTensorDescriptor", A);
    final MethodHandle createFilter = status("cudnnCreateFilterDescriptor", A);
    final MethodHandle setFilter4d = status("cudnnSetFilter4dDescriptor", A, I, I, I, I, I, I);      // desc, dataType, format, k, c, h, w
    final MethodHandle destroyFilter = status("cudnnDestroyFilterDescriptor", A);
    final MethodHandle createPooling = status("cudnnCreatePoolingDescriptor", A);
    final MethodHandle setPooling2d = status("cudnnSetPooling2dDescriptor", A, I, I, I, I, I, I, I, I); // desc, mode, nan, wh, ww, padV, padH, strideV, strideH
    final MethodHandle destroyPooling = status("cudnnDestroyPoolingDescriptor", A);
    final MethodHandle poolingOutputDim = status("cudnnGetPooling2dForwardOutputDim", A, A, A, A, A, A);
    final MethodHandle poolingForward = status("cudnnPoolingForward", A, A, A, A, A, A, A, A);
    final MethodHandle poolingBackward = status("cudnnPoolingBackward", A, A, A, A, A, A, A, A, A, A, A, A);
    final MethodHandle deriveBnDescriptor = status("cudnnDeriveBNTensorDescriptor", A, A, I);
    final MethodHandle bnForwardTraining = status("cudnnBatchNormalizationForwardTraining",
            A, I, A, A, A, A, A, A, A, A, A, D, A, A, D, A, A);
    final MethodHandle bnForwardInference = status("cudnnBatchNormalizationForwardInference",
            A, I, A, A, A, A, A, A, A, A, A, A, A, D);
    final MethodHandle bnBackward = status("cudnnBatchNormalizationBackward",
            A, I, A, A, A, A, A, A, A, A, A, A, A, A, A, A, D, A, A);

    // cudnn_cnn.h: convolution
    final MethodHandle createConvolution = status("cudnnCreateConvolutionDescriptor", A);
    final MethodHandle setConvolution2d = status("cudnnSetConvolution2dDescriptor", A, I, I, I, I, I, I, I, I); // desc, padH, padW, u, v, dilH, dilW, mode, computeType
    final MethodHandle setConvolutionMathType = status("cudnnSetConvolutionMathType", A, I);
    final MethodHandle setConvolutionGroupCount = status("cudnnSetConvolutionGroupCount", A, I);
    final MethodHandle destroyConvolution = status("cudnnDestroyConvolutionDescriptor", A);
    final MethodHandle convolutionOutputDim = status("cudnnGetConvolution2dForwardOutputDim", A, A, A, A, A, A, A);

    final MethodHandle forwardMaxCount = status("cudnnGetConvolutionForwardAlgorithmMaxCount", A, A);
    final MethodHandle forwardHeuristic = status("cudnnGetConvolutionForwardAlgorithm_v7", A, A, A, A, A, I, A, A);
    final MethodHandle forwardFind = status("cudnnFindConvolutionForwardAlgorithm", A, A, A, A, A, I, A, A);
    final MethodHandle forwardWorkspace = status("cudnnGetConvolutionForwardWorkspaceSize", A, A, A, A, A, I, A);
    final MethodHandle forward = status("cudnnConvolutionForward", A, A, A, A, A, A, A, I, A, L, A, A, A);

    final MethodHandle backwardDataMaxCount = status("cudnnGetConvolutionBackwardDataAlgorithmMaxCount", A, A);
    final MethodHandle backwardDataHeuristic = status("cudnnGetConvolutionBackwardDataAlgorithm_v7", A, A, A, A, A, I, A, A);
    final MethodHandle backwardDataFind = status("cudnnFindConvolutionBackwardDataAlgorithm", A, A, A, A, A, I, A, A);
    final MethodHandle backwardDataWorkspace = status("cudnnGetConvolutionBackwardDataWorkspaceSize", A, A, A, A, A, I, A);
    final MethodHandle backwardData = status("cudnnConvolutionBackwardData", A, A, A, A, A, A, A, I, A, L, A, A, A);

    final MethodHandle backwardFilterMaxCount = status("cudnnGetConvolutionBackwardFilterAlgorithmMaxCount", A, A);
    final MethodHandle backwardFilterHeuristic = status("cudnnGetConvolutionBackwardFilterAlgorithm_v7", A, A, A, A, A, I, A, A);
    final MethodHandle backwardFilterFind = status("cudnnFindConvolutionBackwardFilterAlgorithm", A, A, A, A, A, I, A, A);
    final MethodHandle backwardFilterWorkspace = status("cudnnGetConvolutionBackwardFilterWorkspaceSize", A, A, A, A, A, I, A);
    final MethodHandle backwardFilter = status("cudnnConvolutionBackwardFilter", A, A, A, A, A, A, A, I, A, L, A, A, A);

    /**
     * cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t (cudnn_cnn.h), identical layouts:
     * {algo, status, float time, size_t memory, determinism, mathType, int reserved[3]}.
     */
    static final MemoryLayout PERF = MemoryLayout.structLayout(
            JAVA_INT.withName("algo"), JAVA_INT.withName("status"), JAVA_FLOAT.withName("time"),
            MemoryLayout.paddingLayout(4), JAVA_LONG.withName("memory"), JAVA_INT.withName("determinism"),
            JAVA_INT.withName("mathType"), MemoryLayout.sequenceLayout(3, JAVA_INT).withName("reserved"),
            MemoryLayout.paddingLayout(4));
    static final long PERF_ALGO = 0, PERF_STATUS = 4, PERF_TIME = 8, PERF_MEMORY = 16, PERF_DETERMINISM = 24, PERF_MATH = 28;

    private CudnnApi() {}

    /** The bindings, created on first use; a missing library or symbol is a {@link CudaUnavailableException}. */
    static synchronized CudnnApi get() {
        if (instance != null) return instance;
        if (failure != null) throw failure;
        try {
            instance = new CudnnApi();
            return instance;
        } catch (CudaUnavailableException e) {
            failure = e;
            throw e;
        }
    }

    /** Binds to another library from now on (tests bind a fake cuDNN); {@code null} restores the real search. */
    static synchronized void bindTo(Supplier<NativeLibraries.Library> library) {
        source = library == null ? NativeLibraries::cudnn : library;
        instance = null;
        failure = null;
    }

    /** One downcall returning a cudnnStatus_t. */
    @FunctionalInterface
    interface Call {
        int run() throws Throwable;
    }

    /** Runs a call; a non-success status becomes a {@link NativeCallException} with cuDNN's own words. */
    void check(String function, Call call) {
        int status;
        try {
            status = call.run();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(function + " could not be called", t);
        }
        if (status != CudnnTypes.STATUS_SUCCESS) {
            throw new NativeCallException("cuDNN", function, status, describe(status), lastError());
        }
    }

    /** The status name as cudnnGetErrorString gives it. */
    String describe(int status) {
        String name;
        try {
            MemorySegment text = (MemorySegment) getErrorString.invokeExact(status);
            name = text.address() == 0 ? "CUDNN_STATUS_" + status : text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            name = "CUDNN_STATUS_" + status;
        }
        return name;
    }

    String lastError() {
        if (getLastErrorString.isEmpty()) return null;
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(1024);
            getLastErrorString.get().invokeExact(buffer, 1024L);
            String message = buffer.getString(0);
            return message.isBlank() ? null : message.strip();
        } catch (Throwable t) {
            return null;
        }
    }

    private MethodHandle status(String name, MemoryLayout... arguments) {
        return bind(name, FunctionDescriptor.of(JAVA_INT, arguments));
    }

    private MethodHandle bind(String name, FunctionDescriptor descriptor) {
        return optional(name, descriptor).orElseThrow(() -> new CudaUnavailableException(
                "cuDNN at " + library.path() + " (version " + library.version() + ") has no symbol " + name,
                List.of(library.path().toString()), "use cuDNN 9 (pip install nvidia-cudnn-cu13)"));
    }

    private Optional<MethodHandle> optional(String name, FunctionDescriptor descriptor) {
        return library.symbols().find(name).map(symbol -> linker.downcallHandle(symbol, descriptor));
    }
}
