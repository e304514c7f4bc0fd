package dev.activa.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.activa.backend.cuda.ConvAlgorithmCache.Choice;
import dev.activa.backend.cuda.ConvAlgorithmCache.Direction;
import dev.activa.backend.cuda.ConvAlgorithmCache.Mode;
import dev.activa.backend.cuda.CudnnDescriptor.Convolution;
import dev.activa.backend.cuda.CudnnDescriptor.Filter;
import dev.activa.backend.cuda.CudnnDescriptor.Pooling;
import dev.activa.backend.cuda.CudnnDescriptor.Tensor;
import dev.activa.backend.cuda.CudnnTypes.BatchNormMode;
import dev.activa.backend.cuda.CudnnTypes.DataType;
import dev.activa.backend.cuda.CudnnTypes.MathType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * A cuDNN handle bound to one stream: convolutions (forward, backward data, backward filter, and
 * their algorithm searches), batch normalization and pooling, over the legacy descriptor API that
 * cuDNN 9 still ships (cudnn_ops.h, cudnn_cnn.h).
 *
 * <p>Device memory is passed as raw addresses (from {@link CachingAllocator} or
 * {@link CudaDriver#malloc}). Scaling factors (alpha, beta) are host values: double for FP64 data,
 * float otherwise, as cuDNN requires. Like the cuDNN handle itself, an instance is for one thread
 * at a time.
 */
public final class Cudnn implements AutoCloseable {
    private static final int SCALAR_SLOTS = 4;

    private final CudnnApi api;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment scalars = arena.allocate(8L * SCALAR_SLOTS, 8);
    private boolean closed;

    private Cudnn(CudnnApi api, MemorySegment handle) {
        this.api = api;
        this.handle = handle;
    }

    /** The loaded cuDNN's version, e.g. "9.6.0"; loads the library but needs no GPU. */
    public static String version() {
        return NativeLibraries.cudnn().version();
    }

    /** A handle on {@code driver}'s device (its context must be current) and stream. */
    public static Cudnn create(CudaDriver driver) {
        driver.makeCurrent();
        return create(driver.streamAddress());
    }

    /** A handle for the current context, working on {@code stream} (a raw cudaStream_t). */
    public static Cudnn create(long stream) {
        CudnnApi api = CudnnApi.get();
        MemorySegment handle;
        try (Arena local = Arena.ofConfined()) {
            MemorySegment out = local.allocate(ADDRESS);
            api.check("cudnnCreate", () -> (int) api.create.invoke(out));
            handle = out.get(ADDRESS, 0);
        }
        var cudnn = new Cudnn(api, handle);
        cudnn.setStream(stream);
        return cudnn;
    }

    public void setStream(long stream) {
        api.check("cudnnSetStream", () -> (int) api.setStream.invoke(handle, ptr(stream)));
    }

    // ---------------------------------------------------------------- algorithm search

    /**
     * The algorithms cuDNN offers for one convolution, best first, with the workspace each needs.
     * For BACKWARD_DATA {@code x} describes dx and {@code y} dy; for BACKWARD_FILTER {@code w}
     * describes dw and {@code y} dy.
     */
    public List<Choice> algorithms(Direction direction, Tensor x, Filter w, Convolution convolution, Tensor y, Mode mode) {
        MethodHandle maxCount = switch (direction) {
            case FORWARD -> api.forwardMaxCount;
            case BACKWARD_DATA -> api.backwardDataMaxCount;
            case BACKWARD_FILTER -> api.backwardFilterMaxCount;
        };
        MethodHandle query = switch (direction) {
            case FORWARD -> mode == Mode.HEURISTIC ? api.forwardHeuristic : api.forwardFind;
            case BACKWARD_DATA -> mode == Mode.HEURISTIC ? api.backwardDataHeuristic : api.backwardDataFind;
            case BACKWARD_FILTER -> mode == Mode.HEURISTIC ? api.backwardFilterHeuristic : api.backwardFilterFind;
        };
        String name = (mode == Mode.HEURISTIC ? "cudnnGet" : "cudnnFind") + "Convolution" + switch (direction) {
            case FORWARD -> "Forward";
            case BACKWARD_DATA -> "BackwardData";
            case BACKWARD_FILTER -> "BackwardFilter";
        } + "Algorithm" + (mode == Mode.HEURISTIC ? "_v7" : "");
        // The three searches take their descriptors in different orders (cudnn_cnn.h).
        MemorySegment[] descriptors = switch (direction) {
            case FORWARD -> new MemorySegment[] {x.handle(), w.handle(), convolution.handle(), y.handle()};
            case BACKWARD_DATA -> new MemorySegment[] {w.handle(), y.handle(), convolution.handle(), x.handle()};
            case BACKWARD_FILTER -> new MemorySegment[] {x.handle(), y.handle(), convolution.handle(), w.handle()};
        };
        var out = new ArrayList<Choice>();
        try (Arena local = Arena.ofConfined()) {
            MemorySegment count = local.allocate(JAVA_INT);
            // The count comes from cudnnGet…AlgorithmMaxCount in either mode (there is no cudnnFind… of it).
            api.check(name.replace("_v7", "").replace("cudnnFind", "cudnnGet") + "MaxCount",
                    () -> (int) maxCount.invoke(handle, count));
            int requested = Math.max(1, count.get(JAVA_INT, 0));
            MemorySegment returned = local.allocate(JAVA_INT);
            MemorySegment perf = local.allocate(CudnnApi.PERF, requested);
            api.check(name, () -> (int) query.invoke(handle, descriptors[0], descriptors[1], descriptors[2],
                    descriptors[3], requested, returned, perf));
            for (int i = 0; i < returned.get(JAVA_INT, 0); i++) {
                long base = i * CudnnApi.PERF.byteSize();
                if (perf.get(JAVA_INT, base + CudnnApi.PERF_STATUS) != CudnnTypes.STATUS_SUCCESS) continue;
                int algorithm = perf.get(JAVA_INT, base + CudnnApi.PERF_ALGO);
                MathType mathType;
                try {
                    mathType = MathType.of(perf.get(JAVA_INT, base + CudnnApi.PERF_MATH));
                } catch (IllegalArgumentException unknown) {
                    continue; // a math type newer than this binding: skip rather than guess
                }
                long workspace = perf.get(JAVA_LONG, base + CudnnApi.PERF_MEMORY);
                if (mode == Mode.HEURISTIC) {
                    // Heuristic results do not promise a workspace size; ask under the math type it will run with.
                    // A candidate cuDNN cannot size there (NOT_SUPPORTED, say) is skipped, not the search ended.
                    convolution.mathType(mathType);
                    try {
                        workspace = workspaceBytes(direction, x, w, convolution, y, algorithm);
                    } catch (NativeCallException unsupported) {
                        continue;
                    }
                }
                out.add(new Choice(direction, algorithm, mathType, workspace,
                        perf.get(JAVA_FLOAT, base + CudnnApi.PERF_TIME),
                        perf.get(JAVA_INT, base + CudnnApi.PERF_DETERMINISM) == CudnnTypes.DETERMINISTIC));
            }
        } finally {
            convolution.mathType(convolution.shape().mathType());
        }
        return out;
    }

    /** A search for {@link ConvAlgorithmCache} that builds descriptors from the key's shapes. */
    public ConvAlgorithmCache.Search search(Mode mode) {
        return key -> {
            try (Tensor x = Tensor.of(key.x()); Filter w = Filter.of(key.w());
                 Convolution convolution = Convolution.of(key.convolution()); Tensor y = Tensor.of(key.y())) {
                return algorithms(key.direction(), x, w, convolution, y, mode);
            }
        };
    }

    /** Workspace bytes {@code algorithm} needs under the convolution descriptor's current math type. */
    public long workspaceBytes(Direction direction, Tensor x, Filter w, Convolution convolution, Tensor y, int algorithm) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment size = local.allocate(JAVA_LONG);
            switch (direction) {
                case FORWARD -> api.check("cudnnGetConvolutionForwardWorkspaceSize", () -> (int) api.forwardWorkspace
                        .invoke(handle, x.handle(), w.handle(), convolution.handle(), y.handle(), algorithm, size));
                case BACKWARD_DATA -> api.check("cudnnGetConvolutionBackwardDataWorkspaceSize", () -> (int) api.backwardDataWorkspace
                        .invoke(handle, w.handle(), y.handle(), convolution.handle(), x.handle(), algorithm, size));
                case BACKWARD_FILTER -> api.check("cudnnGetConvolutionBackwardFilterWorkspaceSize", () -> (int) api.backwardFilterWorkspace
                        .invoke(handle, x.handle(), y.handle(), convolution.handle(), w.handle(), algorithm, size));
            }
            return size.get(JAVA_LONG, 0);
        }
    }

    // ---------------------------------------------------------------- convolution

    /** y = alpha · conv(x, w) + beta · y. */
    public void convolutionForward(float alpha, Tensor xDesc, long x, Filter wDesc, long w, Convolution convolution,
                                   Choice algorithm, long workspace, long workspaceBytes, float beta, Tensor yDesc, long y) {
        requireDirection(algorithm, Direction.FORWARD);
        convolution.mathType(algorithm.mathType());
        DataType scaling = yDesc.shape().dataType();
        api.check("cudnnConvolutionForward", () -> (int) api.forward.invoke(handle, scalar(0, alpha, scaling),
                xDesc.handle(), ptr(x), wDesc.handle(), ptr(w), convolution.handle(), algorithm.algorithm(),
                ptr(workspace), workspaceBytes, scalar(1, beta, scaling), yDesc.handle(), ptr(y)));
    }

    /** dx = alpha · conv_backward_data(w, dy) + beta · dx. */
    public void convolutionBackwardData(float alpha, Filter wDesc, long w, Tensor dyDesc, long dy, Convolution convolution,
                                        Choice algorithm, long workspace, long workspaceBytes, float beta, Tensor dxDesc, long dx) {
        requireDirection(algorithm, Direction.BACKWARD_DATA);
        convolution.mathType(algorithm.mathType());
        DataType scaling = dxDesc.shape().dataType();
        api.check("cudnnConvolutionBackwardData", () -> (int) api.backwardData.invoke(handle, scalar(0, alpha, scaling),
                wDesc.handle(), ptr(w), dyDesc.handle(), ptr(dy), convolution.handle(), algorithm.algorithm(),
                ptr(workspace), workspaceBytes, scalar(1, beta, scaling), dxDesc.handle(), ptr(dx)));
    }

    /** dw = alpha · conv_backward_filter(x, dy) + beta · dw (beta = 1 accumulates). */
    public void convolutionBackwardFilter(float alpha, Tensor xDesc, long x, Tensor dyDesc, long dy, Convolution convolution,
                                          Choice algorithm, long workspace, long workspaceBytes, float beta, Filter dwDesc, long dw) {
        requireDirection(algorithm, Direction.BACKWARD_FILTER);
        convolution.mathType(algorithm.mathType());
        DataType scaling = dwDesc.shape().dataType();
        api.check("cudnnConvolutionBackwardFilter", () -> (int) api.backwardFilter.invoke(handle, scalar(0, alpha, scaling),
                xDesc.handle(), ptr(x), dyDesc.handle(), ptr(dy), convolution.handle(), algorithm.algorithm(),
                ptr(workspace), workspaceBytes, scalar(1, beta, scaling), dwDesc.handle(), ptr(dw)));
    }

    // ---------------------------------------------------------------- batch normalization

    /**
     * The descriptor for scale, bias, running and saved statistics (1×C×1×1, FP32 for FP16 data),
     * from cudnnDeriveBNTensorDescriptor. Its shape record repeats x's shape as a label only.
     */
    public Tensor batchNormParameters(Tensor x, BatchNormMode mode) {
        Tensor derived = Tensor.of(new CudnnDescriptor.TensorShape(x.shape().format(),
                x.shape().dataType() == DataType.DOUBLE ? DataType.DOUBLE : DataType.FLOAT, 1, x.shape().c(),
                mode == BatchNormMode.PER_ACTIVATION ? x.shape().h() : 1,
                mode == BatchNormMode.PER_ACTIVATION ? x.shape().w() : 1));
        try {
            api.check("cudnnDeriveBNTensorDescriptor",
                    () -> (int) api.deriveBnDescriptor.invoke(derived.handle(), x.handle(), mode.value));
        } catch (RuntimeException e) {
            derived.close();
            throw e;
        }
        return derived;
    }

    /**
     * Training-mode batch norm: y = BN(x) with batch statistics; updates the running statistics
     * ({@code running = factor · batch + (1 − factor) · running}) and saves mean and inverse
     * variance for the backward pass (either may be 0 to skip).
     */
    public void batchNormForwardTraining(BatchNormMode mode, Tensor xDesc, long x, Tensor yDesc, long y, Tensor parameters,
                                         long scale, long bias, double exponentialAverageFactor, long runningMean,
                                         long runningVariance, double epsilon, long saveMean, long saveInvVariance) {
        DataType scaling = xDesc.shape().dataType();
        api.check("cudnnBatchNormalizationForwardTraining", () -> (int) api.bnForwardTraining.invoke(handle, mode.value,
                scalar(0, 1, scaling), scalar(1, 0, scaling), xDesc.handle(), ptr(x), yDesc.handle(), ptr(y),
                parameters.handle(), ptr(scale), ptr(bias), exponentialAverageFactor, ptr(runningMean),
                ptr(runningVariance), epsilon, ptr(saveMean), ptr(saveInvVariance)));
    }

    /** Inference-mode batch norm with the running statistics. */
    public void batchNormForwardInference(BatchNormMode mode, Tensor xDesc, long x, Tensor yDesc, long y, Tensor parameters,
                                          long scale, long bias, long mean, long variance, double epsilon) {
        DataType scaling = xDesc.shape().dataType();
        api.check("cudnnBatchNormalizationForwardInference", () -> (int) api.bnForwardInference.invoke(handle, mode.value,
                scalar(0, 1, scaling), scalar(1, 0, scaling), xDesc.handle(), ptr(x), yDesc.handle(), ptr(y),
                parameters.handle(), ptr(scale), ptr(bias), ptr(mean), ptr(variance), epsilon));
    }

    /**
     * Batch-norm backward: dx (blended by alphaData/betaData) and dScale, dBias (blended by
     * alphaParam/betaParam; betaParam = 1 accumulates). savedMean/savedInvVariance from the forward
     * pass, or 0 to recompute.
     */
    public void batchNormBackward(BatchNormMode mode, float alphaData, float betaData, float alphaParam, float betaParam,
                                  Tensor xDesc, long x, Tensor dyDesc, long dy, Tensor dxDesc, long dx, Tensor parameters,
                                  long scale, long dScale, long dBias, double epsilon, long savedMean, long savedInvVariance) {
        DataType scaling = xDesc.shape().dataType();
        api.check("cudnnBatchNormalizationBackward", () -> (int) api.bnBackward.invoke(handle, mode.value,
                scalar(0, alphaData, scaling), scalar(1, betaData, scaling), scalar(2, alphaParam, scaling),
                scalar(3, betaParam, scaling), xDesc.handle(), ptr(x), dyDesc.handle(), ptr(dy), dxDesc.handle(),
                ptr(dx), parameters.handle(), ptr(scale), ptr(dScale), ptr(dBias), epsilon, ptr(savedMean),
                ptr(savedInvVariance)));
    }

    // ---------------------------------------------------------------- pooling

    /** y = alpha · pool(x) + beta · y. */
    public void poolingForward(Pooling pooling, float alpha, Tensor xDesc, long x, float beta, Tensor yDesc, long y) {
        DataType scaling = xDesc.shape().dataType();
        api.check("cudnnPoolingForward", () -> (int) api.poolingForward.invoke(handle, pooling.handle(),
                scalar(0, alpha, scaling), xDesc.handle(), ptr(x), scalar(1, beta, scaling), yDesc.handle(), ptr(y)));
    }

    /** dx = alpha · pool_backward(y, dy, x) + beta · dx; max pooling needs the forward x and y. */
    public void poolingBackward(Pooling pooling, float alpha, Tensor yDesc, long y, Tensor dyDesc, long dy, Tensor xDesc,
                                long x, float beta, Tensor dxDesc, long dx) {
        DataType scaling = xDesc.shape().dataType();
        api.check("cudnnPoolingBackward", () -> (int) api.poolingBackward.invoke(handle, pooling.handle(),
                scalar(0, alpha, scaling), yDesc.handle(), ptr(y), dyDesc.handle(), ptr(dy), xDesc.handle(), ptr(x),
                scalar(1, beta, scaling), dxDesc.handle(), ptr(dx)));
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            api.check("cudnnDestroy", () -> (int) api.destroy.invoke(handle));
        } finally {
            arena.close();
        }
    }

    // ---------------------------------------------------------------- helpers

    /** A device address as an FFM pointer argument; 0 becomes NULL (optional buffers). */
    static MemorySegment ptr(long address) {
        return MemorySegment.ofAddress(address);
    }

    /** Writes a scaling factor into host slot {@code slot}: double for FP64 data, float otherwise (cuDNN's rule). */
    private MemorySegment scalar(int slot, double value, DataType dataType) {
        MemorySegment s = scalars.asSlice(8L * slot, 8);
        if (dataType == DataType.DOUBLE) s.set(JAVA_DOUBLE, 0, value);
        else s.set(JAVA_FLOAT, 0, (float) value);
        return s;
    }

    private static void requireDirection(Choice choice, Direction direction) {
        if (choice.direction() != direction) {
            throw new IllegalArgumentException("a " + choice.direction() + " algorithm was passed to a " + direction + " convolution");
        }
    }
}
