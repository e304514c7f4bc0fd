package dev.activa.backend.cpu;

import dev.activa.activation.FloatBlock;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * FP32 convolution as im2col + {@link Sgemm}, the unfolding fused into the GEMM's packing: the
 * column matrix [C·R·S, N·Ho·Wo] is never built. The GEMM asks for KC-deep blocks of it and
 * {@link Unfold} fills them straight from the images through an index table computed once per
 * geometry: for each row (c, i, j) of the column matrix, the channel plane and the (y, x) shift
 * it reads. Along a row of output positions the reads are a contiguous (stride 1) or strided run
 * of one input row, so the packing copies runs, with Vector API loads at stride 1 and gathers at
 * larger strides, and zero-fills the padding; output rows narrower than a vector are gathered
 * instead from a zero-bordered copy, and so is each line of the transposed packing (weight
 * gradient), one position of NR rows read from NR places. A whole batch is one GEMM, and nothing is
 * allocated per call but a packer's few index arrays once the scratch buffers have grown.
 *
 * <ul>
 *   <li>forward: y[K, N·Ho·Wo] = W[K, C·R·S] · cols(x), then copied to NCHW;</li>
 *   <li>weight gradient: dW[K, C·R·S] = dY[K, N·Ho·Wo] · cols(x)ᵀ;</li>
 *   <li>input gradient, stride 1: a convolution of dY with the kernel transposed,
 *       dx[C, N·H·W] = W'[C, K·R·S] · cols'(dY), cols' unfolding dY with the shifts negated;</li>
 *   <li>input gradient, stride &gt; 1 (where that convolution would mostly multiply zeros):
 *       dcol = Wᵀ · dY in chunks of images, folded back (col2im) in parallel over (image,
 *       channel) planes, which no two rows of different channels share.</li>
 * </ul>
 * Where they fit, the passes hand over instead, in this order, to {@link WinogradConv} (3×3
 * "same" layers: forward pass and input gradient), {@link DirectConv} (stride 1, few channels)
 * and {@link PointwiseConv} (1×1).
 */
final class Im2colConv {
    /** Floats per dcol chunk (stride &gt; 1 input gradient): bounds memory while keeping GEMMs wide. */
    private static final int COLUMN_BUDGET = 1 << 22;

    static final VectorSpecies<Float> S = FloatBlock.SPECIES;
    static final int L = S.length();

    /** One convolution's shape: input [c, h, w] per image, kernel r×s, output ho×wo. */
    record Geometry(int c, int h, int w, int r, int s, int stride, int pad) {
        int ho() { return (h + 2 * pad - r) / stride + 1; }
        int wo() { return (w + 2 * pad - s) / stride + 1; }
        int rows() { return c * r * s; }
        int outPlane() { return ho() * wo(); }
        int inImage() { return c * h * w; }
    }

    /**
     * A column matrix [rows, images·gridH·gridW] over a source of images [channels, srcH, srcW]:
     * element (t, (b, y, x)) is src[b·srcImage + chan[t] + iy·srcW + ix] with iy = y·stride + dy[t]
     * and ix = x·stride + dx[t], or 0 where (iy, ix) falls outside the source (padding).
     * {@code lo[t]} ≤ x &lt; {@code hi[t]} is where ix is inside. This is the index table.
     */
    record Unfold(int gridH, int gridW, int srcH, int srcW, int stride, int srcImage,
                  int[] chan, int[] dy, int[] dx, int[] lo, int[] hi) {
        static Unfold of(int gridH, int gridW, int srcH, int srcW, int stride, int srcImage,
                         int[] chan, int[] dy, int[] dx) {
            int rows = chan.length;
            int[] lo = new int[rows], hi = new int[rows];
            for (int t = 0; t < rows; t++) {
                lo[t] = Math.max(0, Math.ceilDiv(-dx[t], stride));
                hi[t] = Math.max(lo[t], Math.min(gridW, Math.floorDiv(srcW - 1 - dx[t], stride) + 1));
            }
            return new Unfold(gridH, gridW, srcH, srcW, stride, srcImage, chan, dy, dx, lo, hi);
        }

        int plane() { return gridH * gridW; }

        /** The gather map of L consecutive positions along a source row: 0, stride, 2·stride, … */
        private int[] strided() {
            int[] map = new int[L];
            for (int l = 0; l < L; l++) map[l] = l * stride;
            return map;
        }

        /**
         * As the GEMM's B [rows, columns], over {@code images} images of src: NR-column panels.
         * Grid rows narrower than a vector would make runs of a few elements, each paying the
         * bounds arithmetic of a whole run; there the source is copied once with zero borders
         * and each packed line is gathered (positions fixed per panel, one offset per row), else
         * the panels are split into runs along one grid row.
         */
        Sgemm.Packer columns(Parallel parallel, float[] src, int images) {
            return gridW < L ? gathered(parallel, src, images) : runs(src);
        }

        /** The zero border, on every side, that puts every read of this unfolding inside a padded copy of the source. */
        private int padding() {
            int pad = 0;
            for (int t = 0; t < chan.length; t++) {
                pad = Math.max(pad, Math.max(-dy[t], -dx[t]));
                pad = Math.max(pad, (gridH - 1) * stride + dy[t] - (srcH - 1));
                pad = Math.max(pad, (gridW - 1) * stride + dx[t] - (srcW - 1));
            }
            return pad;
        }

        /**
         * The images of src copied with zero borders wide enough for every read of this
         * unfolding (rows wp wide, images imageP apart), and where each row of the column matrix
         * reads grid position (0, 0) in that copy.
         */
        private record Bordered(float[] data, int wp, int imageP, int[] rowStart) {}

        private Bordered bordered(Parallel parallel, float[] src, int images) {
            int pad = padding(), wp = srcW + 2 * pad, planeP = (srcH + 2 * pad) * wp;
            int channels = srcImage / (srcH * srcW);
            float[] data = DirectConv.padded(parallel, src, images, channels, srcH, srcW, pad);
            int[] rowStart = new int[chan.length];
            for (int t = 0; t < chan.length; t++)
                rowStart[t] = chan[t] / (srcH * srcW) * planeP + (dy[t] + pad) * wp + dx[t] + pad;
            return new Bordered(data, wp, channels * planeP, rowStart);
        }

        private Sgemm.Packer gathered(Parallel parallel, float[] src, int images) {
            Bordered source = bordered(parallel, src, images);
            float[] padded = source.data();
            int wp = source.wp(), imageP = source.imageP();
            int[] rowStart = source.rowStart();
            return (from, count, k0, kc, out) -> {
                int nr = Sgemm.NR, plane = plane();
                int[] position = new int[nr];
                for (int jr = 0; jr < count; jr += nr) {
                    int base = (jr / nr) * nr * kc, cols = Math.min(nr, count - jr);
                    for (int j = 0; j < nr; j++) { // columns past the end repeat the last one, then are zeroed
                        int col = from + jr + Math.min(j, cols - 1), b = col / plane, q = col - b * plane, y = q / gridW;
                        position[j] = b * imageP + y * stride * wp + (q - y * gridW) * stride;
                    }
                    for (int p = 0; p < kc; p++) {
                        int start = rowStart[k0 + p], o = base + p * nr;
                        for (int half = 0; half < nr; half += L)
                            FloatVector.fromArray(S, padded, start, position, half).intoArray(out, o + half);
                    }
                    if (cols < nr)
                        for (int p = 0; p < kc; p++) Arrays.fill(out, base + p * nr + cols, base + (p + 1) * nr, 0f);
                }
            };
        }

        /** {@link #columns} as runs along grid rows, read straight from src. */
        private Sgemm.Packer runs(float[] src) {
            int[] strided = strided();
            return (from, count, k0, kc, out) -> {
                int nr = Sgemm.NR, plane = plane();
                for (int jr = 0; jr < count; jr += nr) {
                    int base = (jr / nr) * nr * kc, cols = Math.min(nr, count - jr);
                    for (int done = 0; done < cols; ) {
                        int col = from + jr + done, b = col / plane, q = col - b * plane;
                        int y = q / gridW, x0 = q - y * gridW, len = Math.min(cols - done, gridW - x0);
                        // Inline (a call per row costs more than its copy): zero where the run
                        // reaches into the padding, copy the inside, gathering at stride > 1.
                        for (int p = 0; p < kc; p++) {
                            int t = k0 + p, o = base + p * nr + done, iy = y * stride + dy[t];
                            int a = Math.min(len, Math.max(0, lo[t] - x0));
                            int z = Math.max(a, Math.min(len, hi[t] - x0));
                            if (iy < 0 || iy >= srcH) z = a;
                            if (a > 0 || z < len) Arrays.fill(out, o, o + len, 0f);
                            int from0 = b * srcImage + chan[t] + iy * srcW + dx[t] + (x0 + a) * stride, n = z - a;
                            int l = 0;
                            if (stride == 1) {
                                for (; l <= n - L; l += L) FloatVector.fromArray(S, src, from0 + l).intoArray(out, o + a + l);
                                if (l < n) {
                                    VectorMask<Float> m = S.indexInRange(l, n);
                                    FloatVector.fromArray(S, src, from0 + l, m).intoArray(out, o + a + l, m);
                                }
                            } else {
                                for (; l <= n - L; l += L)
                                    FloatVector.fromArray(S, src, from0 + l * stride, strided, 0).intoArray(out, o + a + l);
                                for (; l < n; l++) out[o + a + l] = src[from0 + l * stride];
                            }
                        }
                        done += len;
                    }
                    if (cols < nr)
                        for (int p = 0; p < kc; p++) Arrays.fill(out, base + p * nr + cols, base + (p + 1) * nr, 0f);
                }
            };
        }

        /**
         * As the GEMM's B [columns, rows] (the transpose), over {@code images} images of src: NR
         * rows of the column matrix per panel. Each packed line holds one position of NR rows, so
         * it is gathered, L rows at a time, from a copy of the source with zero borders (as in
         * {@link #gathered}): the rows' offsets fixed per panel, one offset per position, and no
         * masks for the padding: 3×3 weight gradients at 4×4 to 14×14 (32–128 channels) take
         * 11–25% less time than with masked gathers straight from src.
         */
        Sgemm.Packer transposed(Parallel parallel, float[] src, int images) {
            Bordered source = bordered(parallel, src, images);
            float[] padded = source.data();
            int wp = source.wp(), imageP = source.imageP();
            int[] rowStart = source.rowStart();
            return (from, count, k0, kc, out) -> {
                int nr = Sgemm.NR, plane = plane();
                int[] map = new int[nr];
                for (int jr = 0; jr < count; jr += nr) {
                    int base = (jr / nr) * nr * kc, rowsHere = Math.min(nr, count - jr);
                    for (int j = 0; j < nr; j++) map[j] = rowStart[from + jr + Math.min(j, rowsHere - 1)];
                    int b = k0 / plane, q = k0 - b * plane, y = q / gridW, x = q - y * gridW;
                    for (int p = 0; p < kc; p++) {
                        int at = b * imageP + y * stride * wp + x * stride, o = base + p * nr;
                        for (int half = 0; half < nr; half += L)
                            FloatVector.fromArray(S, padded, at, map, half).intoArray(out, o + half);
                        if (++x == gridW) { // the next position: along the row, then down, then the next image
                            x = 0;
                            if (++y == gridH) {
                                y = 0;
                                b++;
                            }
                        }
                    }
                    if (rowsHere < nr) // rows past the end repeated the last one: zero them
                        for (int p = 0; p < kc; p++) Arrays.fill(out, base + p * nr + rowsHere, base + (p + 1) * nr, 0f);
                }
            };
        }
    }

    private final Geometry g;
    private final Parallel parallel;
    private final Unfold unfold;
    /** Per output-channel count: the unfolding of dY for the transposed (input-gradient) convolution. */
    private final Map<Integer, Unfold> transposedUnfolds = new ConcurrentHashMap<>();

    /** Whether this geometry's weight gradient runs {@link DirectConv} (the other two passes decide per call, by channels). */
    private final boolean directWeight;

    Im2colConv(Geometry g, Parallel parallel) {
        this.g = g;
        this.parallel = parallel;
        this.directWeight = directWeightFits(g);
        int rows = g.rows(), taps = g.r() * g.s();
        int[] chan = new int[rows], dy = new int[rows], dx = new int[rows];
        for (int t = 0; t < rows; t++) {
            int ci = t / taps, tap = t % taps;
            chan[t] = ci * g.h() * g.w();
            dy[t] = tap / g.s() - g.pad();
            dx[t] = tap % g.s() - g.pad();
        }
        this.unfold = Unfold.of(g.ho(), g.wo(), g.h(), g.w(), g.stride(), g.inImage(), chan, dy, dx);
    }

    /**
     * Forward and input gradient run {@link DirectConv} at stride 1 with a square kernel and
     * padding the transposed convolution can mirror (pad &lt; r), when rows of the output and of
     * the input fill most of its 2L lanes: there it beats the GEMM at every channel count measured
     * (it packs nothing). Narrower rows, which it runs flattened, still win where at least 3/4 of
     * its lanes are outputs (rows of 7 and more at 3×3) with at most {@value #NARROW_DIRECT_CHANNELS}
     * channels on either side: forward 1.2–1.7× and input gradient up to 1.8× faster than the GEMM
     * at 14×14 with 32 channels, 7×7 and 8×8 with 64 and 16×16 with 128 (measured interleaved in
     * one JVM), where the GEMM's few rows (the output channels) leave it mostly packing; as fast or
     * slightly faster at 7×7 and 8×8 with 128. With 256 channels and more, or rows of 4, the GEMM
     * is as fast or faster. Narrow 1×1 layers stay with {@link PointwiseConv}: the direct kernel
     * was 20–44% slower in three of the four passes measured at 8×8 and 16×16.
     */
    static boolean directFits(Geometry g, int k) {
        if (!directShape(g)) return false;
        int mirror = g.r() - 1 - g.pad(); // the input gradient's padding of dY
        double share = Math.min(DirectConv.outputShare(g.wo(), g.w() + 2 * g.pad()),
                DirectConv.outputShare(g.w(), g.wo() + 2 * mirror));
        return wideRows(g) || (g.r() > 1 && share >= 0.75 && Math.max(g.c(), k) <= NARROW_DIRECT_CHANNELS);
    }

    private static final int NARROW_DIRECT_CHANNELS = 128;

    /**
     * At most 288 rows (32 channels at 3×3): at 64 channels the GEMM's weight gradient is faster.
     * Narrow rows too at 16 lanes, 3×3 with 32 channels, flattened and at least
     * {@value #NARROW_WEIGHT_SHARE} of the lanes outputs (14×14, 16×16, 20×20): 1.15–1.45× faster
     * than the GEMM at 14×14 (one JVM, the two interleaved, batch 32 and 128), 1.2× at 20×20 and
     * 16×16. Not with 16 channels (a tie at 14×14 and 16×16), on rows of 7 or 12 (the GEMM faster
     * or as fast), nor at 8 lanes, where the kernel's block is half as wide (4 channels × 2 taps) and
     * the GEMM was 1.15–1.35× faster at 12×12 and 1.4–2.4× at 7×7 with 32 channels.
     */
    static boolean directWeightFits(Geometry g) {
        if (!directShape(g) || g.rows() > 288) return false;
        if (wideRows(g)) return true;
        var layout = DirectConv.WeightLayout.of(g.h(), g.w(), g.r(), g.s(), g.pad());
        return DirectConv.L >= 16 && g.r() == 3 && g.c() >= 32 && layout.flat() && layout.outputShare() >= NARROW_WEIGHT_SHARE;
    }

    private static final double NARROW_WEIGHT_SHARE = 0.85;

    /** Stride 1, a square kernel and padding the transposed convolution can mirror (pad &lt; r). */
    private static boolean directShape(Geometry g) {
        return g.stride() == 1 && g.r() == g.s() && g.pad() < g.r();
    }

    /** Rows of the output and of the input that fill most of the direct kernel's 2L lanes. */
    private static boolean wideRows(Geometry g) {
        return Math.min(g.wo(), g.w()) > DirectConv.L + DirectConv.L / 2;
    }

    /** dY [n, k, ho, wo] unfolded for the stride-1 transposed convolution onto the input grid. */
    private Unfold transposedUnfold(int k) {
        return transposedUnfolds.computeIfAbsent(k, kk -> {
            int taps = g.r() * g.s(), rows = kk * taps, plane = g.outPlane();
            int[] chan = new int[rows], dy = new int[rows], dx = new int[rows];
            for (int t = 0; t < rows; t++) {
                int o = t / taps, tap = t % taps;
                chan[t] = o * plane;
                dy[t] = g.pad() - tap / g.s();
                dx[t] = g.pad() - tap % g.s();
            }
            return Unfold.of(g.h(), g.w(), g.ho(), g.wo(), 1, kk * plane, chan, dy, dx);
        });
    }

    /** The calling thread's scratch for a GEMM result in [channels, images·plane] order: one per op, on the op's thread. */
    private static final ThreadLocal<Workspaces.Floats> SCRATCH = ThreadLocal.withInitial(Workspaces.Floats::new);

    private static float[] scratch(long size) {
        return SCRATCH.get().atLeast(size);
    }

    /** y [n, k, ho, wo] = x [n, c, h, w] ⊛ w [k, c, r, s]. */
    void forward(float[] x, float[] w, float[] y, int n, int k) {
        if (WinogradConv.fits(g, n, parallel.threads(), g.c(), k)) {
            WinogradConv.forward(parallel, x, w, y, n, g.c(), g.h(), g.w(), k);
            return;
        }
        if (directFits(g, k)) {
            int p = g.pad();
            DirectConv.forward(parallel, x, n, g.c(), g.h(), g.w(), p, g.r(), g.s(), DirectConv.packed(w, k, g.rows()), k, y);
            return;
        }
        if (PointwiseConv.fits(parallel, g, n)) {
            PointwiseConv.forward(parallel, g, x, w, y, n, k);
            return;
        }
        int rows = g.rows(), plane = g.outPlane(), cols = n * plane;
        float[] out = scratch((long) k * cols);
        Sgemm.gemm(parallel, k, cols, rows, 1f, matrix(w, rows), unfold.columns(parallel, x, n), 0f, out, 0, cols);
        toImages(out, y, n, k, plane);
    }

    /**
     * dx [n, c, h, w] = conv-transpose of dy with w, every element written: dx may arrive holding
     * anything (the backend lends its arrays again).
     */
    void backwardInput(float[] dy, float[] w, float[] dx, int n, int k) {
        int c = g.c(), taps = g.r() * g.s(), inPlane = g.h() * g.w();
        if (WinogradConv.fits(g, n, parallel.threads(), k, c)) { // padding 1 at stride 1: dY is the input's size
            WinogradConv.forward(parallel, dy, WinogradConv.transposedKernel(w, k, c), dx, n, k, g.h(), g.w(), c);
            return;
        }
        if (directFits(g, k)) {
            int p = g.r() - 1 - g.pad();
            DirectConv.forward(parallel, dy, n, k, g.ho(), g.wo(), p, g.r(), g.s(),
                    DirectConv.packedTransposed(w, k, c, g.r(), g.s()), c, dx);
            return;
        }
        if (PointwiseConv.fits(parallel, g, n)) {
            PointwiseConv.backwardInput(parallel, g, dy, w, dx, n, k);
            return;
        }
        if (g.stride() == 1) {
            int cols = n * inPlane;
            float[] out = scratch((long) c * cols);
            Sgemm.gemm(parallel, c, cols, k * taps, 1f, transposedKernel(w, c, taps), transposedUnfold(k).columns(parallel, dy, n),
                    0f, out, 0, cols);
            toImages(out, dx, n, c, inPlane);
            return;
        }
        int rows = g.rows(), plane = g.outPlane(), image = g.inImage(), wo = g.wo();
        int most = Math.max(1, Math.min(n, COLUMN_BUDGET / Math.max(1, rows * plane)));
        int chunks = (n + most - 1) / most, chunk = (n + chunks - 1) / chunks; // as even as they come
        float[] dcol = scratch((long) rows * chunk * plane);
        Unfold u = unfold;
        int st = g.stride();
        for (int b0 = 0; b0 < n; b0 += chunk) {
            int nb = Math.min(chunk, n - b0), cols = nb * plane, first = b0;
            Sgemm.gemm(parallel, rows, cols, k, 1f,
                    (from, count, k0, kc, o) -> transposedMatrix(w, rows, from, count, k0, kc, o),
                    new Planes(dy, b0, k, plane), 0f, dcol, 0, cols);
            // col2im: every row of channel ci lands in plane (b, ci) of dx alone, so planes fold
            // independently, in parallel and in a fixed order.
            parallel.forRange(nb * c, 1, (p0, p1) -> {
                for (int bc = p0; bc < p1; bc++) {
                    int b = bc / c, ci = bc % c, dst = (first + b) * image + ci * inPlane;
                    Arrays.fill(dx, dst, dst + inPlane, 0f); // positions no output reads stay 0; the rest are sums
                    for (int t = ci * taps; t < (ci + 1) * taps; t++) {
                        int lo = u.lo()[t], hi = u.hi()[t];
                        for (int oy = 0; oy < g.ho(); oy++) {
                            int iy = oy * st + u.dy()[t];
                            if (iy < 0 || iy >= g.h()) continue;
                            int d0 = dst + iy * g.w() + u.dx()[t], s0 = t * cols + b * plane + oy * wo;
                            for (int ox = lo; ox < hi; ox++) dx[d0 + ox * st] += dcol[s0 + ox];
                        }
                    }
                }
            });
        }
    }

    /** dw [k, c, r, s] = Σ over images of dy ⊗ unfolded x. */
    void backwardWeight(float[] dy, float[] x, float[] dw, int n, int k) {
        int rows = g.rows(), plane = g.outPlane();
        if (directWeight) {
            int p = g.pad();
            DirectConv.weightGrad(parallel, dy, x, n, k, g.c(), g.h(), g.w(), g.r(), g.s(), p, dw);
            return;
        }
        if (PointwiseConv.fits(parallel, g, n)) {
            PointwiseConv.backwardWeight(parallel, g, dy, x, dw, n, k);
            return;
        }
        Sgemm.gemm(parallel, k, rows, n * plane, 1f, new Planes(dy, 0, k, plane).asRows(), unfold.transposed(parallel, x, n),
                0f, dw, 0, rows);
    }

    // --- packers --------------------------------------------------------------------------------

    /** A row-major [m, ld] matrix as the GEMM's A operand (rows as MR panels). */
    private static Sgemm.Packer matrix(float[] a, int ld) {
        return (from, count, k0, kc, out) -> {
            int mr = Sgemm.MR;
            for (int ir = 0; ir < count; ir += mr) {
                int base = (ir / mr) * mr * kc, rowsHere = Math.min(mr, count - ir);
                for (int r = 0; r < mr; r++) {
                    if (r >= rowsHere) {
                        for (int p = 0; p < kc; p++) out[base + p * mr + r] = 0;
                        continue;
                    }
                    int src = (from + ir + r) * ld + k0;
                    for (int p = 0; p < kc; p++) out[base + p * mr + r] = a[src + p];
                }
            }
        };
    }

    /** Wᵀ of w [k, rows] as A [rows, k]: MR consecutive rows are contiguous in w. */
    private static void transposedMatrix(float[] w, int rows, int from, int count, int k0, int kc, float[] out) {
        int mr = Sgemm.MR;
        for (int ir = 0; ir < count; ir += mr) {
            int base = (ir / mr) * mr * kc, rowsHere = Math.min(mr, count - ir);
            for (int p = 0; p < kc; p++) {
                int src = (k0 + p) * rows + from + ir, o = base + p * mr;
                for (int r = 0; r < rowsHere; r++) out[o + r] = w[src + r];
                for (int r = rowsHere; r < mr; r++) out[o + r] = 0;
            }
        }
    }

    /** W' [c, k·taps] with W'[ci][(o, tap)] = w[o][ci][tap]: the kernel of the transposed convolution. */
    private static Sgemm.Packer transposedKernel(float[] w, int c, int taps) {
        return (from, count, k0, kc, out) -> {
            int mr = Sgemm.MR;
            for (int ir = 0; ir < count; ir += mr) {
                int base = (ir / mr) * mr * kc, rowsHere = Math.min(mr, count - ir);
                for (int p = 0; p < kc; p++) {
                    int kk = k0 + p, o = kk / taps, tap = kk - o * taps, dst = base + p * mr;
                    int src = (o * c + from + ir) * taps + tap;
                    for (int r = 0; r < rowsHere; r++) out[dst + r] = w[src + r * taps];
                    for (int r = rowsHere; r < mr; r++) out[dst + r] = 0;
                }
            }
        };
    }

    /** dy [n, k, plane] as the matrix [k, images·plane] starting at image b0. */
    record Planes(float[] dy, int b0, int k, int plane) implements Sgemm.Packer {
        /** As B [k, cols]: NR columns of one channel, split into runs within one image. */
        @Override
        public void pack(int from, int count, int k0, int kc, float[] out) {
            int nr = Sgemm.NR;
            for (int jr = 0; jr < count; jr += nr) {
                int base = (jr / nr) * nr * kc, cols = Math.min(nr, count - jr);
                for (int done = 0; done < cols; ) {
                    int col = from + jr + done, b = col / plane, q = col - b * plane;
                    int len = Math.min(cols - done, plane - q);
                    for (int p = 0; p < kc; p++)
                        System.arraycopy(dy, ((b0 + b) * k + k0 + p) * plane + q, out, base + p * nr + done, len);
                    done += len;
                }
                if (cols < nr)
                    for (int p = 0; p < kc; p++) Arrays.fill(out, base + p * nr + cols, base + (p + 1) * nr, 0f);
            }
        }

        /** As A [k, cols]: MR channels, each a contiguous run of plane positions per image. */
        Sgemm.Packer asRows() {
            return (from, count, k0, kc, out) -> {
                int mr = Sgemm.MR;
                for (int ir = 0; ir < count; ir += mr) {
                    int base = (ir / mr) * mr * kc, rowsHere = Math.min(mr, count - ir);
                    for (int r = 0; r < mr; r++) {
                        if (r >= rowsHere) {
                            for (int p = 0; p < kc; p++) out[base + p * mr + r] = 0;
                            continue;
                        }
                        int ch = from + ir + r;
                        for (int p = 0; p < kc; ) {
                            int col = k0 + p, b = col / plane, q = col - b * plane;
                            int len = Math.min(kc - p, plane - q);
                            int src = ((b0 + b) * k + ch) * plane + q, dst = base + p * mr + r;
                            for (int e = 0; e < len; e++) out[dst + e * mr] = dy[src + e];
                            p += len;
                        }
                    }
                }
            };
        }
    }

    /** [channels, n·plane] → [n, channels, plane], images in parallel. */
    private void toImages(float[] in, float[] out, int n, int channels, int plane) {
        int cols = n * plane;
        parallel.forRange(n, Math.max(1, (1 << 15) / Math.max(1, channels * plane)), (b0, b1) -> {
            for (int b = b0; b < b1; b++)
                for (int ch = 0; ch < channels; ch++)
                    System.arraycopy(in, ch * cols + b * plane, out, (b * channels + ch) * plane, plane);
        });
    }
}
