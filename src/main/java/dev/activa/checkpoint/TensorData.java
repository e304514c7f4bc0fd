package dev.activa.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;

/**
 * One tensor as safetensors stores it: a dtype name, a shape and the raw little-endian bytes.
 *
 * <p>The constructor checks that the bytes match dtype and shape, so a {@code TensorData} that
 * exists can always be written. The shape is copied; {@code data} is not (checkpoints are large),
 * so treat it as read-only once handed over.
 */
public record TensorData(String dtype, long[] shape, byte[] data) {

    /** Element sizes of the dtypes this engine reads and writes, by their safetensors names. */
    public static final Map<String, Integer> DTYPE_SIZES = Map.of(
            "F64", 8, "F32", 4, "F16", 2, "BF16", 2,
            "I64", 8, "I32", 4, "I16", 2, "I8", 1, "U8", 1, "BOOL", 1);

    public TensorData {
        if (dtype == null || !DTYPE_SIZES.containsKey(dtype)) {
            throw new IllegalArgumentException("unknown dtype " + dtype + "; known: " + DTYPE_SIZES.keySet());
        }
        if (shape == null || data == null) throw new IllegalArgumentException("shape and data are required");
        shape = shape.clone();
        long expected = byteLength(dtype, shape);
        if (expected != data.length) {
            throw new IllegalArgumentException("tensor of dtype " + dtype + " and shape " + Arrays.toString(shape)
                    + " needs " + expected + " bytes but has " + data.length);
        }
    }

    /** Bytes a tensor of this dtype and shape occupies; rejects negative dimensions and overflow. */
    static long byteLength(String dtype, long[] shape) {
        long count = 1;
        for (long dim : shape) {
            if (dim < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            try {
                count = Math.multiplyExact(count, dim);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " overflows a long");
            }
        }
        try {
            return Math.multiplyExact(count, DTYPE_SIZES.get(dtype));
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " overflows a long in bytes");
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        return data.length / DTYPE_SIZES.get(dtype);
    }

    public static TensorData ofFloats(long[] shape, float[] values) {
        var buffer = allocate(values.length, 4);
        buffer.asFloatBuffer().put(values);
        return new TensorData("F32", shape, buffer.array());
    }

    public static TensorData ofDoubles(long[] shape, double[] values) {
        var buffer = allocate(values.length, 8);
        buffer.asDoubleBuffer().put(values);
        return new TensorData("F64", shape, buffer.array());
    }

    public static TensorData ofLongs(long[] shape, long[] values) {
        var buffer = allocate(values.length, 8);
        buffer.asLongBuffer().put(values);
        return new TensorData("I64", shape, buffer.array());
    }

    /** IEEE half-precision values given as their raw bits (as {@link Float#floatToFloat16} returns). */
    public static TensorData ofHalfBits(long[] shape, short[] bits) {
        var buffer = allocate(bits.length, 2);
        buffer.asShortBuffer().put(bits);
        return new TensorData("F16", shape, buffer.array());
    }

    /** The values widened to float; F64 is narrowed, with the usual rounding. */
    public float[] toFloats() {
        var buffer = view();
        int n = (int) elementCount();
        float[] out = new float[n];
        switch (dtype) {
            case "F32" -> buffer.asFloatBuffer().get(out);
            case "F64" -> { for (int i = 0; i < n; i++) out[i] = (float) buffer.getDouble(8 * i); }
            case "F16" -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(buffer.getShort(2 * i)); }
            case "BF16" -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat(buffer.getShort(2 * i) << 16); }
            default -> throw notA("floating-point");
        }
        return out;
    }

    public double[] toDoubles() {
        if (dtype.equals("F64")) {
            double[] out = new double[(int) elementCount()];
            view().asDoubleBuffer().get(out);
            return out;
        }
        float[] floats = toFloats();
        double[] out = new double[floats.length];
        for (int i = 0; i < floats.length; i++) out[i] = floats[i];
        return out;
    }

    /** Integer tensors widened to long; U8 and BOOL read as unsigned. */
    public long[] toLongs() {
        var buffer = view();
        int n = (int) elementCount();
        long[] out = new long[n];
        switch (dtype) {
            case "I64" -> buffer.asLongBuffer().get(out);
            case "I32" -> { for (int i = 0; i < n; i++) out[i] = buffer.getInt(4 * i); }
            case "I16" -> { for (int i = 0; i < n; i++) out[i] = buffer.getShort(2 * i); }
            case "I8" -> { for (int i = 0; i < n; i++) out[i] = data[i]; }
            case "U8", "BOOL" -> { for (int i = 0; i < n; i++) out[i] = data[i] & 0xFF; }
            default -> throw notA("integer");
        }
        return out;
    }

    public short[] toHalfBits() {
        if (!dtype.equals("F16")) throw notA("F16");
        short[] out = new short[(int) elementCount()];
        view().asShortBuffer().get(out);
        return out;
    }

    private ByteBuffer view() {
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer allocate(int count, int size) {
        return ByteBuffer.allocate(Math.multiplyExact(count, size)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private IllegalStateException notA(String kind) {
        return new IllegalStateException("tensor has dtype " + dtype + ", not a " + kind + " dtype");
    }

    // Records compare arrays by identity; tensors are compared by content.
    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && dtype.equals(t.dtype)
                && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "TensorData[" + dtype + " " + Arrays.toString(shape) + ", " + data.length + " bytes]";
    }
}
