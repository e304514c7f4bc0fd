package dev.activa.backend.cpu;

import dev.activa.activation.FloatBlock;
import java.util.Arrays;
import java.util.function.IntUnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * 3×3 stride-1 "same" convolution by Winograd's minimal filtering F(2×2, 3×3): each 2×2 block
 * of outputs (a tile) comes from its 4×4 input patch d and the 3×3 kernel g as
 * Aᵀ[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]A, 16 multiplies per input and output channel where the direct
 * convolution needs 36. Over channels the 16 element-wise products are 16 small GEMMs,
 * M_p[k, tile] = Σ_c U_p[k, c] · V_p[c, tile], which is where the time goes; the transforms are
 * additions only.
 *
 * <p>The layout keeps every step a run of contiguous vector loads, lanes along tiles:
 * <ol>
 *   <li>each input row, zero-padded, is split into its even and odd columns, so that the column
 *       transform of L tiles in a row is four loads and subtractions (patch columns 2tx … 2tx+3
 *       are even[tx], odd[tx], even[tx+1], odd[tx+1]);</li>
 *   <li>the input transform writes V_p[c][tile] for a chunk of whole images, tiles numbered
 *       image by image and row by row: a row of tiles is stored as whole vectors, its lanes past
 *       the row's end overwritten by the next row (the last row's fall into slack);</li>
 *   <li>per block of 2L tiles and {@link #KB} output channels, the 16 GEMMs accumulate in
 *       registers, in {@link DirectConv}'s register block, into a small L1 buffer, and the output
 *       transform takes them from there to the 2×2 outputs of each tile, stored as four planes
 *       of tiles (top left, top right, bottom left, bottom right);</li>
 *   <li>each output row is the interleaving of two of those planes' rows of tiles, by two-vector
 *       permutes.</li>
 * </ol>
 * Chunks of whole images run in parallel, as many images as fit a budget sized for L2 (about
 * 512 KiB of V, output tiles and split rows), but at least one and no more than leave every thread
 * a chunk; so a batch needs as many images as threads ({@link #fits}). The input gradient of such
 * a layer is the same convolution of dY with the kernel transposed and flipped
 * ({@link #transposedKernel}), also padded by 1.
 *
 * <p>Rounding: the transforms add and subtract values of the patch and of the kernel's halves,
 * so results differ from the direct sum in the last bits (checked against FP64 in
 * {@code FastKernelParityTest} and {@code WinogradConvTest}).
 */
final class WinogradConv {
    private WinogradConv() {}

    static final VectorSpecies<Float> S = FloatBlock.SPECIES;
    static final int L = S.length();
    /** Output channels per register block, as in {@link DirectConv}: 8 × 2 accumulators on AVX-512, 4 × 2 on AVX2. */
    static final int KB = DirectConv.KB;
    /** Tiles per register block: two vectors, all of whose lanes the block stores. */
    private static final int TB = 2 * L;
    private static final long ALL_LANES = (1L << TB) - 1;
    /** The 16 positions of a 4×4 transformed tile. */
    private static final int P = 16;
    /** Floats of V, output tiles and split rows a chunk aims at: 512 KiB, L2-sized. */
    private static final int CHUNK_BUDGET = 1 << 17;
    /** The most floats of scratch one image may need (64 MiB): larger images take the other kernels. */
    private static final int IMAGE_LIMIT = 1 << 24;

    /**
     * The fewest channels into the GEMMs for which they outweigh the transforms, measured
     * (docs/cpu-benchmarks.md): at 16 lanes 32 channels ran slower at 16 × 16 and mixed at 32 × 32,
     * 64 and more faster; at 8 lanes 16 channels ran faster at 28 × 28, as fast at 32 × 32 and
     * 10–15% slower at 16 × 16, 32 and more faster everywhere.
     */
    static final int MIN_CHANNELS = L >= 16 ? 64 : 16;

    /**
     * Whether this kernel computes a 3×3, stride-1, padding-1 convolution of n images from
     * {@code in} channels to {@code out} (x's and y's for the forward pass, dY's and dx's for the
     * input gradient): at least one image per thread (it runs images in parallel, not parts of
     * one), an image's scratch within {@link #IMAGE_LIMIT}, rows of at least L/2 tiles (w ≥ L − 1),
     * which fill at least half the lanes of the input transform, and at least
     * {@link #MIN_CHANNELS} in. Forward and both gradients of such a layer, against the direct and
     * GEMM kernels: with 8 lanes 1.2–1.8× faster on every such layer of ResNet-18, slower at 4 × 4
     * (rows of 2 tiles); with 16 lanes about as fast to 1.3× faster at 32 × 32 and 16 × 16.
     */
    static boolean fits(Im2colConv.Geometry g, int n, int threads, int in, int out) {
        if (g.r() != 3 || g.s() != 3 || g.stride() != 1 || g.pad() != 1) return false;
        long tw = (g.w() + 1) / 2, tiles = tw * ((g.h() + 1) / 2);
        long scratch = (P * in + 4L * out) * (tiles + 3L * L) + in * (g.h() + 3L) * 2 * (tw + 2L * L); // V, tiles, split rows
        return n >= threads && scratch <= IMAGE_LIMIT && tw >= L / 2 && in >= MIN_CHANNELS;
    }

    /** A task's scratch ({@link Workspaces}): the split rows, V, the output tiles, one padded row, V's row offsets, the GEMMs' block. */
    private static final Workspaces<Scratch> SCRATCH = new Workspaces<>(Scratch::new);

    private static final class Scratch {
        final Workspaces.Floats split = new Workspaces.Floats(), v = new Workspaces.Floats(), tiles = new Workspaces.Floats(),
                row = new Workspaces.Floats();
        int[] vRows = new int[0];
        final float[] m = new float[P * KB * TB];
    }

    /**
     * y [n, k, h, w] = x [n, c, h, w] ⊛ weights [k, c, 3, 3], padding 1. Every element of y is
     * written.
     */
    static void forward(Parallel parallel, float[] x, float[] weights, float[] y, int n, int c, int h, int w, int k) {
        float[] u = transformedKernel(weights, k, c);
        int th = (h + 1) / 2, tw = (w + 1) / 2, tiles = th * tw;
        int hp = 2 * th + 2, half = roundUp(tw, L) + L, splitImage = c * hp * 2 * half;
        // images per chunk: V, the output tiles and the split rows within the budget, but enough
        // for a whole block of tiles, and no more than leave every thread a chunk
        int perImage = (P * c + 4 * k) * tiles + splitImage;
        int images = Math.min((n + parallel.threads() - 1) / parallel.threads(),
                Math.max((TB + tiles - 1) / tiles, CHUNK_BUDGET / perImage));
        int chunks = (n + images - 1) / images;
        int chunkImages = (n + chunks - 1) / chunks; // as even as they come
        parallel.forRange(chunks, 1, (c0, c1) -> {
            Scratch s = SCRATCH.take();
            try {
                for (int chunk = c0; chunk < c1; chunk++) {
                    int b0 = chunk * chunkImages, nb = Math.min(chunkImages, n - b0);
                    int chunkTiles = nb * tiles, stride = roundUp(chunkTiles, TB) + L; // a row of V: whole blocks, plus slack
                    float[] split = s.split.atLeast(nb * splitImage);
                    float[] row = s.row.atLeast(2 * half);
                    float[] v = s.v.atLeast(P * c * stride);
                    float[] out = s.tiles.atLeast(4 * k * stride);
                    split(x, b0, nb, c, h, w, hp, half, row, split);
                    inputTransform(split, nb, c, hp, th, tw, half, v, stride);
                    int[] vRows = s.vRows = s.vRows.length < c ? new int[c] : s.vRows;
                    multiply(u, v, stride, chunkTiles, c, k, vRows, s.m, out);
                    unsplit(out, stride, b0, nb, k, h, w, th, tw, row, y);
                }
            } finally {
                SCRATCH.give(s);
            }
        });
    }

    /**
     * U = G·g·Gᵀ for each (output channel, input channel), packed as the GEMM reads it:
     * {@code u[((p·kBlocks + kb)·c + ci)·KB + q]} is position p of output channel kb·KB + q
     * (zero past k), with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
     */
    static float[] transformedKernel(float[] weights, int k, int c) {
        int kBlocks = (k + KB - 1) / KB;
        float[] u = new float[P * kBlocks * c * KB];
        float[] gg = new float[12]; // G·g, 4×3
        for (int o = 0; o < k; o++)
            for (int ci = 0; ci < c; ci++) {
                int at = (o * c + ci) * 9;
                for (int j = 0; j < 3; j++) {
                    float g0 = weights[at + j], g1 = weights[at + 3 + j], g2 = weights[at + 6 + j];
                    gg[j] = g0;
                    gg[3 + j] = 0.5f * (g0 + g1 + g2);
                    gg[6 + j] = 0.5f * (g0 - g1 + g2);
                    gg[9 + j] = g2;
                }
                for (int i = 0; i < 4; i++) {
                    float g0 = gg[3 * i], g1 = gg[3 * i + 1], g2 = gg[3 * i + 2];
                    int first = (((i * 4) * kBlocks + o / KB) * c + ci) * KB + o % KB, step = kBlocks * c * KB;
                    u[first] = g0;
                    u[first + step] = 0.5f * (g0 + g1 + g2);
                    u[first + 2 * step] = 0.5f * (g0 - g1 + g2);
                    u[first + 3 * step] = g2;
                }
            }
        return u;
    }

    /**
     * The kernel of the input gradient as a forward kernel [c, k, 3, 3]: channel ci of dx reads
     * channel o of dY through w[o][ci] rotated by 180°.
     */
    static float[] transposedKernel(float[] weights, int k, int c) {
        float[] t = new float[c * k * 9];
        for (int o = 0; o < k; o++)
            for (int ci = 0; ci < c; ci++)
                for (int tap = 0; tap < 9; tap++) t[(ci * k + o) * 9 + 8 - tap] = weights[(o * c + ci) * 9 + tap];
        return t;
    }

    /** Lane l picks lane 2l (EVEN) or 2l + 1 (ODD) of two vectors side by side. */
    private static final IntVector EVEN = lanes(l -> 2 * l), ODD = lanes(l -> 2 * l + 1);
    /** Lane l picks lane l/2 of the first vector (l even) or of the second (l odd), from lane 0 (ZIP_LOW) or L/2 (ZIP_HIGH). */
    private static final IntVector ZIP_LOW = lanes(l -> l / 2 + (l % 2) * L), ZIP_HIGH = lanes(l -> L / 2 + l / 2 + (l % 2) * L);

    private static IntVector lanes(IntUnaryOperator index) {
        int[] a = new int[L];
        for (int l = 0; l < L; l++) a[l] = index.applyAsInt(l);
        return IntVector.fromArray(S.withLanes(int.class), a, 0);
    }

    /**
     * Images b0 … b0+nb−1 of x, each row padded by one zero on every side (rows −1 … 2·th, the
     * last zero where h is odd) and split: {@code half} even columns of the padded row (x[2m − 1]),
     * then as many odd ones (x[2m]), zero past the row. A row is copied into {@code row} with its
     * zeros, then split L pairs at a time by two-vector permutes.
     */
    private static void split(float[] x, int b0, int nb, int c, int h, int w, int hp, int half, float[] row, float[] out) {
        int plane = h * w, rowLength = 2 * half;
        Arrays.fill(row, 0f);
        for (int bc = 0; bc < nb * c; bc++) {
            int src = (b0 * c + bc) * plane, dst = bc * hp * rowLength;
            for (int ry = 0; ry < hp; ry++, dst += rowLength) {
                int y = ry - 1;
                if (y < 0 || y >= h) {
                    Arrays.fill(out, dst, dst + rowLength, 0f);
                    continue;
                }
                System.arraycopy(x, src + y * w, row, 1, w); // row[0] and row[w + 1 …] stay zero
                for (int m = 0; m < half; m += L) {
                    var low = (IntVector) FloatVector.fromArray(S, row, 2 * m).reinterpretAsInts();
                    var high = (IntVector) FloatVector.fromArray(S, row, 2 * m + L).reinterpretAsInts();
                    EVEN.selectFrom(low, high).reinterpretAsFloats().intoArray(out, dst + m);
                    ODD.selectFrom(low, high).reinterpretAsFloats().intoArray(out, dst + half + m);
                }
            }
        }
    }

    /**
     * V_p[ci][t] = (Bᵀ·d·B)_p for every tile t of the chunk and channel ci, with
     * Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], L tiles of a row at a time.
     */
    private static void inputTransform(float[] split, int nb, int c, int hp, int th, int tw, int half,
                                       float[] v, int stride) {
        int rowLength = 2 * half, tiles = th * tw, plane = c * stride;
        for (int ci = 0; ci < c; ci++)
            for (int b = 0; b < nb; b++) {
                int planeAt = (b * c + ci) * hp * rowLength;
                for (int ty = 0; ty < th; ty++) {
                    int r0 = planeAt + 2 * ty * rowLength;
                    for (int tx = 0; tx < tw; tx += L) {
                        int a = r0 + tx, at = ci * stride + b * tiles + ty * tw + tx;
                        // column j of each patch row's transform d_i·B is first ± second of the
                        // row's split values: d0 − d2, d1 + d2, d2 − d1, d1 − d3
                        for (int j = 0; j < 4; j++) {
                            int first = j == 0 ? 0 : j == 2 ? 1 : half, second = j == 0 || j == 1 ? 1 : j == 2 ? half : half + 1;
                            float sign = j == 1 ? 1f : -1f;
                            var e0 = column(split, a, first, second, sign);
                            var e1 = column(split, a + rowLength, first, second, sign);
                            var e2 = column(split, a + 2 * rowLength, first, second, sign);
                            var e3 = column(split, a + 3 * rowLength, first, second, sign);
                            // then Bᵀ down the column, stored at positions p = 4i + j
                            e0.sub(e2).intoArray(v, at + j * plane);
                            e1.add(e2).intoArray(v, at + (4 + j) * plane);
                            e2.sub(e1).intoArray(v, at + (8 + j) * plane);
                            e1.sub(e3).intoArray(v, at + (12 + j) * plane);
                        }
                    }
                }
            }
    }

    /** first + sign·second of the split values from a (sign ±1: the sum or difference, rounded once). */
    private static FloatVector column(float[] split, int a, int first, int second, float sign) {
        var other = FloatVector.fromArray(S, split, a + second);
        return other.fma(other.broadcast(sign), FloatVector.fromArray(S, split, a + first));
    }

    /**
     * For each block of 2L tiles and KB output channels: the 16 GEMMs into the scratch block m,
     * then Aᵀ·m·A (Aᵀ = [1 1 1 0; 0 1 −1 −1]) to each tile's 2×2 outputs, into {@code out}: output (i, j) of
     * channel o's tile t at {@code out[(o·4 + 2i + j)·stride + t]}.
     */
    private static void multiply(float[] u, float[] v, int stride, int chunkTiles, int c, int k, int[] vRows, float[] m,
                                 float[] out) {
        int kBlocks = (k + KB - 1) / KB;
        for (int ci = 0; ci < c; ci++) vRows[ci] = ci * stride;
        for (int t0 = 0; t0 < chunkTiles; t0 += TB)
            for (int kb = 0; kb < kBlocks; kb++) {
                // m[p][q][0 … 2L) = Σ_ci u_p[kb·KB + q][ci] · v_p[ci][t0 … t0 + 2L): DirectConv's
                // register block, its taps here the input channels
                for (int p = 0; p < P; p++)
                    DirectConv.block(v, p * c * stride + t0, vRows, u, ((p * kBlocks + kb) * c) * KB, c, m, p * KB * TB, TB, KB,
                            ALL_LANES);
                for (int q = 0, rows = Math.min(KB, k - kb * KB); q < rows; q++)
                    for (int half = 0; half < TB; half += L) outputTransform(m, q, half, out, ((kb * KB + q) * 4) * stride + t0 + half, stride);
            }
    }

    /**
     * The tiles' outputs into y's rows: for each row of tiles, its even and odd output columns
     * interleaved by two-vector permutes into {@code row}, which is copied to the image (w wide,
     * the last column dropped where w is odd; the second row dropped where h is odd).
     */
    private static void unsplit(float[] out, int stride, int b0, int nb, int k, int h, int w, int th, int tw, float[] row,
                                float[] y) {
        int plane = h * w, tiles = th * tw;
        for (int b = 0; b < nb; b++)
            for (int o = 0; o < k; o++) {
                int dst = ((b0 + b) * k + o) * plane, from = o * 4 * stride + b * tiles;
                for (int ty = 0; ty < th; ty++)
                    for (int i = 0; i < 2 && 2 * ty + i < h; i++) {
                        int even = from + 2 * i * stride + ty * tw, odd = even + stride;
                        for (int tx = 0; tx < tw; tx += L) {
                            var e = (IntVector) FloatVector.fromArray(S, out, even + tx).reinterpretAsInts();
                            var d = (IntVector) FloatVector.fromArray(S, out, odd + tx).reinterpretAsInts();
                            ZIP_LOW.selectFrom(e, d).reinterpretAsFloats().intoArray(row, 2 * tx);
                            ZIP_HIGH.selectFrom(e, d).reinterpretAsFloats().intoArray(row, 2 * tx + L);
                        }
                        System.arraycopy(row, 0, y, dst + (2 * ty + i) * w, w);
                    }
            }
    }

    /** Aᵀ·m·A for output channel q of the block and L tiles from half: the four outputs, from out[at], stride apart. */
    private static void outputTransform(float[] m, int q, int half, float[] out, int at0, int stride) {
        int at = q * TB + half, step = KB * TB;
        var m00 = FloatVector.fromArray(S, m, at);
        var m01 = FloatVector.fromArray(S, m, at + step);
        var m02 = FloatVector.fromArray(S, m, at + 2 * step);
        var m03 = FloatVector.fromArray(S, m, at + 3 * step);
        var m10 = FloatVector.fromArray(S, m, at + 4 * step);
        var m11 = FloatVector.fromArray(S, m, at + 5 * step);
        var m12 = FloatVector.fromArray(S, m, at + 6 * step);
        var m13 = FloatVector.fromArray(S, m, at + 7 * step);
        var m20 = FloatVector.fromArray(S, m, at + 8 * step);
        var m21 = FloatVector.fromArray(S, m, at + 9 * step);
        var m22 = FloatVector.fromArray(S, m, at + 10 * step);
        var m23 = FloatVector.fromArray(S, m, at + 11 * step);
        var m30 = FloatVector.fromArray(S, m, at + 12 * step);
        var m31 = FloatVector.fromArray(S, m, at + 13 * step);
        var m32 = FloatVector.fromArray(S, m, at + 14 * step);
        var m33 = FloatVector.fromArray(S, m, at + 15 * step);
        // rows: Aᵀ·m
        var s0 = m00.add(m10).add(m20); var d0 = m10.sub(m20).sub(m30);
        var s1 = m01.add(m11).add(m21); var d1 = m11.sub(m21).sub(m31);
        var s2 = m02.add(m12).add(m22); var d2 = m12.sub(m22).sub(m32);
        var s3 = m03.add(m13).add(m23); var d3 = m13.sub(m23).sub(m33);
        // columns: (Aᵀ·m)·A
        s0.add(s1).add(s2).intoArray(out, at0);
        s1.sub(s2).sub(s3).intoArray(out, at0 + stride);
        d0.add(d1).add(d2).intoArray(out, at0 + 2 * stride);
        d1.sub(d2).sub(d3).intoArray(out, at0 + 3 * stride);
    }

    private static int roundUp(int a, int b) { return (a + b - 1) / b * b; }
}
