package dev.activa.backend.cuda;

import dev.activa.backend.Checks.ConvShape;
import dev.activa.backend.Conv2dSpec;
import dev.activa.backend.cuda.ConvAlgorithmCache.Choice;
import dev.activa.backend.cuda.ConvAlgorithmCache.Direction;
import dev.activa.backend.cuda.ConvAlgorithmCache.Key;
import dev.activa.backend.cuda.ConvAlgorithmCache.Mode;
import dev.activa.backend.cuda.CudnnDescriptor.ConvolutionShape;
import dev.activa.backend.cuda.CudnnDescriptor.FilterShape;
import dev.activa.backend.cuda.CudnnDescriptor.TensorShape;
import dev.activa.backend.cuda.CudnnTypes.DataType;
import dev.activa.backend.cuda.CudnnTypes.MathType;
import dev.activa.backend.cuda.CudnnTypes.TensorFormat;
import dev.activa.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.function.ToLongFunction;

/**
 * 2-D convolutions through cuDNN: forward, backward data and backward filter, each with the
 * algorithm cuDNN's heuristics pick for its shape (searched once, {@link ConvAlgorithmCache}) and a
 * workspace from the caching allocator.
 *
 * <p>Layout: the backend's {@link ImageLayout} for data and filters alike, NHWC (filters KRSC) by
 * default, which FP16 tensor-core kernels read without cuDNN's internal transposes; NCHW when the
 * backend stores that.
 *
 * <p>Math: FP16 may use tensor cores (FP32 accumulation). FP32 is restricted to FMA kernels: on
 * Ampere and newer cuDNN's default math lets FP32 convolutions run in TF32 (10-bit mantissa),
 * which would put them ~1e-3 away from the CPU instead of ~1e-6.
 */
final class CudaConvolutions {
    /** Algorithms needing more workspace than this are passed over. */
    static final long WORKSPACE_LIMIT = 512L << 20;

    private final Cudnn cudnn;
    private final DescriptorCache descriptors;
    private final DeviceMemory memory;
    private final ConvAlgorithmCache algorithms;
    private final ImageLayout layout;

    CudaConvolutions(Cudnn cudnn, DescriptorCache descriptors, DeviceMemory memory, ImageLayout layout) {
        this.cudnn = cudnn;
        this.layout = layout;
        this.descriptors = descriptors;
        this.memory = memory;
        this.algorithms = new ConvAlgorithmCache(this::search, WORKSPACE_LIMIT, false);
    }

    static DataType dataType(DType dtype) {
        return switch (dtype) {
            case F32 -> DataType.FLOAT;
            case F16 -> DataType.HALF;
            case F64 -> throw new IllegalArgumentException("cuDNN convolutions run in FP32 or FP16 here");
        };
    }

    static MathType mathType(DType dtype) {
        return dtype == DType.F16 ? MathType.TENSOR_OP_MATH : MathType.FMA_MATH;
    }

    /** How cuDNN sees one direction of a convolution of these sizes: the algorithm cache's key. */
    static Key key(Direction direction, DType dtype, ImageLayout layout, ConvShape s, Conv2dSpec spec) {
        DataType type = dataType(dtype);
        TensorFormat format = layout.cudnnFormat();
        return new Key(direction,
                new TensorShape(format, type, s.n(), s.c(), s.h(), s.w()),
                new FilterShape(format, type, s.k(), s.c(), s.r(), s.s()),
                ConvolutionShape.of(spec.padding(), spec.stride(), mathType(dtype)),
                new TensorShape(format, type, s.n(), s.k(), s.ho(), s.wo()));
    }

    /** y = conv(x, w). */
    void forward(DType dtype, ConvShape s, Conv2dSpec spec, long x, long w, long y) {
        Key key = key(Direction.FORWARD, dtype, layout, s, spec);
        Choice choice = algorithms.get(key);
        withWorkspace(choice, ws ->
                    cudnn.convolutionForward(1f, descriptors.tensor(key.x()), x, descriptors.filter(key.w()), w,
                            descriptors.convolution(key.convolution()), choice, ws, choice.workspaceBytes(), 0f,
                            descriptors.tensor(key.y()), y));
    }

    /** dx = ∂conv/∂x applied to dy. */
    void backwardData(DType dtype, ConvShape s, Conv2dSpec spec, long dy, long w, long dx) {
        Key key = key(Direction.BACKWARD_DATA, dtype, layout, s, spec);
        Choice choice = algorithms.get(key);
        withWorkspace(choice, ws ->
                    cudnn.convolutionBackwardData(1f, descriptors.filter(key.w()), w, descriptors.tensor(key.y()), dy,
                            descriptors.convolution(key.convolution()), choice, ws, choice.workspaceBytes(), 0f,
                            descriptors.tensor(key.x()), dx));
    }

    /** dw = ∂conv/∂w applied to dy (overwritten, not accumulated). */
    void backwardFilter(DType dtype, ConvShape s, Conv2dSpec spec, long x, long dy, long dw) {
        Key key = key(Direction.BACKWARD_FILTER, dtype, layout, s, spec);
        Choice choice = algorithms.get(key);
        withWorkspace(choice, ws ->
                    cudnn.convolutionBackwardFilter(1f, descriptors.tensor(key.x()), x, descriptors.tensor(key.y()), dy,
                            descriptors.convolution(key.convolution()), choice, ws, choice.workspaceBytes(), 0f,
                            descriptors.filter(key.w()), dw));
    }

    int searchedShapes() { return algorithms.searches(); }

    /**
     * Keeps the candidates that can run on FMA units only: those cuDNN already reports as FMA_MATH,
     * and DEFAULT_MATH ones re-labelled FMA_MATH with the workspace they need then (a candidate
     * whose workspace query fails under FMA math is dropped). Tensor-op candidates are dropped. If
     * nothing is left the offer stands as it was: a slightly less exact convolution beats none.
     */
    static List<Choice> restrictToFma(List<Choice> offered, ToLongFunction<Choice> workspaceUnderFma) {
        var kept = new ArrayList<Choice>();
        for (Choice c : offered) {
            switch (c.mathType()) {
                case FMA_MATH -> kept.add(c);
                case DEFAULT_MATH -> {
                    try {
                        kept.add(new Choice(c.direction(), c.algorithm(), MathType.FMA_MATH,
                                workspaceUnderFma.applyAsLong(c), c.timeMs(), c.deterministic()));
                    } catch (NativeCallException notUnderFma) {
                        // this algorithm has no FMA implementation for the shape
                    }
                }
                case TENSOR_OP_MATH, TENSOR_OP_MATH_ALLOW_CONVERSION -> { }
            }
        }
        return kept.isEmpty() ? offered : kept;
    }

    private List<Choice> search(Key key) {
        CudnnDescriptor.Tensor x = descriptors.tensor(key.x()), y = descriptors.tensor(key.y());
        CudnnDescriptor.Filter w = descriptors.filter(key.w());
        CudnnDescriptor.Convolution convolution = descriptors.convolution(key.convolution());
        List<Choice> offered = cudnn.algorithms(key.direction(), x, w, convolution, y, Mode.HEURISTIC);
        if (key.convolution().mathType() != MathType.FMA_MATH) return offered;
        return restrictToFma(offered, c -> {
            convolution.mathType(MathType.FMA_MATH);
            return cudnn.workspaceBytes(key.direction(), x, w, convolution, y, c.algorithm());
        });
    }

    /** Runs {@code call} with a workspace of the size the choice needs (address 0 when it needs none). */
    private void withWorkspace(Choice choice, LongConsumer call) {
        if (choice.workspaceBytes() == 0) {
            call.accept(0);
            return;
        }
        CudaStorage ws = memory.scratch32("cuDNN " + choice.direction() + " workspace", (choice.workspaceBytes() + 3) / 4);
        try {
            call.accept(ws.address());
        } finally {
            ws.release(); // reused only by later work on the same stream, so no synchronisation is needed
        }
    }
}
