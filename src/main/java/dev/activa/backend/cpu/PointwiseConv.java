package dev.activa.backend.cpu;

import java.util.Arrays;

/**
 * 1×1 convolution without padding, at any stride: per image a plain GEMM over the subsampled
 * positions, y_b[k, ho·wo] = W[k, c] · x_b[c, (s·oy, s·ox)], with no index table. One image per
 * GEMM, images in parallel, lets the forward pass write straight into y's NCHW planes (no
 * copy-out pass), and lets the weight gradient split the batch rather than the small [k, c]
 * result, so that no two threads pack the same input.
 */
final class PointwiseConv {
    private PointwiseConv() {}

    /** Whether a batch of n is worth splitting by image: every thread gets one. */
    static boolean fits(Im2colConv.Geometry g, int n) {
        return g.r() == 1 && g.s() == 1 && g.pad() == 0 && n >= Parallel.threads();
    }

    /** y [n, k, ho, wo] = x [n, c, h, w] ⊛ w [k, c, 1, 1]. */
    static void forward(Im2colConv.Geometry g, float[] x, float[] w, float[] y, int n, int k) {
        int c = g.c(), plane = g.outPlane(), image = g.inImage();
        Sgemm.Packer weights = Sgemm.packerA(false, w, 0, c);
        Parallel.forRange(n, 1, (b0, b1) -> {
            for (int b = b0; b < b1; b++)
                Sgemm.gemmSerial(k, plane, c, 1f, weights, positions(g, x, b * image), 0f, y, b * k * plane, plane);
        });
    }

    /** dx [n, c, h, w] = Wᵀ · dY per image, spread back onto the strided positions (zeros between). */
    static void backwardInput(Im2colConv.Geometry g, float[] dy, float[] w, float[] dx, int n, int k) {
        int c = g.c(), plane = g.outPlane(), image = g.inImage(), hw = g.h() * g.w();
        Sgemm.Packer weightsT = Sgemm.packerA(true, w, 0, c);
        Parallel.forRange(n, 1, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                Sgemm.Packer grads = Sgemm.packerB(false, dy, b * k * plane, plane);
                if (g.stride() == 1) {
                    Sgemm.gemmSerial(c, plane, k, 1f, weightsT, grads, 0f, dx, b * image, hw);
                    continue;
                }
                float[] t = scratch(c * plane);
                Sgemm.gemmSerial(c, plane, k, 1f, weightsT, grads, 0f, t, 0, plane);
                spread(g, t, dx, b * image);
            }
        });
    }

    /** dw [k, c] = Σ_b dY_b · x_bᵀ over the subsampled positions: one GEMM per thread over its images. */
    static void backwardWeight(Im2colConv.Geometry g, float[] dy, float[] x, float[] dw, int n, int k) {
        int c = g.c(), plane = g.outPlane();
        int parts = Math.min(n, Parallel.threads());
        float[][] partial = new float[parts][];
        Parallel.forTasks(parts, part -> {
            int b0 = (int) ((long) n * part / parts), b1 = (int) ((long) n * (part + 1) / parts);
            float[] out = part == 0 ? dw : new float[k * c];
            Sgemm.gemmSerial(k, c, (b1 - b0) * plane, 1f, new Im2colConv.Planes(dy, b0, k, plane).asRows(),
                    positionsTransposed(g, x, b0), 0f, out, 0, c);
            partial[part] = out;
        });
        for (int part = 1; part < parts; part++)
            for (int e = 0; e < k * c; e++) dw[e] += partial[part][e];
    }

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    private static float[] scratch(int size) {
        float[][] holder = SCRATCH.get();
        if (holder[0].length < size) holder[0] = new float[size];
        return holder[0];
    }

    /** The image at base as B [c, ho·wo]: channel rows, output positions read at stride s. */
    private static Sgemm.Packer positions(Im2colConv.Geometry g, float[] x, int base) {
        int w = g.w(), wo = g.wo(), st = g.stride(), hw = g.h() * w;
        return (from, count, k0, kc, out) -> {
            int nr = Sgemm.NR;
            for (int jr = 0; jr < count; jr += nr) {
                int panel = (jr / nr) * nr * kc, cols = Math.min(nr, count - jr);
                for (int done = 0; done < cols; ) {
                    // a run of positions along one output row
                    int q = from + jr + done, oy = q / wo, ox = q - oy * wo, len = Math.min(cols - done, wo - ox);
                    int s0 = base + oy * st * w + ox * st;
                    for (int p = 0; p < kc; p++) {
                        int src = s0 + (k0 + p) * hw, o = panel + p * nr + done;
                        if (st == 1) System.arraycopy(x, src, out, o, len);
                        else for (int l = 0; l < len; l++) out[o + l] = x[src + l * st];
                    }
                    done += len;
                }
                if (cols < nr)
                    for (int p = 0; p < kc; p++) Arrays.fill(out, panel + p * nr + cols, panel + (p + 1) * nr, 0f);
            }
        };
    }

    /** Images b0… as B [images·ho·wo, c]: the transpose of {@link #positions}, NR channels per panel. */
    private static Sgemm.Packer positionsTransposed(Im2colConv.Geometry g, float[] x, int b0) {
        int w = g.w(), wo = g.wo(), st = g.stride(), hw = g.h() * w, plane = g.outPlane(), image = g.inImage();
        return (from, count, k0, kc, out) -> {
            int nr = Sgemm.NR;
            for (int jr = 0; jr < count; jr += nr) {
                int panel = (jr / nr) * nr * kc, cols = Math.min(nr, count - jr);
                for (int p = 0; p < kc; ) {
                    int d = k0 + p, b = d / plane, q = d - b * plane, oy = q / wo, ox = q - oy * wo;
                    int len = Math.min(kc - p, wo - ox), s0 = (b0 + b) * image + oy * st * w + ox * st;
                    for (int j = 0; j < nr; j++) {
                        int o = panel + p * nr + j;
                        if (j >= cols) {
                            for (int l = 0; l < len; l++) out[o + l * nr] = 0;
                            continue;
                        }
                        int src = s0 + (from + jr + j) * hw;
                        for (int l = 0; l < len; l++) out[o + l * nr] = x[src + l * st];
                    }
                    p += len;
                }
            }
        };
    }

    /** t [c, ho·wo] onto the image at base of dx [c, h, w]: every element written, zeros off the grid. */
    private static void spread(Im2colConv.Geometry g, float[] t, float[] dx, int base) {
        int h = g.h(), w = g.w(), wo = g.wo(), ho = g.ho(), st = g.stride();
        for (int ci = 0; ci < g.c(); ci++)
            for (int iy = 0; iy < h; iy++) {
                int d = base + (ci * h + iy) * w;
                Arrays.fill(dx, d, d + w, 0f);
                if (iy % st != 0 || iy / st >= ho) continue;
                int s0 = (ci * ho + iy / st) * wo;
                for (int ox = 0; ox < wo; ox++) dx[d + ox * st] = t[s0 + ox];
            }
    }
}
