package dev.activa.backend;

import dev.activa.activation.Activation;
import dev.activa.tensor.Shape;
import dev.activa.tensor.Tensor;

/**
 * The argument checks every backend makes before it touches memory, so the CPU and the GPU
 * reject the same mistakes with the same words.
 */
public final class Checks {
    private Checks() {}

    /** The sizes of one 2-D convolution: input [n, c, h, w], weight [k, c, r, s], output [n, k, ho, wo]. */
    public record ConvShape(int n, int c, int h, int w, int k, int r, int s, int ho, int wo) {
        public int[] outputShape() { return new int[] {n, k, ho, wo}; }
    }

    public static ConvShape convShape(String op, int[] x, int[] w, Conv2dSpec spec) {
        if (x.length != 4 || w.length != 4)
            throw new IllegalArgumentException(op + ": input must be [N, C, H, W] and weight [K, C, R, S], got "
                    + Shape.str(x) + " and " + Shape.str(w));
        if (x[1] != w[1])
            throw new IllegalArgumentException(op + ": input has " + x[1] + " channels but weight expects " + w[1]
                    + " (input " + Shape.str(x) + ", weight " + Shape.str(w) + ")");
        int ho = spec.outputSize(x[2], w[2]), wo = spec.outputSize(x[3], w[3]);
        if (ho < 1 || wo < 1)
            throw new IllegalArgumentException(op + ": kernel " + w[2] + "×" + w[3] + " with padding " + spec.padding()
                    + " does not fit input " + Shape.str(x));
        return new ConvShape(x[0], x[1], x[2], x[3], w[0], w[2], w[3], ho, wo);
    }

    /** The output shape [n, c, ho, wo] of a square max-pool window over x. */
    public static int[] maxPoolShape(Tensor x, int kernel, Conv2dSpec spec) {
        if (x.rank() != 4)
            throw new IllegalArgumentException("max pool: input must be [N, C, H, W], got " + Shape.str(x.shape()));
        int ho = spec.outputSize(x.dim(2), kernel), wo = spec.outputSize(x.dim(3), kernel);
        if (ho < 1 || wo < 1)
            throw new IllegalArgumentException("max pool: window " + kernel + " does not fit input " + Shape.str(x.shape()));
        return new int[] {x.dim(0), x.dim(1), ho, wo};
    }

    /** The residual of a fused act(x + residual), where there is one: x's shape and dtype. */
    public static void residual(Activation act, Tensor x, Tensor residual) {
        if (residual == null) return;
        Shape.requireSame(act.name() + "(x + residual)", x, residual);
        Shape.requireDType(act.name() + "(x + residual)", x, residual);
    }

    public static void channelBias(Tensor x, Tensor bias) {
        int[] sh = x.shape();
        if (sh.length != 4 || bias.rank() != 1 || bias.dim(0) != sh[1])
            throw new IllegalArgumentException("conv2d bias: expected bias [" + (sh.length > 1 ? sh[1] : "C")
                    + "] for output " + Shape.str(sh) + ", got " + Shape.str(bias.shape()));
    }

    public static void rowBias(Tensor x, Tensor bias) {
        if (x.rank() != 2 || bias.rank() != 1 || bias.dim(0) != x.dim(1))
            throw new IllegalArgumentException("linear bias: expected bias [" + x.dim(-1) + "] for " + Shape.str(x.shape())
                    + ", got " + Shape.str(bias.shape()));
    }

    public static void batchNorm(Tensor x, Tensor... perChannel) {
        if (x.rank() != 4)
            throw new IllegalArgumentException("batchnorm2d: input must be [N, C, H, W], got " + Shape.str(x.shape()));
        for (Tensor p : perChannel)
            if (p.rank() != 1 || p.dim(0) != x.dim(1))
                throw new IllegalArgumentException("batchnorm2d: per-channel tensor of shape " + Shape.str(p.shape())
                        + " does not match the " + x.dim(1) + " channels of input " + Shape.str(x.shape()));
    }

    public static void batchNormTraining(Tensor x) {
        if ((long) x.dim(0) * x.dim(2) * x.dim(3) < 2)
            throw new IllegalArgumentException("batchnorm2d: training needs more than one value per channel, got input "
                    + Shape.str(x.shape()));
    }

    /** {m, n, k} of op(a) [m, k] · op(b) [k, n]. */
    public static int[] matmulShape(Tensor a, Tensor b, boolean transposeA, boolean transposeB) {
        if (a.rank() != 2 || b.rank() != 2)
            throw new IllegalArgumentException("matmul: both operands must be 2-D, got " + Shape.str(a.shape())
                    + " and " + Shape.str(b.shape()));
        Shape.requireDType("matmul", a, b);
        int m = transposeA ? a.dim(1) : a.dim(0), k = transposeA ? a.dim(0) : a.dim(1);
        int kb = transposeB ? b.dim(1) : b.dim(0), n = transposeB ? b.dim(0) : b.dim(1);
        if (k != kb)
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + Shape.str(a.shape())
                    + (transposeA ? "ᵀ" : "") + " · " + Shape.str(b.shape()) + (transposeB ? "ᵀ" : ""));
        return new int[] {m, n, k};
    }

    public static void labels(String op, Tensor logits, int[] labels) {
        if (logits.rank() != 2)
            throw new IllegalArgumentException(op + ": logits must be [rows, classes], got " + Shape.str(logits.shape()));
        if (labels.length != logits.dim(0))
            throw new IllegalArgumentException(op + ": " + labels.length + " labels for " + logits.dim(0) + " rows of logits");
        for (int i = 0; i < labels.length; i++)
            if (labels[i] < 0 || labels[i] >= logits.dim(1))
                throw new IllegalArgumentException(op + ": label " + labels[i] + " at row " + i + " is outside [0, "
                        + logits.dim(1) + ")");
    }

    public static void sameCount(String op, Tensor dst, Tensor src) {
        if (dst.numel() != src.numel())
            throw new IllegalArgumentException(op + ": " + src.numel() + " elements " + Shape.str(src.shape())
                    + " do not fit " + Shape.str(dst.shape()));
    }

    public static void sameCount(String op, int values, int[] shape) {
        if (values != Shape.numel(shape))
            throw new IllegalArgumentException(op + ": " + values + " values do not fill shape " + Shape.str(shape));
    }
}
