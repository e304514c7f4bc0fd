package dev.activa.backend.cpu;

import dev.activa.activation.FloatBlock;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Direct stride-1 convolution for layers with few channels, where im2col + GEMM spends more on
 * packing than on arithmetic (every packed column of B is used by only K ≤ a few dozen rows of A)
 * and the GEMM's MR × NR tile fits K and C·R·S badly.
 *
 * <p>The source is copied into a buffer with zeros around each plane (rows wp = w + 2·pad apart;
 * where a batch has an image per thread, by the thread that convolves each image, just before),
 * so that for output row oy and tap t = (ci, i, j) the inputs of 2L consecutive outputs are one
 * contiguous run starting at {@code off[t] + oy·wp + ox}: the kernel loads them straight from
 * that buffer, with no packing and no masks, and keeps {@link #KB} output channels (8, or 4 with 8
 * lanes) × 2L output columns in registers. Lanes past the end of an output row compute garbage
 * that is never stored (lanes of a forward convolution do not mix). The input gradient is the
 * same kernel on dY padded by r−1−pad with the kernel transposed and flipped; the weight gradient
 * sums dY × shifted inputs over positions, in vector lanes.
 */
final class DirectConv {
    private DirectConv() {}

    static final VectorSpecies<Float> S = FloatBlock.SPECIES;
    static final int L = S.length();
    /**
     * Output channels per register block: 8 × 2 vectors of accumulators, 19 of AVX-512's 32
     * registers; where vectors have 8 lanes or fewer (AVX2's 16 registers) 4 × 2, 11 of them. The
     * kernel holds code for eight; {@code if (KB == 8)} on this constant folds away for four.
     */
    static final int KB = L >= 16 ? 8 : 4;

    /** The calling thread's whole padded batch ({@link #padded}), grown and never shrunk: one per op, on the op's thread. */
    private static final ThreadLocal<Workspaces.Floats> PADDED = ThreadLocal.withInitial(Workspaces.Floats::new);

    /**
     * A task's scratch ({@link Workspaces}): one padded image or a chunk of them, dY's images beside
     * the input's, and the weight gradient's lane sums.
     */
    private static final class TaskScratch {
        final Workspaces.Floats image = new Workspaces.Floats(), imageDy = new Workspaces.Floats(), lanes = new Workspaces.Floats();
    }

    private static final Workspaces<TaskScratch> SCRATCH = new Workspaces<>(TaskScratch::new);

    /**
     * src [n, c, h, w] copied into [n, c, h+2·pad, w+2·pad] with zero borders, plus 4L floats of
     * slack so the kernel's last vector loads stay inside the array.
     */
    static float[] padded(Parallel parallel, float[] src, int n, int c, int h, int w, int pad) {
        int wp = w + 2 * pad, planeP = (h + 2 * pad) * wp;
        float[] out = PADDED.get().atLeast((long) n * c * planeP + 4L * L);
        parallel.forRange(n * c, Math.max(1, (1 << 14) / planeP), (p0, p1) -> padPlanes(src, p0, p1, h, w, pad, wp, 0, out, p0 * planeP));
        Arrays.fill(out, n * c * planeP, n * c * planeP + 4 * L, 0f);
        return out;
    }

    /**
     * Planes [p0, p1) of src [·, h, w], each copied into out from {@code at} on, one after another,
     * as h + 2·pad + extraRows rows wp ≥ w + 2·pad wide: zeros around the source's rows, and
     * extraRows more rows of zeros at the bottom. The slack after them is the caller's.
     */
    private static void padPlanes(float[] src, int p0, int p1, int h, int w, int pad, int wp, int extraRows,
                                  float[] out, int at) {
        int hp = h + 2 * pad + extraRows, planeP = hp * wp;
        if (wp <= L) {
            padNarrowPlanes(src, p0, p1, h, w, pad, wp, hp, out, at);
            return;
        }
        for (int pl = p0; pl < p1; pl++) {
            int d = at + (pl - p0) * planeP, sIn = pl * h * w;
            Arrays.fill(out, d, d + pad * wp, 0f);
            for (int y = 0; y < h; y++) {
                int row = d + (y + pad) * wp;
                Arrays.fill(out, row, row + pad, 0f);
                System.arraycopy(src, sIn + y * w, out, row + pad, w);
                Arrays.fill(out, row + pad + w, row + wp, 0f);
            }
            Arrays.fill(out, d + (hp - pad - extraRows) * wp, d + planeP, 0f);
        }
    }

    /**
     * {@link #padPlanes} for padded rows of at most L floats (the quick start's 7 × 7 and 4 × 4
     * planes): one masked load, shifted by pad lanes, and one masked store per row. The arraycopy
     * and two fills per row that wider rows take cost more in calls than in copying at these widths.
     */
    private static void padNarrowPlanes(float[] src, int p0, int p1, int h, int w, int pad, int wp, int hp,
                                        float[] out, int at) {
        // masks from bits: indexInRange with a negative offset runs in plain Java and allocates
        var row = VectorMask.fromLong(S, (1L << wp) - 1);
        var inside = VectorMask.fromLong(S, ((1L << w) - 1) << pad); // lanes pad … pad + w − 1 read the source row
        var zero = FloatVector.zero(S);
        for (int pl = p0, d = at; pl < p1; pl++, d += hp * wp) {
            int sIn = pl * h * w, y = 0;
            for (; y < pad; y++) zero.intoArray(out, d + y * wp, row);
            for (; y < pad + h; y++) FloatVector.fromArray(S, src, sIn + (y - pad) * w - pad, inside).intoArray(out, d + y * wp, row);
            for (; y < hp; y++) zero.intoArray(out, d + y * wp, row);
        }
    }

    /**
     * Images [b0, b0 + images) of src [·, channels, h, w], padded as {@link #padPlanes} does, in
     * runs per channel: channel ch's images one after another from ch·images·plane on, each
     * {@code plane} floats (hp·wp and zeros up to it), so that one loop walks all of a channel's
     * positions in the chunk.
     */
    private static void channelRuns(float[] src, int b0, int images, int channels, int h, int w, int pad, int wp,
                                    int extraRows, int plane, float[] out) {
        int filled = (h + 2 * pad + extraRows) * wp;
        for (int ch = 0; ch < channels; ch++)
            for (int b = 0; b < images; b++) {
                int pl = (b0 + b) * channels + ch, at = (ch * images + b) * plane;
                padPlanes(src, pl, pl + 1, h, w, pad, wp, extraRows, out, at);
                Arrays.fill(out, at + filled, at + plane, 0f);
            }
    }

    /** Source offset of tap t = (ci, i, j), taps in [c, r, s] order, channels {@code channel} apart and rows wp. */
    private static int[] offsets(int c, int channel, int wp, int r, int s) {
        int[] off = new int[c * r * s];
        for (int ci = 0, t = 0; ci < c; ci++)
            for (int i = 0; i < r; i++)
                for (int j = 0; j < s; j++) off[t++] = ci * channel + i * wp + j;
        return off;
    }

    /**
     * Weights [k, taps] (taps in [c, r, s] order) as blocks of KB output channels, tap-major inside
     * a block: {@code out[(kb·taps + t)·KB + q] = w[kb·KB + q][t]}, zero for channels past k.
     */
    static float[] packed(float[] w, int k, int taps) {
        float[] out = new float[ceilDiv(k, KB) * KB * taps];
        for (int o = 0; o < k; o++)
            for (int t = 0; t < taps; t++) out[((o / KB) * taps + t) * KB + o % KB] = w[o * taps + t];
        return out;
    }

    /**
     * The kernel of the transposed convolution (the input gradient), packed: channel ci of the
     * result reads channel o of dY through w[o][ci] flipped, taps in [k, r, s] order.
     */
    static float[] packedTransposed(float[] w, int k, int c, int r, int s) {
        int taps = k * r * s;
        float[] out = new float[ceilDiv(c, KB) * KB * taps];
        for (int o = 0; o < k; o++)
            for (int ci = 0; ci < c; ci++)
                for (int i = 0; i < r; i++)
                    for (int j = 0; j < s; j++) {
                        int t = (o * r + i) * s + j;
                        out[((ci / KB) * taps + t) * KB + ci % KB] = w[((o * c + ci) * r + r - 1 - i) * s + s - 1 - j];
                    }
        return out;
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }

    /**
     * y [n, k, ho, wo] = x ⊛ w at stride 1, x [n, c, h, w] zero-padded by {@code pad} on every side
     * (see {@link #padded}), wk the weights {@link #packed}. Given an image per thread or more, each
     * task pads its images one at a time into a buffer of its own and convolves each while it is
     * in L1/L2: no pass over the whole batch first, whose copy the kernel then read back from L3 or
     * memory. With fewer images (one, in inference) the batch is padded first and its blocks of 2L
     * outputs are shared out.
     *
     * <p>Rows narrower than 2L lanes would leave most lanes idle, a row per block (14 of 32 at
     * 14×14). There the blocks run along each image's flattened padded plane instead: output
     * (oy, ox) is position oy·wp + ox, whose taps read xp at the same offsets as any other, so one
     * block covers several rows and only the wp − wo columns between them are computed in vain.
     * The outputs of a block are then the lanes with ox &lt; wo, consecutive in y: each half is
     * compressed to them and stored.
     */
    static void forward(Parallel parallel, float[] x, int n, int c, int h, int w, int pad, int r, int s, float[] wk,
                        int k, float[] y) {
        int hp = h + 2 * pad, wp = w + 2 * pad, taps = c * r * s, image = c * hp * wp;
        var blocks = Blocks.of(hp - r + 1, wp - s + 1, wp);
        int[] off = offsets(c, hp * wp, wp, r, s);
        if (n >= parallel.threads()) {
            parallel.forRange(n, 1, (b0, b1) -> {
                TaskScratch scratch = SCRATCH.take();
                try {
                    float[] xp = scratch.image.atLeast(image + 4L * L);
                    Arrays.fill(xp, image, image + 4 * L, 0f);
                    for (int b = b0; b < b1; b++) {
                        padPlanes(x, b * c, (b + 1) * c, h, w, pad, wp, 0, xp, 0);
                        for (int at = 0; at < blocks.count(); at++) blocks.run(at, xp, 0, off, wk, taps, k, y, b);
                    }
                } finally {
                    SCRATCH.give(scratch);
                }
            });
            return;
        }
        float[] xp = padded(parallel, x, n, c, h, w, pad);
        int count = blocks.count();
        parallel.forRange(n * count, Math.max(1, (1 << 16) / Math.max(1, k * 2 * L * taps)), (j0, j1) -> {
            for (int j = j0; j < j1; j++) blocks.run(j % count, xp, j / count * image, off, wk, taps, k, y, j / count);
        });
    }

    /**
     * The blocks of 2L outputs that cover one image's ho × wo outputs, its source padded to rows wp
     * apart: where each starts in the source (flattened, or at a row), where its first output goes
     * in the plane, and which of its lanes are outputs (bit l: lane l).
     */
    private record Blocks(int[] source, int[] first, long[] lanes, int outPlane) {
        static Blocks of(int ho, int wo, int wp) {
            int block = 2 * L, rowBlocks = ceilDiv(wo, block), span = (ho - 1) * wp + wo;
            boolean flat = flat(wo, wp);
            int count = flat ? ceilDiv(span, block) : ho * rowBlocks;
            int[] source = new int[count], first = new int[count];
            long[] lanes = new long[count];
            for (int at = 0; at < count; at++) {
                if (flat) {
                    int p0 = at * block, ox = p0 % wp; // of lane 0, then of each lane in turn
                    source[at] = p0;
                    first[at] = p0 / wp * wo + Math.min(ox, wo);
                    for (int l = 0; l < block && p0 + l < span; l++, ox = ox + 1 == wp ? 0 : ox + 1)
                        if (ox < wo) lanes[at] |= 1L << l;
                } else {
                    int oy = at / rowBlocks, ox = (at - oy * rowBlocks) * block;
                    source[at] = oy * wp + ox;
                    first[at] = oy * wo + ox;
                    lanes[at] = (1L << Math.min(block, wo - ox)) - 1;
                }
            }
            return new Blocks(source, first, lanes, ho * wo);
        }

        int count() { return source.length; }

        /** Block {@code at} of image b, its padded source at xp[imageBase …], for every block of KB output channels. */
        void run(int at, float[] xp, int imageBase, int[] off, float[] wk, int taps, int k, float[] y, int b) {
            for (int kb = 0; kb * KB < k; kb++)
                block(xp, imageBase + source[at], off, wk, kb * taps * KB, taps, y,
                        (b * k + kb * KB) * outPlane + first[at], outPlane, Math.min(KB, k - kb * KB), lanes[at]);
        }
    }

    /** Whether rows wo wide, wp apart in the padded source, waste fewer lanes flattened than one row per block. */
    private static boolean flat(int wo, int wp) {
        return wp < ceilDiv(wo, 2 * L) * 2 * L;
    }

    /** The share of the lanes {@link #forward} computes that are outputs, for rows wo wide, wp apart in its source. */
    static double outputShare(int wo, int wp) {
        return (double) wo / (flat(wo, wp) ? wp : ceilDiv(wo, 2 * L) * 2 * L);
    }

    /**
     * KB output channels × 2L positions: Σ over taps of w[·][t] · xp[src + off[t] …], the lanes set
     * in {@code lanes} stored to consecutive elements of y from dst (one plane per channel). Also
     * {@link WinogradConv}'s GEMMs, whose taps are input channels.
     */
    static void block(float[] xp, int src, int[] off, float[] wk, int wBase, int taps,
                      float[] y, int dst, int outPlane, int rows, long lanes) {
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
        FloatVector a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        FloatVector a60 = a00, a61 = a00, a70 = a00, a71 = a00;
        for (int t = 0; t < taps; t++) {
            int o = src + off[t], wo = wBase + t * KB;
            FloatVector x0 = FloatVector.fromArray(S, xp, o), x1 = FloatVector.fromArray(S, xp, o + L);
            FloatVector v;
            v = FloatVector.broadcast(S, wk[wo]);     a00 = v.fma(x0, a00); a01 = v.fma(x1, a01);
            v = FloatVector.broadcast(S, wk[wo + 1]); a10 = v.fma(x0, a10); a11 = v.fma(x1, a11);
            v = FloatVector.broadcast(S, wk[wo + 2]); a20 = v.fma(x0, a20); a21 = v.fma(x1, a21);
            v = FloatVector.broadcast(S, wk[wo + 3]); a30 = v.fma(x0, a30); a31 = v.fma(x1, a31);
            if (KB == 8) {
                v = FloatVector.broadcast(S, wk[wo + 4]); a40 = v.fma(x0, a40); a41 = v.fma(x1, a41);
                v = FloatVector.broadcast(S, wk[wo + 5]); a50 = v.fma(x0, a50); a51 = v.fma(x1, a51);
                v = FloatVector.broadcast(S, wk[wo + 6]); a60 = v.fma(x0, a60); a61 = v.fma(x1, a61);
                v = FloatVector.broadcast(S, wk[wo + 7]); a70 = v.fma(x0, a70); a71 = v.fma(x1, a71);
            }
        }
        // Stores inline, a row at a time (a vector passed to a call that is not inlined is boxed).
        boolean whole = lanes == (1L << 2 * L) - 1;
        long lowLanes = lanes & ((1L << L) - 1), highLanes = lanes >>> L;
        int lowCount = Long.bitCount(lowLanes), highCount = Long.bitCount(highLanes);
        VectorMask<Float> low = VectorMask.fromLong(S, lowLanes), high = VectorMask.fromLong(S, highLanes);
        VectorMask<Float> lowStore = S.indexInRange(0, lowCount), highStore = S.indexInRange(0, highCount);
        for (int q = 0; q < rows; q++) {
            FloatVector lo, hi;
            switch (q) {
                case 0 -> { lo = a00; hi = a01; }
                case 1 -> { lo = a10; hi = a11; }
                case 2 -> { lo = a20; hi = a21; }
                case 3 -> { lo = a30; hi = a31; }
                case 4 -> { lo = a40; hi = a41; }
                case 5 -> { lo = a50; hi = a51; }
                case 6 -> { lo = a60; hi = a61; }
                default -> { lo = a70; hi = a71; }
            }
            int d = dst + q * outPlane;
            if (whole) {
                lo.intoArray(y, d);
                hi.intoArray(y, d + L);
            } else {
                lo.compress(low).intoArray(y, d, lowStore);
                hi.compress(high).intoArray(y, d + lowCount, highStore);
            }
        }
    }

    /**
     * Output channels × taps per register block of the weight gradient: 4 × 4 accumulators beside
     * four dY vectors and one of x fit AVX-512's 32 registers; with AVX2's 16 (8 lanes or fewer)
     * they spilled, so there the block is 4 × 2. The kernel holds code for four taps;
     * {@code if (WT == 4)} on this constant folds away for two.
     */
    private static final int WK = 4, WT = L >= 16 ? 4 : 2;

    /**
     * dw [k, c, r, s] = Σ over images and output positions of dy[b, o, p] · x[b, tap t shifted to p].
     * dY is copied so that its positions line up with the padded source's and its loads are whole
     * vectors: either with rows widened by zeros to wv = ⌈wo/L⌉·L (x padded with rows wv + s − 1
     * wide), or flattened like the forward pass: position oy·wp + ox of x's own padded rows, zeros in
     * the wp − wo columns between rows and up to a whole vector ({@link WeightLayout} says which).
     * Either way the lanes past the outputs multiply zeros, with no masks in the loop. Flattened,
     * x's and dY's planes are copied alike, a channel's images one after another (each its top
     * padding and rows, rounded up to whole vectors: its bottom padding is the next one's top), so
     * that one loop can run over all of a chunk's positions: on 14 × 14 planes at 16 lanes a loop
     * per image ran 14 vectors, and its entry and exit cost about as much as its FMAs. Where the
     * images' loops are long and the run adds lanes, each image keeps a loop over its span. Each
     * lane sums the same positions in the same order either way, the added ones zeros.
     *
     * <p>Images are split into one contiguous range per thread; each block of WK channels × WT
     * taps runs over a chunk of the range's images at once, its sums in registers, so the lane
     * buffer (k·taps·L floats, megabytes at 64 channels and more) is updated once per chunk rather
     * than once per image. Chunks are as many images as keep their dY and x in L2, and the thread
     * copies each chunk just before it reads it. The ranges' sums are added in a fixed order.
     */
    static void weightGrad(Parallel parallel, float[] dy, float[] x, int n, int k, int c, int h, int w, int r, int s,
                           int pad, float[] dw) {
        var layout = WeightLayout.of(h, w, r, s, pad);
        int hp = h + 2 * pad, ho = layout.ho(), wo = layout.wo(), wv = layout.widened();
        boolean flat = layout.flat();
        int wp = flat ? w + 2 * pad : wv + s - 1, taps = c * r * s;
        // Flat: x's and dY's planes alike, a channel's images one run; an image's bottom padding
        // rows are the next one's top (or the next run's first), so a plane is h + pad rows,
        // rounded up to whole vectors. Widened: dY's rows wv wide, ho of them, x's images as they come.
        int plane = flat ? ceilDiv((h + pad) * wp, L) * L : hp * wp, dyPlane = flat ? plane : ho * wv;
        // Flat, one loop over a chunk's run where a loop per image would be short (16 vectors or
        // fewer) or the run adds at most 1/16 more lanes than the images' spans; else a loop per
        // image over its span. At 8 lanes, 32 → 32 at 14 × 14 (28 vectors an image, 1/14 more)
        // lost 6% in one loop; 16 → 16 at 28 × 28 (105 vectors, 1/26 more) gained 3%, and at 16
        // lanes both gained 12–13%.
        int span = layout.flatSpan();
        boolean oneLoop = span <= 16 * L || 16 * (plane - span) <= span;
        // Chunks sized as before the planes were rounded up (flat: dY's rows then ended at the
        // span's last vector), so that the sums leave registers where they did: the same bits.
        int chunkDyPlane = flat ? (ho + ceilDiv(span - ho * wp, wp)) * wp : dyPlane;
        int chunk = Math.max(1, CHUNK_FLOATS / (c * hp * wp + k * chunkDyPlane));
        // Lanes for whole blocks: the clamped repeats at the edges land past k or taps and are dropped.
        int kRound = ceilDiv(k, WK) * WK, tRound = ceilDiv(taps, WT) * WT;
        int parts = Math.max(1, Math.min(n, parallel.threads()));
        float[][] partial = new float[parts][];
        parallel.forTasks(parts, part -> {
            int b0 = (int) ((long) n * part / parts), b1 = (int) ((long) n * (part + 1) / parts);
            TaskScratch scratch = SCRATCH.take();
            try {
                float[] lanes = scratch.lanes.atLeast((long) kRound * tRound * L);
                Arrays.fill(lanes, 0, kRound * tRound * L, 0f); // the blocks add into their lanes
                for (int c0 = b0; c0 < b1; c0 += chunk) {
                    // The chunk's images padded here, by the thread that reads them next, while they fit its L2.
                    int images = Math.min(b1, c0 + chunk) - c0;
                    float[] xp = scratch.image.atLeast((long) images * c * plane + plane + 4L * L);
                    float[] dyp = scratch.imageDy.atLeast((long) images * k * dyPlane);
                    // weightBlock's view of the chunk: images, their strides in dY and x, rows and
                    // widths, the stride of dY's channels, and x's tap offsets.
                    int blockImages, dyImage, xImage, rows, width, dyRow, xRow, dyChannel;
                    int[] off;
                    if (flat) {
                        int run = images * plane;
                        channelRuns(x, c0, images, c, h, w, pad, wp, -pad, plane, xp);
                        channelRuns(dy, c0, images, k, ho, wo, 0, wp, h + pad - ho, plane, dyp);
                        // The last channel's taps read up to (r−1)·wp + s − 1 floats past its run: zeros.
                        Arrays.fill(xp, c * run, c * run + plane, 0f);
                        off = offsets(c, run, wp, r, s);
                        // One "image" of one row, a run wide, or each image's span alone.
                        blockImages = oneLoop ? 1 : images;
                        dyImage = xImage = oneLoop ? 0 : plane;
                        rows = 1;
                        width = oneLoop ? run : span;
                        dyRow = xRow = 0;
                        dyChannel = run;
                    } else {
                        int image = c * plane;
                        padPlanes(x, c0 * c, (c0 + images) * c, h, w, pad, wp, 0, xp, 0);
                        padPlanes(dy, c0 * k, (c0 + images) * k, ho, wo, 0, wv, 0, dyp, 0);
                        Arrays.fill(xp, images * image, images * image + 4 * L, 0f);
                        off = offsets(c, plane, wp, r, s);
                        blockImages = images;
                        dyImage = k * dyPlane;
                        xImage = image;
                        rows = ho;
                        width = dyRow = wv;
                        xRow = wp;
                        dyChannel = dyPlane;
                    }
                    for (int o0 = 0; o0 < k; o0 += WK)
                        for (int t0 = 0; t0 < taps; t0 += WT)
                            weightBlock(dyp, dyImage, xp, xImage, 0, blockImages, off, rows, width, dyRow, xRow, k, taps,
                                    o0, t0, dyChannel, lanes, ((o0 * tRound) + t0) * L, tRound * L);
                }
                // Lanes summed in lane order, not by reduceLanes(ADD), whose order differs between
                // interpreted and compiled code: the same call must give the same bits (see Activation.sumLanes).
                float[] sum = new float[k * taps];
                for (int o = 0; o < k; o++)
                    for (int t = 0; t < taps; t++) {
                        int at = (o * tRound + t) * L;
                        float total = 0;
                        for (int e = 0; e < L; e++) total += lanes[at + e];
                        sum[o * taps + t] = total;
                    }
                partial[part] = sum;
            } finally {
                SCRATCH.give(scratch);
            }
        });
        Arrays.fill(dw, 0, k * taps, 0f);
        for (float[] p : partial)
            for (int e = 0; e < k * taps; e++) dw[e] += p[e];
    }

    /**
     * How {@link #weightGrad} lays out a plane of ho output rows wo wide: each row widened to
     * {@code widened} lanes (whole vectors), or the plane flattened over x's padded rows, its
     * outputs within {@code flatSpan} lanes (the kernel then runs over x's whole padded plane, the
     * lanes past them zeros in dY, about a vector or two more a plane). Flat where that spans no
     * more lanes; for rows of one or two vectors also where it spans up to 1/8 more, as ho loops
     * of a vector or two cost more than those lanes (one JVM per layout, batch 32: 32 → 32 and
     * 16 → 16 at 32 × 32 at 16 lanes 1.2–1.8× faster flat, 32 → 32 at 16 × 16 at 8 lanes 1.2–1.5×;
     * at a tie, 14 × 14 at 8 lanes, 1.7×). Rows of three vectors and more stay widened (24 × 24 and
     * 32 × 32 at 8 lanes: flat was 3–7% slower). Measured before the flattened layout ran one loop
     * per chunk, which made it 12–13% faster where measured (14 × 14 and 28 × 28 at 16 lanes).
     */
    record WeightLayout(int ho, int wo, int widened, int flatSpan, boolean flat) {
        static WeightLayout of(int h, int w, int r, int s, int pad) {
            int ho = h + 2 * pad - r + 1, wo = w + 2 * pad - s + 1, widened = ceilDiv(wo, L) * L;
            int flatSpan = ceilDiv(ho * (w + 2 * pad), L) * L, rowLanes = ho * widened;
            boolean flat = flatSpan <= rowLanes || (widened <= 2 * L && 8 * flatSpan <= 9 * rowLanes);
            return new WeightLayout(ho, wo, widened, flatSpan, flat);
        }

        /** The share of the lanes that are outputs: of the widened rows, or of the flattened span. */
        double outputShare() {
            return (double) ho * wo / (flat ? flatSpan : ho * widened);
        }
    }

    /** Floats of dY and padded x per chunk of images in {@link #weightGrad}: 512 KiB, half of an L2. */
    private static final int CHUNK_FLOATS = 1 << 17;

    /**
     * WK channels (from o0) × WT taps (from t0) over all positions of images [b0, b1), added to
     * lanes[l + q·rowStep + e·L]. Blocks at the edges repeat the last channel or tap. Per image,
     * dY's rows are {@code width} wide and dyRow apart, x's xRow apart; dY's channels are
     * {@code outPlane} apart.
     */
    private static void weightBlock(float[] dy, int dyImage, float[] xp, int xImage, int b0, int b1, int[] off,
                                    int rows, int width, int dyRow, int xRow, int k, int taps, int o0, int t0,
                                    int outPlane, float[] lanes, int l, int rowStep) {
        int d0 = o0 * outPlane, d1 = Math.min(o0 + 1, k - 1) * outPlane;
        int d2 = Math.min(o0 + 2, k - 1) * outPlane, d3 = Math.min(o0 + 3, k - 1) * outPlane;
        int s0 = off[t0], s1 = off[Math.min(t0 + 1, taps - 1)];
        int s2 = off[Math.min(t0 + 2, taps - 1)], s3 = off[Math.min(t0 + 3, taps - 1)];
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (int b = b0; b < b1; b++) {
            int dyBase = b * dyImage, xBase = b * xImage;
            for (int oy = 0; oy < rows; oy++) {
                int dRow = dyBase + oy * dyRow, xRowAt = xBase + oy * xRow;
                for (int ox = 0; ox < width; ox += L) {
                    int dp = dRow + ox, xq = xRowAt + ox;
                    FloatVector g0 = FloatVector.fromArray(S, dy, d0 + dp), g1 = FloatVector.fromArray(S, dy, d1 + dp);
                    FloatVector g2 = FloatVector.fromArray(S, dy, d2 + dp), g3 = FloatVector.fromArray(S, dy, d3 + dp);
                    FloatVector v;
                    v = FloatVector.fromArray(S, xp, s0 + xq);
                    c00 = g0.fma(v, c00); c10 = g1.fma(v, c10); c20 = g2.fma(v, c20); c30 = g3.fma(v, c30);
                    v = FloatVector.fromArray(S, xp, s1 + xq);
                    c01 = g0.fma(v, c01); c11 = g1.fma(v, c11); c21 = g2.fma(v, c21); c31 = g3.fma(v, c31);
                    if (WT == 4) {
                        v = FloatVector.fromArray(S, xp, s2 + xq);
                        c02 = g0.fma(v, c02); c12 = g1.fma(v, c12); c22 = g2.fma(v, c22); c32 = g3.fma(v, c32);
                        v = FloatVector.fromArray(S, xp, s3 + xq);
                        c03 = g0.fma(v, c03); c13 = g1.fma(v, c13); c23 = g2.fma(v, c23); c33 = g3.fma(v, c33);
                    }
                }
            }
        }
        // Straight-line adds into the lanes, all inline (a vector passed to a call is boxed).
        int e1 = l + L, e2 = l + 2 * L, e3 = l + 3 * L;
        c00.add(FloatVector.fromArray(S, lanes, l)).intoArray(lanes, l);
        c01.add(FloatVector.fromArray(S, lanes, e1)).intoArray(lanes, e1);
        if (WT == 4) {
            c02.add(FloatVector.fromArray(S, lanes, e2)).intoArray(lanes, e2);
            c03.add(FloatVector.fromArray(S, lanes, e3)).intoArray(lanes, e3);
        }
        l += rowStep; e1 += rowStep; e2 += rowStep; e3 += rowStep;
        c10.add(FloatVector.fromArray(S, lanes, l)).intoArray(lanes, l);
        c11.add(FloatVector.fromArray(S, lanes, e1)).intoArray(lanes, e1);
        if (WT == 4) {
            c12.add(FloatVector.fromArray(S, lanes, e2)).intoArray(lanes, e2);
            c13.add(FloatVector.fromArray(S, lanes, e3)).intoArray(lanes, e3);
        }
        l += rowStep; e1 += rowStep; e2 += rowStep; e3 += rowStep;
        c20.add(FloatVector.fromArray(S, lanes, l)).intoArray(lanes, l);
        c21.add(FloatVector.fromArray(S, lanes, e1)).intoArray(lanes, e1);
        if (WT == 4) {
            c22.add(FloatVector.fromArray(S, lanes, e2)).intoArray(lanes, e2);
            c23.add(FloatVector.fromArray(S, lanes, e3)).intoArray(lanes, e3);
        }
        l += rowStep; e1 += rowStep; e2 += rowStep; e3 += rowStep;
        c30.add(FloatVector.fromArray(S, lanes, l)).intoArray(lanes, l);
        c31.add(FloatVector.fromArray(S, lanes, e1)).intoArray(lanes, e1);
        if (WT == 4) {
            c32.add(FloatVector.fromArray(S, lanes, e2)).intoArray(lanes, e2);
            c33.add(FloatVector.fromArray(S, lanes, e3)).intoArray(lanes, e3);
        }
    }
}
