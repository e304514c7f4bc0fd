package dev.activa.tensor;

import java.util.Arrays;

/** Helpers for shapes, which are plain {@code int[]} in row-major (NCHW for images) order. */
public final class Shape {
    private Shape() {}

    public static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    /** Throws an {@link IllegalArgumentException} naming the op unless the two shapes are equal. */
    public static void requireSame(String op, Tensor a, Tensor b) {
        if (!Arrays.equals(a.shape(), b.shape()))
            throw new IllegalArgumentException(op + ": shapes differ: " + str(a.shape()) + " vs " + str(b.shape()));
    }

    /** Throws an {@link IllegalArgumentException} naming the op unless t's elements fill shape exactly. */
    public static void requireViewable(String op, Tensor t, int[] shape) {
        if (numel(shape) != t.numel())
            throw new IllegalArgumentException(op + ": cannot view " + str(t.shape()) + " (" + t.numel()
                    + " elements) as " + str(shape));
    }

    public static void requireRank(String op, String what, Tensor t, int rank) {
        if (t.rank() != rank)
            throw new IllegalArgumentException(op + ": " + what + " must have rank " + rank + ", got shape " + str(t.shape()));
    }

    public static void requireDType(String op, Tensor a, Tensor b) {
        if (a.dtype() != b.dtype())
            throw new IllegalArgumentException(op + ": dtypes differ: " + a.dtype() + " " + str(a.shape())
                    + " vs " + b.dtype() + " " + str(b.shape()));
    }
}
