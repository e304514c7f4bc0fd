package dev.activa.backend.cpu;

import dev.activa.activation.FloatBlock;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM, C = α·op(A)·op(B) + β·C, row-major, in the BLIS style: blocks of A and
 * B are packed into contiguous buffers sized for the caches, and a register-blocked
 * micro-kernel of {@link #MR} rows (six, or four on CPUs with 8 lanes) × two vectors of columns does
 * the arithmetic with FMAs.
 *
 * <p>Loops, outermost first: a 2-D split of C into one tile per core (over N when N is the larger
 * side, over M otherwise, or both), then per tile: NC columns of B (packed once per KC-deep slice,
 * kept in L2/L3), KC of depth, MC rows of A (packed, kept in L2), NR-column micro-panels of B (in
 * L1 while all MR-row micro-panels of A stream past), MR rows. Each tile packs into buffers it
 * borrows ({@link Workspaces}), reused across calls, so a call allocates nothing once they have grown.
 */
final class Sgemm {
    private Sgemm() {}

    static final VectorSpecies<Float> S = FloatBlock.SPECIES;
    static final int L = S.length();
    /**
     * Rows of the micro-kernel: its 2·MR accumulators, two vectors of B and a broadcast of A must
     * stay in registers. Six rows fit AVX-512's 32 vector registers; with AVX2's 16 (8 lanes or
     * fewer) the JIT spilled an accumulator to the stack every step, and four rows ran 2.2× faster.
     * The kernels hold code for six rows; {@code if (MR == 6)} on this constant folds away for four.
     */
    static final int MR = L >= 16 ? 6 : 4;
    static final int NR = 2 * L;
    /** Depth of a packed block: a B micro-panel (KC × NR floats, 24 KiB with 512-bit vectors) stays in L1. */
    static final int KC = 192;
    /** Rows of a packed A block (MC × KC floats, 216 KiB): it stays in a core's L2. */
    static final int MC = 288;
    /** Columns of a packed B block (KC × NC floats, 1.5 MiB with 512-bit vectors): it stays in L2/L3. */
    static final int NC = 64 * NR;
    /** Below this many multiply-adds a call runs on the calling thread alone. */
    private static final long PARALLEL_WORK = 1L << 18;

    /** A tile's packing buffers, borrowed ({@link Workspaces}): grown on demand, never shrunk, so steady-state calls allocate nothing. */
    private static final class Buffers {
        final Workspaces.Floats a = new Workspaces.Floats(), b = new Workspaces.Floats();
    }

    private static final Workspaces<Buffers> BUFFERS = new Workspaces<>(Buffers::new);

    /**
     * Packs part of an operand into the layout the micro-kernel reads: for A, rows
     * [from, from+count) as MR-row panels; for B, columns [from, from+count) as NR-column panels;
     * both over depth [k0, k0+kc), k-major inside a panel ({@code out[panel·P·kc + p·P + lane]}
     * with P = MR or NR) and zero-padded to whole panels. A packer lets a caller feed the GEMM
     * from a layout other than a row-major matrix (an image unfolded on the fly, say) without
     * materialising the matrix.
     */
    interface Packer {
        void pack(int from, int count, int k0, int kc, float[] out);
    }

    static void gemm(Parallel parallel, boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc) {
        gemm(parallel, m, n, k, alpha, packerA(transA, a, aOff, lda), packerB(transB, b, bOff, ldb), beta, c, cOff, ldc);
    }

    /** A stored matrix (row-major at aOff, lda; transposed if transA) as the A operand. */
    static Packer packerA(boolean transA, float[] a, int aOff, int lda) {
        return (from, count, k0, kc, out) -> packA(transA, a, aOff, lda, from, count, k0, kc, out);
    }

    /** A stored matrix (row-major at bOff, ldb; transposed if transB) as the B operand. */
    static Packer packerB(boolean transB, float[] b, int bOff, int ldb) {
        return (from, count, k0, kc, out) -> packB(transB, b, bOff, ldb, k0, kc, from, count, out);
    }

    /** As {@link #gemm(int, int, int, float, Packer, Packer, float, float[], int, int)}, on this thread alone. */
    static void gemmSerial(int m, int n, int k, float alpha, Packer packA, Packer packB,
                           float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0) scale(c, cOff, ldc, m, n, beta);
        else tile(packA, packB, 0, m, 0, n, k, alpha, beta, c, cOff, ldc);
    }

    /** C[m, n] (row-major at cOff, ldc) = α·A·B + β·C, the operands [m, k] and [k, n] given by their packers. */
    static void gemm(Parallel parallel, int m, int n, int k, float alpha, Packer packA, Packer packB,
                     float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0) {
            scale(c, cOff, ldc, m, n, beta);
            return;
        }
        int threads = (long) m * n * k < PARALLEL_WORK ? 1 : parallel.threads();
        // Split C into tm × tn tiles, one per thread: tiles cut across N share A's packing cost,
        // tiles cut across M share B's, so cut the longer side (in units of micro-tiles) first.
        int tm = 1, tn = 1;
        for (int t = threads; t > 1; ) {
            int f = smallestFactor(t);
            long colPanels = ceilDiv(n, NR * tn), rowPanels = ceilDiv(m, MR * tm);
            if (colPanels >= rowPanels && colPanels >= f) tn *= f;
            else if (rowPanels >= f) tm *= f;
            else if (colPanels >= f) tn *= f;
            else break;
            t /= f;
        }
        int gridM = tm, gridN = tn;
        parallel.forTasks(gridM * gridN, task -> {
            int ti = task / gridN, tj = task % gridN;
            int m0 = split(m, MR, gridM, ti), m1 = split(m, MR, gridM, ti + 1);
            int n0 = split(n, NR, gridN, tj), n1 = split(n, NR, gridN, tj + 1);
            if (m0 < m1 && n0 < n1) tile(packA, packB, m0, m1, n0, n1, k, alpha, beta, c, cOff, ldc);
        });
    }

    private static int smallestFactor(int t) {
        for (int f = 2; f * f <= t; f++) if (t % f == 0) return f;
        return t;
    }

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }

    /** The start of part {@code i} of {@code parts} of [0, size), cut at multiples of {@code unit}. */
    private static int split(int size, int unit, int parts, int i) {
        long units = ceilDiv(size, unit);
        return (int) Math.min(size, units * i / parts * unit);
    }

    /** C[m0:m1, n0:n1] on the calling thread, with packing buffers of its own while it runs. */
    private static void tile(Packer packA, Packer packB, int m0, int m1, int n0, int n1, int k, float alpha,
                             float beta, float[] c, int cOff, int ldc) {
        Buffers buf = BUFFERS.take();
        try {
            tile(buf, packA, packB, m0, m1, n0, n1, k, alpha, beta, c, cOff, ldc);
        } finally {
            BUFFERS.give(buf);
        }
    }

    private static void tile(Buffers buf, Packer packA, Packer packB, int m0, int m1, int n0, int n1, int k, float alpha,
                             float beta, float[] c, int cOff, int ldc) {
        int kcMax = Math.min(KC, k);
        float[] packedA = buf.a.atLeast(ceilDivInt(Math.min(MC, m1 - m0), MR) * MR * kcMax);
        float[] packedB = buf.b.atLeast(ceilDivInt(Math.min(NC, n1 - n0), NR) * NR * kcMax);
        for (int jc = n0; jc < n1; jc += NC) {
            int nc = Math.min(NC, n1 - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                float betaHere = pc == 0 ? beta : 1f;
                packB.pack(jc, nc, pc, kc, packedB);
                for (int ic = m0; ic < m1; ic += MC) {
                    int mc = Math.min(MC, m1 - ic);
                    packA.pack(ic, mc, pc, kc, packedA);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int cols = Math.min(NR, nc - jr);
                        int bp = (jr / NR) * NR * kc;
                        for (int ir = 0; ir < mc; ir += MR) {
                            int rows = Math.min(MR, mc - ir);
                            int cBase = cOff + (ic + ir) * ldc + jc + jr;
                            int ap = (ir / MR) * MR * kc;
                            if (rows == MR && cols == NR && alpha == 1f)
                                microKernel(kc, packedA, ap, packedB, bp, c, cBase, ldc, betaHere);
                            else
                                edgeKernel(kc, packedA, ap, packedB, bp, c, cBase, ldc, rows, cols, alpha, betaHere);
                        }
                    }
                }
            }
        }
    }

    private static int ceilDivInt(int a, int b) { return (a + b - 1) / b; }

    private static void scale(float[] c, int cOff, int ldc, int m, int n, float beta) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[cOff + i * ldc + j] = beta == 0 ? 0 : beta * c[cOff + i * ldc + j];
    }

    /** A[ic:ic+mc, pc:pc+kc] as MR-row panels, k-major inside a panel, zero-padded to whole panels. */
    private static void packA(boolean transA, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc, float[] out) {
        for (int ir = 0; ir < mc; ir += MR) {
            int base = (ir / MR) * MR * kc;
            int rows = Math.min(MR, mc - ir);
            int i0 = ic + ir;
            if (rows == MR && !transA) {
                // MR row streams, each contiguous in k.
                int r0 = aOff + i0 * lda + pc;
                int r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda;
                for (int p = 0; p < kc; p++) {
                    int o = base + p * MR;
                    out[o] = a[r0 + p];
                    out[o + 1] = a[r1 + p];
                    out[o + 2] = a[r2 + p];
                    out[o + 3] = a[r3 + p];
                    if (MR == 6) {
                        out[o + 4] = a[r4 + p];
                        out[o + 5] = a[r5 + p];
                    }
                }
            } else if (rows == MR) {
                // op(A) = Aᵀ: the MR values for one k are contiguous.
                for (int p = 0; p < kc; p++) System.arraycopy(a, aOff + (pc + p) * lda + i0, out, base + p * MR, MR);
            } else {
                for (int p = 0; p < kc; p++) {
                    int o = base + p * MR;
                    for (int r = 0; r < rows; r++) {
                        int i = i0 + r, kk = pc + p;
                        out[o + r] = transA ? a[aOff + kk * lda + i] : a[aOff + i * lda + kk];
                    }
                    for (int r = rows; r < MR; r++) out[o + r] = 0;
                }
            }
        }
    }

    /** B[pc:pc+kc, jc:jc+nc] as NR-column panels, k-major inside a panel, zero-padded. */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] out) {
        int whole = transB ? 0 : nc / NR * NR;
        if (whole > 0) {
            // Row by row: each row of the block is read once, in order, so the hardware prefetcher
            // streams it; panel by panel, the loop would touch kc rows a line each, too many streams.
            for (int p = 0; p < kc; p++) {
                int src = bOff + (pc + p) * ldb + jc, o = p * NR;
                for (int jr = 0; jr < whole; jr += NR, o += NR * kc) {
                    FloatVector.fromArray(S, b, src + jr).intoArray(out, o);
                    FloatVector.fromArray(S, b, src + jr + L).intoArray(out, o + L);
                }
            }
        }
        for (int jr = whole; jr < nc; jr += NR) {
            int base = (jr / NR) * NR * kc;
            int cols = Math.min(NR, nc - jr);
            if (transB && cols == NR) {
                // NR column streams, each contiguous in k: walk k in short strips so the NR
                // source lines being read stay in L1 while their values are spread out.
                for (int p0 = 0; p0 < kc; p0 += 16) {
                    int p1 = Math.min(kc, p0 + 16);
                    for (int j = 0; j < NR; j++) {
                        int src = bOff + (jc + jr + j) * ldb + pc;
                        for (int p = p0; p < p1; p++) out[base + p * NR + j] = b[src + p];
                    }
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    int o = base + p * NR;
                    int kk = pc + p;
                    for (int j = 0; j < cols; j++) {
                        int col = jc + jr + j;
                        out[o + j] = transB ? b[bOff + col * ldb + kk] : b[bOff + kk * ldb + col];
                    }
                    for (int j = cols; j < NR; j++) out[o + j] = 0;
                }
            }
        }
    }

    /** A whole MR × NR tile with α = 1: C = A·B + β·C, unmasked. */
    private static void microKernel(int kc, float[] pa, int aBase, float[] pb, int bBase,
                                    float[] c, int cBase, int ldc, float beta) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00;
        FloatVector c10 = c00, c11 = c00;
        FloatVector c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00;
        FloatVector c50 = c00, c51 = c00;
        for (int p = 0; p < kc; p++) {
            int bo = bBase + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo);
            FloatVector b1 = FloatVector.fromArray(S, pb, bo + L);
            int ao = aBase + p * MR;
            FloatVector a;
            a = FloatVector.broadcast(S, pa[ao]);
            c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, pa[ao + 1]);
            c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, pa[ao + 2]);
            c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, pa[ao + 3]);
            c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
            if (MR == 6) {
                a = FloatVector.broadcast(S, pa[ao + 4]);
                c40 = a.fma(b0, c40); c41 = a.fma(b1, c41);
                a = FloatVector.broadcast(S, pa[ao + 5]);
                c50 = a.fma(b0, c50); c51 = a.fma(b1, c51);
            }
        }
        // Everything stays inline: a vector handed to a method that is not inlined (a cold call
        // site only inlines tiny methods) is boxed, and that costs more than the FMAs here.
        if (beta != 0) {
            int o = cBase;
            c00 = FloatVector.fromArray(S, c, o).mul(beta).add(c00); c01 = FloatVector.fromArray(S, c, o + L).mul(beta).add(c01); o += ldc;
            c10 = FloatVector.fromArray(S, c, o).mul(beta).add(c10); c11 = FloatVector.fromArray(S, c, o + L).mul(beta).add(c11); o += ldc;
            c20 = FloatVector.fromArray(S, c, o).mul(beta).add(c20); c21 = FloatVector.fromArray(S, c, o + L).mul(beta).add(c21); o += ldc;
            c30 = FloatVector.fromArray(S, c, o).mul(beta).add(c30); c31 = FloatVector.fromArray(S, c, o + L).mul(beta).add(c31); o += ldc;
            if (MR == 6) {
                c40 = FloatVector.fromArray(S, c, o).mul(beta).add(c40); c41 = FloatVector.fromArray(S, c, o + L).mul(beta).add(c41); o += ldc;
                c50 = FloatVector.fromArray(S, c, o).mul(beta).add(c50); c51 = FloatVector.fromArray(S, c, o + L).mul(beta).add(c51);
            }
        }
        c00.intoArray(c, cBase); c01.intoArray(c, cBase + L); cBase += ldc;
        c10.intoArray(c, cBase); c11.intoArray(c, cBase + L); cBase += ldc;
        c20.intoArray(c, cBase); c21.intoArray(c, cBase + L); cBase += ldc;
        c30.intoArray(c, cBase); c31.intoArray(c, cBase + L); cBase += ldc;
        if (MR == 6) {
            c40.intoArray(c, cBase); c41.intoArray(c, cBase + L); cBase += ldc;
            c50.intoArray(c, cBase); c51.intoArray(c, cBase + L);
        }
    }

    /** A partial tile (or α ≠ 1): the same arithmetic, with masked stores and rows past the edge skipped. */
    private static void edgeKernel(int kc, float[] pa, int aBase, float[] pb, int bBase,
                                   float[] c, int cBase, int ldc, int rows, int cols, float alpha, float beta) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00;
        FloatVector c10 = c00, c11 = c00;
        FloatVector c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00;
        FloatVector c50 = c00, c51 = c00;
        for (int p = 0; p < kc; p++) {
            int bo = bBase + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo);
            FloatVector b1 = FloatVector.fromArray(S, pb, bo + L);
            int ao = aBase + p * MR;
            FloatVector a;
            a = FloatVector.broadcast(S, pa[ao]);
            c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, pa[ao + 1]);
            c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, pa[ao + 2]);
            c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, pa[ao + 3]);
            c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
            if (MR == 6) {
                a = FloatVector.broadcast(S, pa[ao + 4]);
                c40 = a.fma(b0, c40); c41 = a.fma(b1, c41);
                a = FloatVector.broadcast(S, pa[ao + 5]);
                c50 = a.fma(b0, c50); c51 = a.fma(b1, c51);
            }
        }
        // Scale, add β·C and store one row at a time, all inline (see microKernel).
        var m0 = S.indexInRange(0, cols);
        var m1 = S.indexInRange(L, cols);
        for (int r = 0; r < rows; r++) {
            FloatVector lo, hi;
            switch (r) {
                case 0 -> { lo = c00; hi = c01; }
                case 1 -> { lo = c10; hi = c11; }
                case 2 -> { lo = c20; hi = c21; }
                case 3 -> { lo = c30; hi = c31; }
                case 4 -> { lo = c40; hi = c41; }
                default -> { lo = c50; hi = c51; }
            }
            int o = cBase + r * ldc;
            lo = lo.mul(alpha);
            hi = hi.mul(alpha);
            if (beta != 0) {
                lo = FloatVector.fromArray(S, c, o, m0).mul(beta).add(lo);
                hi = FloatVector.fromArray(S, c, o + L, m1).mul(beta).add(hi);
            }
            lo.intoArray(c, o, m0);
            hi.intoArray(c, o + L, m1);
        }
    }
}
