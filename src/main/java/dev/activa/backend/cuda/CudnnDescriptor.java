package dev.activa.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.activa.backend.cuda.CudnnTypes.ConvolutionMode;
import dev.activa.backend.cuda.CudnnTypes.DataType;
import dev.activa.backend.cuda.CudnnTypes.MathType;
import dev.activa.backend.cuda.CudnnTypes.NanPropagation;
import dev.activa.backend.cuda.CudnnTypes.PoolingMode;
import dev.activa.backend.cuda.CudnnTypes.TensorFormat;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * cuDNN's descriptors: an opaque handle plus the plain shape it was set to. The shapes are value
 * records, so they key caches ({@link ConvAlgorithmCache}) and describe a layer without native
 * memory; {@code of(shape)} creates and sets the native descriptor, {@code close()} destroys it.
 */
public sealed interface CudnnDescriptor extends AutoCloseable {
    MemorySegment handle();

    @Override
    void close();

    /** A 4-D tensor; dimensions are always given as n, c, h, w whatever the memory layout. */
    record TensorShape(TensorFormat format, DataType dataType, int n, int c, int h, int w) {
        public long elements() { return (long) n * c * h * w; }

        public long bytes() { return elements() * dataType.bytes; }
    }

    /** A filter bank of k output channels over c input channels (per group), r × s; the format must match the data's. */
    record FilterShape(TensorFormat format, DataType dataType, int k, int c, int h, int w) {
        public long elements() { return (long) k * c * h * w; }

        public long bytes() { return elements() * dataType.bytes; }
    }

    /** A 2-D convolution. {@code computeType} FLOAT for FP32 and FP16 data; {@code groups} 1 for a plain convolution. */
    record ConvolutionShape(int padH, int padW, int strideH, int strideW, int dilationH, int dilationW,
                            ConvolutionMode mode, DataType computeType, MathType mathType, int groups) {
        /** Cross-correlation (the deep-learning convention), FP32 accumulation, dilation 1, one group. */
        public static ConvolutionShape of(int pad, int stride, MathType mathType) {
            return new ConvolutionShape(pad, pad, stride, stride, 1, 1, ConvolutionMode.CROSS_CORRELATION,
                    DataType.FLOAT, mathType, 1);
        }
    }

    /** A 2-D pooling window. */
    record PoolingShape(PoolingMode mode, int windowH, int windowW, int padH, int padW, int strideH, int strideW) {
        public static PoolingShape max(int window, int stride, int pad) {
            return new PoolingShape(PoolingMode.MAX, window, window, pad, pad, stride, stride);
        }
    }

    record Tensor(MemorySegment handle, TensorShape shape) implements CudnnDescriptor {
        public static Tensor of(TensorShape shape) {
            CudnnApi api = CudnnApi.get();
            MemorySegment handle = create(api, "cudnnCreateTensorDescriptor", api.createTensor);
            try {
                api.check("cudnnSetTensor4dDescriptor", () -> (int) api.setTensor4d.invoke(handle,
                        shape.format().value, shape.dataType().value, shape.n(), shape.c(), shape.h(), shape.w()));
            } catch (RuntimeException e) {
                destroy(api, "cudnnDestroyTensorDescriptor", api.destroyTensor, handle);
                throw e;
            }
            return new Tensor(handle, shape);
        }

        public static Tensor of(TensorFormat format, DataType dataType, int n, int c, int h, int w) {
            return of(new TensorShape(format, dataType, n, c, h, w));
        }

        @Override
        public void close() {
            CudnnApi api = CudnnApi.get();
            destroy(api, "cudnnDestroyTensorDescriptor", api.destroyTensor, handle);
        }
    }

    record Filter(MemorySegment handle, FilterShape shape) implements CudnnDescriptor {
        public static Filter of(FilterShape shape) {
            CudnnApi api = CudnnApi.get();
            MemorySegment handle = create(api, "cudnnCreateFilterDescriptor", api.createFilter);
            try {
                // Note the argument order: data type before format, unlike cudnnSetTensor4dDescriptor (cudnn_ops.h).
                api.check("cudnnSetFilter4dDescriptor", () -> (int) api.setFilter4d.invoke(handle,
                        shape.dataType().value, shape.format().value, shape.k(), shape.c(), shape.h(), shape.w()));
            } catch (RuntimeException e) {
                destroy(api, "cudnnDestroyFilterDescriptor", api.destroyFilter, handle);
                throw e;
            }
            return new Filter(handle, shape);
        }

        public static Filter of(TensorFormat format, DataType dataType, int k, int c, int h, int w) {
            return of(new FilterShape(format, dataType, k, c, h, w));
        }

        @Override
        public void close() {
            CudnnApi api = CudnnApi.get();
            destroy(api, "cudnnDestroyFilterDescriptor", api.destroyFilter, handle);
        }
    }

    record Convolution(MemorySegment handle, ConvolutionShape shape) implements CudnnDescriptor {
        public static Convolution of(ConvolutionShape shape) {
            CudnnApi api = CudnnApi.get();
            MemorySegment handle = create(api, "cudnnCreateConvolutionDescriptor", api.createConvolution);
            try {
                api.check("cudnnSetConvolution2dDescriptor", () -> (int) api.setConvolution2d.invoke(handle,
                        shape.padH(), shape.padW(), shape.strideH(), shape.strideW(), shape.dilationH(),
                        shape.dilationW(), shape.mode().value, shape.computeType().value));
                api.check("cudnnSetConvolutionMathType",
                        () -> (int) api.setConvolutionMathType.invoke(handle, shape.mathType().value));
                if (shape.groups() != 1) {
                    api.check("cudnnSetConvolutionGroupCount",
                            () -> (int) api.setConvolutionGroupCount.invoke(handle, shape.groups()));
                }
            } catch (RuntimeException e) {
                destroy(api, "cudnnDestroyConvolutionDescriptor", api.destroyConvolution, handle);
                throw e;
            }
            return new Convolution(handle, shape);
        }

        /** The algorithm searches report the math type each algorithm needs; it must be set before running it. */
        void mathType(MathType mathType) {
            CudnnApi api = CudnnApi.get();
            api.check("cudnnSetConvolutionMathType", () -> (int) api.setConvolutionMathType.invoke(handle, mathType.value));
        }

        /** The output shape of this convolution over {@code x} with {@code w}. */
        public TensorShape outputShape(Tensor x, Filter w) {
            CudnnApi api = CudnnApi.get();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment dims = arena.allocate(JAVA_INT, 4);
                api.check("cudnnGetConvolution2dForwardOutputDim", () -> (int) api.convolutionOutputDim.invoke(handle,
                        x.handle(), w.handle(), dims, dims.asSlice(4), dims.asSlice(8), dims.asSlice(12)));
                return new TensorShape(x.shape().format(), x.shape().dataType(), dims.getAtIndex(JAVA_INT, 0),
                        dims.getAtIndex(JAVA_INT, 1), dims.getAtIndex(JAVA_INT, 2), dims.getAtIndex(JAVA_INT, 3));
            }
        }

        @Override
        public void close() {
            CudnnApi api = CudnnApi.get();
            destroy(api, "cudnnDestroyConvolutionDescriptor", api.destroyConvolution, handle);
        }
    }

    record Pooling(MemorySegment handle, PoolingShape shape) implements CudnnDescriptor {
        public static Pooling of(PoolingShape shape) {
            CudnnApi api = CudnnApi.get();
            MemorySegment handle = create(api, "cudnnCreatePoolingDescriptor", api.createPooling);
            try {
                api.check("cudnnSetPooling2dDescriptor", () -> (int) api.setPooling2d.invoke(handle, shape.mode().value,
                        NanPropagation.NOT_PROPAGATE_NAN.value, shape.windowH(), shape.windowW(), shape.padH(),
                        shape.padW(), shape.strideH(), shape.strideW()));
            } catch (RuntimeException e) {
                destroy(api, "cudnnDestroyPoolingDescriptor", api.destroyPooling, handle);
                throw e;
            }
            return new Pooling(handle, shape);
        }

        /** The output shape of this pooling over {@code x}. */
        public TensorShape outputShape(Tensor x) {
            CudnnApi api = CudnnApi.get();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment dims = arena.allocate(JAVA_INT, 4);
                api.check("cudnnGetPooling2dForwardOutputDim", () -> (int) api.poolingOutputDim.invoke(handle,
                        x.handle(), dims, dims.asSlice(4), dims.asSlice(8), dims.asSlice(12)));
                return new TensorShape(x.shape().format(), x.shape().dataType(), dims.getAtIndex(JAVA_INT, 0),
                        dims.getAtIndex(JAVA_INT, 1), dims.getAtIndex(JAVA_INT, 2), dims.getAtIndex(JAVA_INT, 3));
            }
        }

        @Override
        public void close() {
            CudnnApi api = CudnnApi.get();
            destroy(api, "cudnnDestroyPoolingDescriptor", api.destroyPooling, handle);
        }
    }

    /** Calls a cudnnCreate*Descriptor(&out) function and returns the new handle. */
    private static MemorySegment create(CudnnApi api, String function, MethodHandle create) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            api.check(function, () -> (int) create.invoke(out));
            return out.get(ADDRESS, 0);
        }
    }

    private static void destroy(CudnnApi api, String function, MethodHandle destroy, MemorySegment handle) {
        api.check(function, () -> (int) destroy.invoke(handle));
    }
}
