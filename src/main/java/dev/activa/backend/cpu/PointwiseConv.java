package dev.activa.backend.cpu;

import dev.activa.activation.FloatBlock;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * 1×1 convolution without padding, at any stride: per image a plain GEMM, y_b[k, ho·wo] =
 * W[k, c] · x_b[c, ho·wo]. At stride 1 the image is that matrix as it lies; at a larger stride
 * the positions it reads are first copied out, image by image, into a compact [c, ho·wo] buffer
 * that stays in L2 for the GEMM (at stride 2 by vector permutes), so that the GEMM's packing
 * reads contiguous rows: strided scalar reads there cost nearly as much as its arithmetic at
 * these depths (K = c = 64). One image per GEMM, images in parallel, lets the forward pass write
 * straight into y's NCHW planes (no copy-out pass), and lets the weight gradient split the batch
 * rather than the small [k, c] result, so that no two threads pack the same input.
 */
final class PointwiseConv {
    private PointwiseConv() {}

    private static final VectorSpecies<Float> S = FloatBlock.SPECIES;
    private static final int L = S.length();

    /** Whether a batch of n is worth splitting by image: every thread gets one. */
    static boolean fits(Parallel parallel, Im2colConv.Geometry g, int n) {
        return g.r() == 1 && g.s() == 1 && g.pad() == 0 && n >= parallel.threads();
    }

    /**
     * y [n, k, ho, wo] = x [n, c, h, w] ⊛ w [k, c, 1, 1]. At stride &gt; 1 each image is compacted
     * just before its GEMM, into a buffer of the task's that the GEMM then reads from L2.
     */
    static void forward(Parallel parallel, Im2colConv.Geometry g, float[] x, float[] w, float[] y, int n, int k) {
        int c = g.c(), plane = g.outPlane(), image = c * plane;
        Sgemm.Packer weights = Sgemm.packerA(false, w, 0, c);
        parallel.forRange(n, 1, (b0, b1) -> {
            Workspaces.Floats scratch = SCRATCH.take();
            try {
                for (int b = b0; b < b1; b++) {
                    Sgemm.Packer positions = g.stride() == 1 ? Sgemm.packerB(false, x, b * image, plane)
                            : Sgemm.packerB(false, compacted(g, x, b, scratch), 0, plane);
                    Sgemm.gemmSerial(k, plane, c, 1f, weights, positions, 0f, y, b * k * plane, plane);
                }
            } finally {
                SCRATCH.give(scratch);
            }
        });
    }

    /**
     * dx [n, c, h, w] = Wᵀ · dY per image, spread back onto the strided positions, the positions in
     * between set to 0 (dx may arrive holding anything: see {@link Im2colConv#backwardInput}).
     */
    static void backwardInput(Parallel parallel, Im2colConv.Geometry g, float[] dy, float[] w, float[] dx, int n, int k) {
        int c = g.c(), plane = g.outPlane(), image = g.inImage();
        Sgemm.Packer weightsT = Sgemm.packerA(true, w, 0, c);
        parallel.forRange(n, 1, (b0, b1) -> {
            Workspaces.Floats scratch = SCRATCH.take();
            try {
                for (int b = b0; b < b1; b++) {
                    Sgemm.Packer grads = Sgemm.packerB(false, dy, b * k * plane, plane);
                    if (g.stride() == 1) {
                        Sgemm.gemmSerial(c, plane, k, 1f, weightsT, grads, 0f, dx, b * image, plane);
                        continue;
                    }
                    float[] t = scratch.atLeast(c * plane);
                    Sgemm.gemmSerial(c, plane, k, 1f, weightsT, grads, 0f, t, 0, plane);
                    Arrays.fill(dx, b * image, (b + 1) * image, 0f);
                    spread(g, t, dx, b * image);
                }
            } finally {
                SCRATCH.give(scratch);
            }
        });
    }

    /**
     * dw [k, c] = Σ_b dY_b · x_bᵀ over the subsampled positions: per thread, one GEMM per image
     * (its depth one image's positions; each image compacted just before, at stride &gt; 1), summed
     * into the thread's result.
     */
    static void backwardWeight(Parallel parallel, Im2colConv.Geometry g, float[] dy, float[] x, float[] dw, int n, int k) {
        int c = g.c(), plane = g.outPlane(), image = c * plane;
        int parts = Math.min(n, parallel.threads());
        float[][] partial = new float[parts][];
        parallel.forTasks(parts, part -> {
            int b0 = (int) ((long) n * part / parts), b1 = (int) ((long) n * (part + 1) / parts);
            float[] out = part == 0 ? dw : new float[k * c];
            Workspaces.Floats scratch = SCRATCH.take();
            try {
                for (int b = b0; b < b1; b++) {
                    Sgemm.Packer positions = g.stride() == 1 ? transposed(x, b * image, plane)
                            : transposed(compacted(g, x, b, scratch), 0, plane);
                    Sgemm.gemmSerial(k, c, plane, 1f, new Im2colConv.Planes(dy, b, k, plane).asRows(), positions,
                            b == b0 ? 0f : 1f, out, 0, c);
                }
            } finally {
                SCRATCH.give(scratch);
            }
            partial[part] = out;
        });
        for (int part = 1; part < parts; part++)
            for (int e = 0; e < k * c; e++) dw[e] += partial[part][e];
    }

    /** A task's buffer for an image compacted, or a gradient before it is spread ({@link Workspaces}). */
    private static final Workspaces<Workspaces.Floats> SCRATCH = new Workspaces<>(Workspaces.Floats::new);

    /** Lane l of two vectors' worth: element 2l, the even elements of a pair of vectors in one permute. */
    private static final FloatVector EVENS = evens();
    /** Lanes 2l of the low / high half's spread: element l (or L/2 + l), with a zero (lane L of a pair) between. */
    private static final FloatVector SPREAD_LOW = spreadIndex(0), SPREAD_HIGH = spreadIndex(L / 2);

    private static FloatVector evens() {
        float[] index = new float[L];
        for (int l = 0; l < L; l++) index[l] = 2 * l;
        return FloatVector.fromArray(S, index, 0);
    }

    private static FloatVector spreadIndex(int from) {
        float[] index = new float[L];
        for (int l = 0; l < L; l++) index[l] = l % 2 == 0 ? from + l / 2 : L;
        return FloatVector.fromArray(S, index, 0);
    }

    /**
     * Image b of x [n, c, h, w] at the strided positions, as [c, ho·wo] in the task's scratch
     * buffer (which it returns).
     */
    private static float[] compacted(Im2colConv.Geometry g, float[] x, int b, Workspaces.Floats scratch) {
        int c = g.c(), h = g.h(), w = g.w(), ho = g.ho(), wo = g.wo(), st = g.stride(), permuted = permuted(g);
        float[] out = scratch.atLeast(c * ho * wo);
        for (int ci = 0; ci < c; ci++)
            for (int oy = 0; oy < ho; oy++) {
                int src = ((b * c + ci) * h + oy * st) * w, dst = (ci * ho + oy) * wo, ox = 0;
                for (; ox < permuted; ox += L) {
                    FloatVector pair0 = FloatVector.fromArray(S, x, src + 2 * ox);
                    FloatVector pair1 = FloatVector.fromArray(S, x, src + 2 * ox + L);
                    EVENS.selectFrom(pair0, pair1).intoArray(out, dst + ox);
                }
                for (; ox < wo; ox++) out[dst + ox] = x[src + ox * st];
            }
        return out;
    }

    /**
     * One image [c, plane] at base of xs as B [plane, c], NR channels per panel: each packed line,
     * one position of NR channels, is two gathers a plane apart per lane, instead of NR scalar
     * reads written at a stride of NR floats.
     */
    private static Sgemm.Packer transposed(float[] xs, int base, int plane) {
        int[] channel = new int[Sgemm.NR];
        for (int j = 0; j < channel.length; j++) channel[j] = j * plane;
        return (from, count, k0, kc, out) -> {
            int nr = Sgemm.NR;
            for (int jr = 0; jr < count; jr += nr) {
                int panel = (jr / nr) * nr * kc, cols = Math.min(nr, count - jr), src = base + (from + jr) * plane + k0;
                for (int p = 0; p < kc; p++) {
                    int o = panel + p * nr;
                    if (cols == nr)
                        for (int half = 0; half < nr; half += L)
                            FloatVector.fromArray(S, xs, src + p, channel, half).intoArray(out, o + half);
                    else
                        for (int j = 0; j < nr; j++) out[o + j] = j < cols ? xs[src + channel[j] + p] : 0f;
                }
            }
        };
    }

    /**
     * At stride 2, the output positions of a row handled a vector at a time: those whose pair of
     * source vectors lies inside the row (wo ≥ w/2, so they are also inside the output row). The
     * rest, and every position at other strides, go one by one.
     */
    private static int permuted(Im2colConv.Geometry g) {
        return g.stride() == 2 ? g.w() / (2 * L) * L : 0;
    }

    /** t [c, ho·wo] onto the grid positions of the image at base of dx [c, h, w] (zero elsewhere already). */
    private static void spread(Im2colConv.Geometry g, float[] t, float[] dx, int base) {
        int h = g.h(), w = g.w(), wo = g.wo(), ho = g.ho(), st = g.stride();
        int spreadOut = permuted(g);
        FloatVector zero = FloatVector.zero(S);
        for (int ci = 0; ci < g.c(); ci++)
            for (int iy = 0; iy < h; iy++) {
                int d = base + (ci * h + iy) * w;
                if (iy % st != 0 || iy / st >= ho) continue;
                int s0 = (ci * ho + iy / st) * wo, ox = 0;
                for (; ox < spreadOut; ox += L) {
                    FloatVector v = FloatVector.fromArray(S, t, s0 + ox);
                    SPREAD_LOW.selectFrom(v, zero).intoArray(dx, d + 2 * ox);
                    SPREAD_HIGH.selectFrom(v, zero).intoArray(dx, d + 2 * ox + L);
                }
                for (; ox < wo; ox++) dx[d + ox * st] = t[s0 + ox];
            }
    }
}
