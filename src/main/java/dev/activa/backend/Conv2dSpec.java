package dev.activa.backend;

/** Stride and zero padding of a 2-D convolution or pooling window (square, the same on both axes). */
public record Conv2dSpec(int stride, int padding) {
    public Conv2dSpec {
        if (stride < 1) throw new IllegalArgumentException("conv2d: stride must be >= 1, got " + stride);
        if (padding < 0) throw new IllegalArgumentException("conv2d: padding must be >= 0, got " + padding);
    }

    public int outputSize(int input, int kernel) {
        return (input + 2 * padding - kernel) / stride + 1;
    }
}
