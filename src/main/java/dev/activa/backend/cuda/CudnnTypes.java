package dev.activa.backend.cuda;

/**
 * cuDNN 9 enums as Java enums carrying their C values. Each enum cites the cuDNN 9 header that
 * defines it (values checked against cuDNN 9.6.0's headers); only the members Activa uses or
 * may plausibly use are listed, in header order.
 */
public final class CudnnTypes {
    private CudnnTypes() {}

    /** cudnnDataType_t, cudnn_graph.h. */
    public enum DataType {
        FLOAT(0, 4), DOUBLE(1, 8), HALF(2, 2), BFLOAT16(9, 2);

        public final int value;
        public final int bytes;

        DataType(int value, int bytes) {
            this.value = value;
            this.bytes = bytes;
        }
    }

    /** cudnnTensorFormat_t, cudnn_graph.h. */
    public enum TensorFormat {
        NCHW(0), NHWC(1);

        public final int value;

        TensorFormat(int value) { this.value = value; }
    }

    /** cudnnMathType_t, cudnn_graph.h. */
    public enum MathType {
        DEFAULT_MATH(0), TENSOR_OP_MATH(1), TENSOR_OP_MATH_ALLOW_CONVERSION(2), FMA_MATH(3);

        public final int value;

        MathType(int value) { this.value = value; }

        static MathType of(int value) { return byValue(values(), value, m -> m.value); }
    }

    /** cudnnNanPropagation_t, cudnn_graph.h. */
    public enum NanPropagation {
        NOT_PROPAGATE_NAN(0), PROPAGATE_NAN(1);

        public final int value;

        NanPropagation(int value) { this.value = value; }
    }

    /** cudnnConvolutionMode_t, cudnn_graph.h. CROSS_CORRELATION is what deep-learning frameworks call convolution. */
    public enum ConvolutionMode {
        CONVOLUTION(0), CROSS_CORRELATION(1);

        public final int value;

        ConvolutionMode(int value) { this.value = value; }
    }

    /** cudnnConvolutionFwdAlgo_t, cudnn_ops.h. */
    public enum ForwardAlgorithm {
        IMPLICIT_GEMM(0), IMPLICIT_PRECOMP_GEMM(1), GEMM(2), DIRECT(3), FFT(4), FFT_TILING(5), WINOGRAD(6),
        WINOGRAD_NONFUSED(7);

        public final int value;

        ForwardAlgorithm(int value) { this.value = value; }

        static ForwardAlgorithm of(int value) { return byValue(values(), value, a -> a.value); }
    }

    /** cudnnConvolutionBwdDataAlgo_t, cudnn_ops.h. */
    public enum BackwardDataAlgorithm {
        ALGO_0(0), ALGO_1(1), FFT(2), FFT_TILING(3), WINOGRAD(4), WINOGRAD_NONFUSED(5);

        public final int value;

        BackwardDataAlgorithm(int value) { this.value = value; }

        static BackwardDataAlgorithm of(int value) { return byValue(values(), value, a -> a.value); }
    }

    /** cudnnConvolutionBwdFilterAlgo_t, cudnn_ops.h. */
    public enum BackwardFilterAlgorithm {
        ALGO_0(0), ALGO_1(1), FFT(2), ALGO_3(3), WINOGRAD(4), WINOGRAD_NONFUSED(5), FFT_TILING(6);

        public final int value;

        BackwardFilterAlgorithm(int value) { this.value = value; }

        static BackwardFilterAlgorithm of(int value) { return byValue(values(), value, a -> a.value); }
    }

    /** cudnnDeterminism_t, cudnn_ops.h: NON_DETERMINISTIC = 0, DETERMINISTIC = 1. */
    static final int DETERMINISTIC = 1;

    /** cudnnBatchNormMode_t, cudnn_ops.h. */
    public enum BatchNormMode {
        PER_ACTIVATION(0), SPATIAL(1), SPATIAL_PERSISTENT(2);

        public final int value;

        BatchNormMode(int value) { this.value = value; }

        /** SPATIAL_PERSISTENT is cuDNN's fast path for channels-last data; plain SPATIAL otherwise. */
        public static BatchNormMode forLayout(TensorFormat format) {
            return format == TensorFormat.NHWC ? SPATIAL_PERSISTENT : SPATIAL;
        }
    }

    /** cudnnPoolingMode_t, cudnn_ops.h. */
    public enum PoolingMode {
        MAX(0), AVERAGE_COUNT_INCLUDE_PADDING(1), AVERAGE_COUNT_EXCLUDE_PADDING(2), MAX_DETERMINISTIC(3);

        public final int value;

        PoolingMode(int value) { this.value = value; }
    }

    /** cudnnStatus_t, cudnn_graph.h: only SUCCESS is compared; cudnnGetErrorString names the rest. */
    static final int STATUS_SUCCESS = 0;

    private static <E extends Enum<E>> E byValue(E[] values, int value, java.util.function.ToIntFunction<E> of) {
        for (E e : values) if (of.applyAsInt(e) == value) return e;
        throw new IllegalArgumentException("unknown cuDNN enum value " + value + " for " + values[0].getDeclaringClass().getSimpleName());
    }
}
