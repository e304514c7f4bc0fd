package dev.activa.activation;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One span of an activation's FP32 fast path, the unit its lane kernels work on: where the span's
 * input, upstream gradient and output lie in the caller's arrays, scratch rows, and the running
 * parameter-gradient sums.
 *
 * <p>Why spans of arrays. A kernel's vector code must be compiled in one piece, every
 * {@link FloatVector} in a register: a vector passed to or returned from a call that the JIT did
 * not inline is allocated on the heap, each 16 elements, which is several times slower. So every
 * call between the backend and an activation (megamorphic or not) passes arrays, never vectors,
 * and an activation's loop calls only {@link VectorMath}'s small lane functions, which the JIT
 * inlines. It stops inlining once a method's graph has grown past its node budget, some 25–45
 * vector operations: an exp fits into a kernel's loop, an exp and a sine do
 * not, so a kernel that needs more (Nami's) runs {@link VectorMath#sinCos} as a pass over
 * {@link #ROW} elements into the rows, which stay in L1, and its own loop over the same elements
 * after.
 *
 * <p>Why long spans. Loading x, computing and storing y in one loop over the whole span lets the
 * memory traffic overlap the arithmetic; short blocks, and passes that write a row first, made the
 * transcendental activations markedly slower against the copy bandwidth.
 *
 * <p>A kernel sees {@code n} elements, a multiple of {@link #LANES}: a ragged end of fewer than
 * LANES elements runs as a span of its own, padded with zeros in x and dy, and a residual is added
 * into staged rows of {@link #STAGE} elements first (x + residual), so kernels have no masks.
 */
public final class FloatBlock {
    /**
     * The vectors of every CPU kernel: the CPU's own width, or the width in bits that the system
     * property {@code activa.vector.bits} names (128, 256 or 512). A width the CPU lacks runs in
     * the Vector API's plain-Java fallback, far slower but the same arithmetic: CI uses it to test
     * the 16-lane paths on CPUs without AVX-512.
     */
    public static final VectorSpecies<Float> SPECIES = species(System.getProperty("activa.vector.bits"));
    public static final int LANES = SPECIES.length();

    static VectorSpecies<Float> species(String bits) {
        if (bits == null || bits.isBlank()) return FloatVector.SPECIES_PREFERRED;
        return switch (bits.strip()) {
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("activa.vector.bits: expected 128, 256 or 512, got '" + bits
                    + "'; leave it unset for this CPU's own width");
        };
    }
    /** Length of the scratch rows, 4 KiB each so that they stay in L1 beside the data. A multiple of any LANES. */
    public static final int ROW = 1024;
    /** Elements of x + residual staged at a time. */
    private static final int STAGE = 4096;

    /** The span's input, read at {@code x[xAt + i]} for i &lt; n (x + residual when one was fused in). */
    public float[] x;
    public int xAt;
    /** The upstream gradient (backward only), read at {@code dy[dyAt + i]}. */
    public float[] dy;
    public int dyAt;
    /** Where the kernel writes y (forward) or dx (backward): {@code out[outAt + i]}. */
    public float[] out;
    public int outAt;
    /** Elements in this span: a multiple of LANES. */
    public int n;
    /** Scratch rows of {@link #ROW} floats for a kernel's intermediate results. */
    public final float[] row1 = new float[ROW], row2 = new float[ROW];
    /** Scratch for a kernel's list of vectors within a row (their offsets), at most ROW / LANES of them. */
    public final int[] vectors = new int[ROW / LANES];
    /** Σ dy·∂f/∂p_k over the spans run so far; see {@link #addPartialSums}. */
    public final double[] parameterSums;
    /** A kernel's per-lane sums, LANES floats per parameter, for {@link #addPartialSums}. */
    public final float[] partialSums;

    private float[] stagedX; // x + residual, allocated on the first residual
    private final float[] tailX = new float[LANES], tailDy = new float[LANES], tailOut = new float[LANES];

    public FloatBlock(int parameters) {
        parameterSums = new double[parameters];
        partialSums = new float[parameters * LANES];
    }

    /** y = f(x + residual) over [from, to), residual possibly null. */
    public void forward(Activation act, float[] p, float[] xs, float[] residual, float[] y, int from, int to) {
        run(act, p, xs, residual, null, y, from, to);
    }

    /** dx = dy·f'(x + residual) over [from, to), adding the parameter gradients to {@link #parameterSums}. */
    public void backward(Activation act, float[] p, float[] xs, float[] residual, float[] dys, float[] dx,
                         int from, int to) {
        run(act, p, xs, residual, dys, dx, from, to);
    }

    /** The forward (dys null) or the backward: the whole vectors in one span (or staged ones), then the tail. */
    private void run(Activation act, float[] p, float[] xs, float[] residual, float[] dys, float[] result,
                     int from, int to) {
        int whole = from + (to - from) / LANES * LANES;
        if (residual == null) {
            if (whole > from) kernel(act, p, xs, from, dys, from, result, from, whole - from);
        } else {
            if (stagedX == null) stagedX = new float[STAGE];
            for (int at = from; at < whole; at += STAGE) {
                int count = Math.min(STAGE, whole - at);
                for (int i = 0; i < count; i++) stagedX[i] = xs[at + i] + residual[at + i];
                kernel(act, p, stagedX, 0, dys, at, result, at, count);
            }
        }
        if (whole < to) tail(act, p, xs, residual, dys, result, whole, to - whole);
    }

    /** The last count &lt; LANES elements, padded with zeros to one vector. */
    private void tail(Activation act, float[] p, float[] xs, float[] residual, float[] dys, float[] result,
                      int at, int count) {
        for (int i = 0; i < count; i++) tailX[i] = residual == null ? xs[at + i] : xs[at + i] + residual[at + i];
        Arrays.fill(tailX, count, LANES, 0f);
        if (dys != null) {
            System.arraycopy(dys, at, tailDy, 0, count);
            Arrays.fill(tailDy, count, LANES, 0f);
        }
        kernel(act, p, tailX, 0, dys == null ? null : tailDy, 0, tailOut, 0, LANES);
        System.arraycopy(tailOut, 0, result, at, count);
    }

    private void kernel(Activation act, float[] p, float[] xs, int xAt, float[] dys, int dyAt, float[] result,
                        int outAt, int count) {
        x = xs;
        this.xAt = xAt;
        dy = dys;
        this.dyAt = dyAt;
        out = result;
        this.outAt = outAt;
        n = count;
        if (dys == null) act.forward(this, p);
        else act.backward(this, p);
        x = dy = out = null; // a block kept for reuse holds no tensor's array between calls
    }

    /**
     * y = f(x) per element over [from, from + count) of the span, in double from
     * {@link Activation#value}, rounded once: the FP32 path of an activation without lane code
     * where its tables do not serve (see {@link Activation#forward}).
     */
    public void forwardByElement(Activation act, float[] p, int from, int count) {
        double[] pd = toDouble(p);
        for (int i = from; i < from + count; i++) out[outAt + i] = (float) act.value(x[xAt + i], pd);
    }

    /**
     * dx = dy·f'(x) per element over [from, from + count) of the span, in double from
     * {@link Activation#derivative}, and the parameter sums from {@link Activation#parameterPartials},
     * added to {@link #parameterSums}.
     */
    public void backwardByElement(Activation act, float[] p, int from, int count) {
        double[] pd = toDouble(p), partial = new double[p.length], sums = new double[p.length];
        for (int i = from; i < from + count; i++) {
            double xi = x[xAt + i], g = dy[dyAt + i];
            out[outAt + i] = (float) (g * act.derivative(xi, pd));
            if (p.length == 0) continue;
            act.parameterPartials(xi, pd, partial);
            for (int k = 0; k < p.length; k++) sums[k] += g * partial[k];
        }
        for (int k = 0; k < p.length; k++) parameterSums[k] += sums[k];
    }

    /** A run of consecutive vectors: its first offset and its length in elements. */
    interface Run {
        void accept(int start, int length);
    }

    /**
     * Calls {@code run} for each run of consecutive vectors among the first {@code count} offsets
     * in {@link #vectors} (ascending, as a kernel lists the vectors it leaves to another way).
     */
    void forEachRun(int count, Run run) {
        for (int f = 0; f < count; ) {
            int start = vectors[f], end = start + LANES;
            while (++f < count && vectors[f] == end) end += LANES;
            run.accept(start, end - start);
        }
    }

    /**
     * Runs a kernel on [from, from + count) of the span (whole vectors) as if that were the span:
     * for the vectors one way leaves to another. Sums it adds land in {@link #parameterSums} as usual.
     */
    void narrowed(int from, int count, Tabulated.Kernel kernel, float[] p) {
        int xAt0 = xAt, dyAt0 = dyAt, outAt0 = outAt, n0 = n;
        xAt += from;
        dyAt += from;
        outAt += from;
        n = count;
        try {
            kernel.run(this, p);
        } finally {
            xAt = xAt0;
            dyAt = dyAt0;
            outAt = outAt0;
            n = n0;
        }
    }

    private static double[] toDouble(float[] p) {
        double[] pd = new double[p.length];
        for (int k = 0; k < p.length; k++) pd[k] = p[k];
        return pd;
    }

    /**
     * Adds each parameter's lanes in {@link #partialSums} to {@link #parameterSums}, in lane order so
     * that the sums repeat exactly (see {@link Activation#sumLanes}). Lanes travel in an array, not
     * as a vector, for the reason in this class's comment.
     */
    public void addPartialSums() {
        for (int k = 0; k < parameterSums.length; k++) {
            double sum = 0;
            for (int lane = 0; lane < LANES; lane++) sum += partialSums[k * LANES + lane];
            parameterSums[k] += sum;
        }
    }
}
