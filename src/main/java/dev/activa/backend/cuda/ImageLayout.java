package dev.activa.backend.cuda;

import dev.activa.backend.cuda.CudnnTypes.TensorFormat;
import java.util.Locale;
import java.util.function.Function;

/**
 * How the CUDA backend arranges 4-D tensors [N, C, H, W] in device memory. Their shape and every
 * copy to or from the host stay NCHW, the Backend contract's order; only the device memory
 * differs. NHWC (channels-last, the default) is what cuDNN's tensor-core convolutions and its
 * persistent batch norm read natively (with NCHW, cuDNN transposes FP16 data around each
 * tensor-core convolution); NCHW is kept as the plain alternative. Weights [K, C, R, S] are 4-D
 * too, so under NHWC they are KRSC, the filter layout cuDNN pairs with NHWC data. Tensors of other
 * ranks are row-major either way.
 *
 * <p>Chosen when the backend opens: the system property {@value #PROPERTY}, else the environment
 * variable {@value #VARIABLE}, else NHWC.
 */
public enum ImageLayout {
    NCHW, NHWC;

    public static final String PROPERTY = "activa.cuda.layout", VARIABLE = "ACTIVA_CUDA_LAYOUT";

    /** The configured layout (see the class comment). */
    static ImageLayout configured() {
        return configured(System::getProperty, System::getenv);
    }

    static ImageLayout configured(Function<String, String> properties, Function<String, String> environment) {
        String value = properties.apply(PROPERTY), from = "-D" + PROPERTY;
        if (value == null) {
            value = environment.apply(VARIABLE);
            from = VARIABLE;
        }
        if (value == null || value.isBlank()) return NHWC;
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(from + "=" + value + " is not a layout; use nhwc (channels-last, the "
                    + "default) or nchw");
        }
    }

    TensorFormat cudnnFormat() {
        return this == NHWC ? TensorFormat.NHWC : TensorFormat.NCHW;
    }

    /** Whether 4-D tensors keep their channels innermost. */
    boolean channelsLast() { return this == NHWC; }

    /**
     * Whether a tensor of this shape lies in memory in another order than row-major over its
     * shape: 4-D under NHWC with more than one channel and more than one pixel.
     */
    boolean reorders(int[] shape) {
        return this == NHWC && shape.length == 4 && shape[1] > 1 && (long) shape[2] * shape[3] > 1;
    }

    /**
     * Whether the elements of a tensor of shape {@code from} lie in the same memory order when
     * read as shape {@code to} (same count): neither shape moves its elements, or both do over the
     * same images and channels ([N][H·W][C] either way).
     */
    boolean sameOrder(int[] from, int[] to) {
        boolean moved = reorders(from);
        if (moved != reorders(to)) return false;
        return !moved || (from[0] == to[0] && from[1] == to[1]);
    }

    /** The elements of a tensor of {@code shape}, given row-major, in this layout's memory order. */
    float[] toMemoryOrder(float[] rowMajor, int[] shape) {
        return reorders(shape) ? transposed(rowMajor, shape[0], shape[1], shape[2] * shape[3]) : rowMajor;
    }

    /** The inverse of {@link #toMemoryOrder}: a tensor's elements as this layout stores them, row-major. */
    float[] toRowMajor(float[] stored, int[] shape) {
        return reorders(shape) ? transposed(stored, shape[0], shape[2] * shape[3], shape[1]) : stored;
    }

    /** y[b][c][r] = x[b][r][c], as the device's {@code activa_transpose} kernel does. */
    private static float[] transposed(float[] x, int batch, int rows, int cols) {
        float[] y = new float[x.length];
        for (int b = 0, at = 0; b < batch; b++, at += rows * cols)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) y[at + c * rows + r] = x[at + r * cols + c];
        return y;
    }
}
