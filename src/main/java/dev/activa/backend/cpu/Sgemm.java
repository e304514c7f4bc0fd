package dev.activa.backend.cpu;

import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM, C = α·op(A)·op(B) + β·C, row-major, in the BLIS style: panels of A and
 * B are packed into contiguous buffers sized for the caches, and a register-blocked
 * micro-kernel of {@value #MR} rows × two vectors of columns does the arithmetic with FMAs.
 * Column blocks run in parallel on all cores.
 */
public final class Sgemm {
    private Sgemm() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 6;
    static final int NR = 2 * L;
    /** Depth of a packed block: a B micro-panel (KC × NR floats) stays in L1. */
    static final int KC = 192;
    /** Columns one task packs and owns. */
    static final int NC = 8 * NR;

    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0) {
            scale(c, cOff, ldc, m, n, beta);
            return;
        }
        int mPanels = (m + MR - 1) / MR;
        float[] packedA = new float[mPanels * MR * Math.min(KC, k)];
        int tasks = (n + NC - 1) / NC;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            float betaHere = pc == 0 ? beta : 1f;
            packA(transA, a, aOff, lda, m, pc, kc, packedA);
            int depth = pc;
            IntStream range = IntStream.range(0, tasks);
            if (tasks > 1 && (long) m * n * kc > 1 << 15) range = range.parallel();
            range.forEach(t -> {
                int jc = t * NC;
                int nc = Math.min(NC, n - jc);
                float[] packedB = new float[((nc + NR - 1) / NR) * NR * kc];
                float[] tile = new float[MR * NR];
                packB(transB, b, bOff, ldb, depth, kc, jc, nc, packedB);
                for (int jr = 0; jr < nc; jr += NR) {
                    int cols = Math.min(NR, nc - jr);
                    int bp = (jr / NR) * NR * kc;
                    for (int ir = 0; ir < m; ir += MR) {
                        int rows = Math.min(MR, m - ir);
                        microKernel(kc, packedA, (ir / MR) * MR * kc, packedB, bp, tile);
                        storeTile(tile, c, cOff + ir * ldc + jc + jr, ldc, rows, cols, alpha, betaHere);
                    }
                }
            });
        }
    }

    private static void scale(float[] c, int cOff, int ldc, int m, int n, float beta) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[cOff + i * ldc + j] = beta == 0 ? 0 : beta * c[cOff + i * ldc + j];
    }

    /** A[pc:pc+kc] as MR-row panels, k-major inside a panel, zero-padded to whole panels. */
    private static void packA(boolean transA, float[] a, int aOff, int lda, int m, int pc, int kc, float[] out) {
        for (int ir = 0; ir < m; ir += MR) {
            int base = (ir / MR) * MR * kc;
            int rows = Math.min(MR, m - ir);
            for (int p = 0; p < kc; p++) {
                int o = base + p * MR;
                for (int r = 0; r < rows; r++) {
                    int i = ir + r, kk = pc + p;
                    out[o + r] = transA ? a[aOff + kk * lda + i] : a[aOff + i * lda + kk];
                }
                for (int r = rows; r < MR; r++) out[o + r] = 0;
            }
        }
    }

    /** B[pc:pc+kc, jc:jc+nc] as NR-column panels, k-major inside a panel, zero-padded. */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] out) {
        for (int jr = 0; jr < nc; jr += NR) {
            int base = (jr / NR) * NR * kc;
            int cols = Math.min(NR, nc - jr);
            for (int p = 0; p < kc; p++) {
                int o = base + p * NR;
                int kk = pc + p;
                if (!transB && cols == NR) {
                    int src = bOff + kk * ldb + jc + jr;
                    FloatVector.fromArray(S, b, src).intoArray(out, o);
                    FloatVector.fromArray(S, b, src + L).intoArray(out, o + L);
                    continue;
                }
                for (int j = 0; j < cols; j++) {
                    int col = jc + jr + j;
                    out[o + j] = transB ? b[bOff + col * ldb + kk] : b[bOff + kk * ldb + col];
                }
                for (int j = cols; j < NR; j++) out[o + j] = 0;
            }
        }
    }

    /**
     * The register-blocked product of one MR-row panel of A and one NR-column panel of B over kc,
     * written to {@code tile} [MR × NR]. Branch-free, so the JIT's compiled loop is never thrown
     * away when a differently shaped edge tile comes along.
     */
    private static void microKernel(int kc, float[] pa, int aBase, float[] pb, int bBase, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
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
            a = FloatVector.broadcast(S, pa[ao + 4]);
            c40 = a.fma(b0, c40); c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, pa[ao + 5]);
            c50 = a.fma(b0, c50); c51 = a.fma(b1, c51);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, L);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + L);
    }

    /** C[rows × cols] = α·tile + β·C. */
    private static void storeTile(float[] tile, float[] c, int cBase, int ldc, int rows, int cols, float alpha, float beta) {
        for (int r = 0; r < rows; r++) {
            int o = cBase + r * ldc, t = r * NR;
            if (beta == 0) for (int j = 0; j < cols; j++) c[o + j] = alpha * tile[t + j];
            else for (int j = 0; j < cols; j++) c[o + j] = alpha * tile[t + j] + beta * c[o + j];
        }
    }
}
