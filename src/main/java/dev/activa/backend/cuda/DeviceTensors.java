package dev.activa.backend.cuda;

import dev.activa.backend.Backend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Shape;
import dev.activa.tensor.Tensor;

/**
 * The CUDA backend's tensors as memory: allocation (named, for out-of-memory errors), dtype
 * conversion, copies to and from the host, and moves between shapes whose memory orders differ.
 * Dense in both dtypes, FP16 as its 16-bit patterns; 4-D tensors in the backend's
 * {@link ImageLayout}, which host copies undo on the host, so the host always sees row-major NCHW.
 */
final class DeviceTensors {
    private final Backend owner;
    private final CudaDriver driver;
    private final DeviceMemory memory;
    private final CudaKernels kernels;
    private final ImageLayout layout;

    DeviceTensors(Backend owner, CudaDriver driver, DeviceMemory memory, CudaKernels kernels, ImageLayout layout) {
        this.owner = owner;
        this.driver = driver;
        this.memory = memory;
        this.kernels = kernels;
        this.layout = layout;
    }

    static long address(Tensor t) { return ((CudaStorage) t.storage()).address(); }

    /** A new tensor of {@code shape}; {@code op} names it if the GPU has no room. Contents undefined. */
    Tensor allocate(String op, DType dtype, int... shape) {
        if (dtype == DType.F64) throw CudaBackend.fp64(op);
        for (int d : shape)
            if (d < 0) throw new IllegalArgumentException(op + ": negative dimension in " + Shape.str(shape));
        long n = Shape.numel(shape);
        return new Tensor(owner, dtype, shape, memory.allocate(op + " " + Shape.str(shape) + " " + dtype, dtype, n));
    }

    /**
     * The dtype a backward computes in from x and dy: theirs where they agree, else FP32, as the
     * CPU computes, rather than rounding an FP32 operand to FP16 first.
     */
    static DType backwardType(Tensor x, Tensor dy) {
        return x.dtype() == dy.dtype() ? x.dtype() : DType.F32;
    }

    /** {@code t} itself when it already has {@code dtype}, else a converted copy. */
    Tensor converted(Tensor t, DType dtype) {
        if (t.dtype() == dtype) return t;
        Tensor out = allocate("cast", dtype, t.shape());
        copyInto(out, t);
        return out;
    }

    /** dst ← src, converting between FP32 and FP16 when the dtypes differ (same element count). */
    void copyInto(Tensor dst, Tensor src) {
        if (src.numel() == 0) return;
        if (dst.dtype() == src.dtype())
            driver.copyDeviceToDevice(address(dst), address(src), ((CudaStorage) src.storage()).bytes());
        else kernels.cast(src.dtype(), dst.dtype(), address(src), address(dst), src.numel());
    }

    /** Frees a temporary made by {@link #converted} (nothing when it was the original itself). */
    static void release(Tensor temporary, Tensor original) {
        if (temporary != original) ((CudaStorage) temporary.storage()).release();
    }

    /** A device int buffer holding {@code values} (labels, argmax). */
    CudaStorage uploadInts(String what, int[] values) {
        CudaStorage s = memory.scratch32(what, values.length);
        if (values.length > 0) driver.upload(s.address(), values);
        return s;
    }

    /** t ← data, given row-major over t's shape. */
    void upload(Tensor t, float[] data) {
        if (data.length == 0) return;
        data = layout.toMemoryOrder(data, t.shape());
        if (t.dtype() == DType.F32) {
            driver.upload(address(t), data);
        } else {
            short[] bits = new short[data.length];
            for (int i = 0; i < data.length; i++) bits[i] = Float.floatToFloat16(data[i]);
            driver.upload(address(t), bits);
        }
    }

    /** t's elements, row-major over its shape. */
    float[] download(Tensor t) {
        float[] out = new float[Math.toIntExact(t.numel())];
        if (out.length == 0) return out;
        if (t.dtype() == DType.F32) {
            driver.download(address(t), out);
        } else {
            short[] bits = new short[out.length];
            driver.download(address(t), bits);
            for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(bits[i]);
        }
        return layout.toRowMajor(out, t.shape());
    }

    /**
     * t's elements, in row-major order, as a tensor of {@code shape} (same count) laid out for that
     * shape: a reshape between shapes whose memory orders differ, into new storage by one transpose
     * out of t's channels-last order, or into the new shape's, or both (t's own storage where
     * neither shape moves its elements).
     */
    Tensor reshaped(String op, Tensor t, int[] shape) {
        Tensor rowMajor = t;
        if (layout.reorders(t.shape())) {
            int[] s = t.shape();
            rowMajor = allocate(op, t.dtype(), s);
            kernels.transpose(t.dtype(), address(t), address(rowMajor), s[0], s[2] * s[3], s[1]);
        }
        if (!layout.reorders(shape)) return new Tensor(owner, t.dtype(), shape, rowMajor.storage());
        Tensor out = allocate(op, t.dtype(), shape);
        kernels.transpose(t.dtype(), address(rowMajor), address(out), shape[0], shape[1], shape[2] * shape[3]);
        release(rowMajor, t);
        return out;
    }
}
