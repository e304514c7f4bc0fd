package dev.activa.activation;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One block of an activation's FP32 fast path, the unit its lane kernels work on: where the
 * block's input, upstream gradient and output lie in the caller's arrays, scratch rows for
 * intermediate results, and the running parameter-gradient sums.
 *
 * <p>Why blocks. A kernel's vector code must be compiled in one piece, every {@link FloatVector}
 * in a register: a vector passed to or returned from a call that the JIT did not inline is
 * allocated on the heap, each 16 elements, which is several times slower. The JIT stops inlining
 * once a method's graph has grown past its node budget (one loop computing exp, sine and cosine
 * reaches it), does not inline a method that it has already compiled on its own into a large
 * body, and does not inline at a call site that has seen several activations. So the heavy
 * functions run as their own loops over a block ({@link VectorMath}'s passes), writing rows that
 * stay in L1, an activation's own loop combines the rows, and every call between these pieces,
 * and from the backend into an activation (once per block, megamorphic or not), passes arrays,
 * never vectors.
 *
 * <p>A kernel sees {@code n} elements, a multiple of {@link #LANES}: the block pads a ragged end
 * (zeros in x and dy) and a residual (x + residual) into rows of its own, so kernels have no masks.
 */
public final class FloatBlock {
    public static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    public static final int LANES = SPECIES.length();
    /** Elements per block: 2 KiB a row, so that a kernel's rows stay in L1. A multiple of any LANES. */
    public static final int SIZE = 512;

    /** The block's input, read at {@code x[xAt + i]} for i &lt; n (x + residual when one was fused in). */
    public float[] x;
    public int xAt;
    /** The upstream gradient (backward only), read at {@code dy[dyAt + i]}. */
    public float[] dy;
    public int dyAt;
    /** Where the kernel writes y (forward) or dx (backward): {@code out[outAt + i]}. */
    public float[] out;
    public int outAt;
    /** Elements in this block: a multiple of LANES. */
    public int n;
    /** Scratch rows of SIZE floats for a kernel's intermediate results. */
    public final float[] row1 = new float[SIZE], row2 = new float[SIZE], row3 = new float[SIZE];
    /** Σ dy·∂f/∂p_k over the blocks run so far; see {@link #addPartialSums}. */
    public final double[] parameterSums;
    /** A kernel's per-lane sums for one block, LANES floats per parameter, for {@link #addPartialSums}. */
    public final float[] partialSums;

    private final float[] stagedX = new float[SIZE], stagedDy = new float[SIZE], stagedOut = new float[SIZE];

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

    /** The forward (dys null) or the backward, block by block. */
    private void run(Activation act, float[] p, float[] xs, float[] residual, float[] dys, float[] result,
                     int from, int to) {
        for (int at = from; at < to; at += SIZE) {
            int count = Math.min(SIZE, to - at);
            boolean ragged = stage(xs, residual, dys, at, count);
            out = ragged ? stagedOut : result;
            outAt = ragged ? 0 : at;
            if (dys == null) act.forward(this, p);
            else act.backward(this, p);
            if (ragged) System.arraycopy(stagedOut, 0, result, at, count);
        }
    }

    /** Points x and dy at the block [at, at + count), staging them where needed; true if it is ragged. */
    private boolean stage(float[] xs, float[] residual, float[] dys, int at, int count) {
        n = (count + LANES - 1) / LANES * LANES;
        boolean ragged = n != count;
        if (residual != null || ragged) {
            if (residual == null) System.arraycopy(xs, at, stagedX, 0, count);
            else for (int i = 0; i < count; i++) stagedX[i] = xs[at + i] + residual[at + i];
            Arrays.fill(stagedX, count, n, 0f);
            x = stagedX;
            xAt = 0;
        } else {
            x = xs;
            xAt = at;
        }
        if (dys != null && ragged) {
            System.arraycopy(dys, at, stagedDy, 0, count);
            Arrays.fill(stagedDy, count, n, 0f);
            dy = stagedDy;
            dyAt = 0;
        } else {
            dy = dys;
            dyAt = at;
        }
        return ragged;
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
