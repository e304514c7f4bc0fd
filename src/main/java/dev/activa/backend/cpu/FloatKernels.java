package dev.activa.backend.cpu;

import dev.activa.activation.Activation;
import dev.activa.activation.FloatBlock;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The fast FP32 elementwise and per-channel kernels: Vector API lanes, all cores. */
final class FloatKernels {
    private FloatKernels() {}

    static final VectorSpecies<Float> S = FloatBlock.SPECIES;
    static final int L = S.length();
    private static final int GRAIN = 1 << 15;

    private static FloatVector load(float[] a, int i, VectorMask<Float> m) {
        return FloatVector.fromArray(S, a, i, m);
    }

    /*
     * Activations run through FloatBlock (see there why): the calls into the activation pass
     * arrays, so they stay fast however many activations the process has run.
     */

    static void activationForward(Parallel parallel, Activation act, float[] p, float[] x, float[] r, float[] y) {
        parallel.forRange(x.length, GRAIN, (from, to) -> new FloatBlock(0).forward(act, p, x, r, y, from, to));
    }

    /**
     * Writes dx = dy·f'(x) and returns Σ dy·∂f/∂p_k. The sums are taken over a fixed split of the
     * elements (independent of the number of threads) and added in order, so they repeat exactly.
     */
    static double[] activationBackward(Parallel parallel, Activation act, float[] p, float[] x, float[] r,
                                       float[] dy, float[] dx) {
        int np = act.parameters().size();
        int chunks = Math.max(1, x.length / GRAIN);
        double[][] partial = new double[chunks][];
        parallel.forRange(chunks, 1, (c0, c1) -> {
            var block = new FloatBlock(np);
            for (int c = c0; c < c1; c++) {
                java.util.Arrays.fill(block.parameterSums, 0);
                block.backward(act, p, x, r, dy, dx, chunkStart(x.length, c, chunks), chunkStart(x.length, c + 1, chunks));
                partial[c] = block.parameterSums.clone();
            }
        });
        double[] sums = new double[np];
        for (double[] row : partial) for (int k = 0; k < np; k++) sums[k] += row[k];
        return sums;
    }

    /** Chunk boundaries on multiples of the row length, so only the last chunk of all is ragged. */
    private static int chunkStart(int n, int chunk, int chunks) {
        if (chunk == chunks) return n;
        return (int) ((long) n * chunk / chunks / FloatBlock.ROW * FloatBlock.ROW);
    }

    static void add(Parallel parallel, float[] a, float[] b, float[] y) {
        parallel.forRange(a.length, GRAIN, (from, to) -> {
            for (int i = from; i < to; i += L) {
                var m = S.indexInRange(i, to);
                load(a, i, m).add(load(b, i, m)).intoArray(y, i, m);
            }
        });
    }

    static void scale(Parallel parallel, float[] a, float s, float[] y) {
        parallel.forRange(a.length, GRAIN, (from, to) -> {
            for (int i = from; i < to; i += L) {
                var m = S.indexInRange(i, to);
                load(a, i, m).mul(s).intoArray(y, i, m);
            }
        });
    }

    static double sum(float[] a) {
        double total = 0;
        float[] lanes = new float[L];
        for (int i = 0; i < a.length; i += 4 * L) {
            FloatVector acc = FloatVector.zero(S);
            int end = Math.min(a.length, i + 4 * L);
            for (int j = i; j < end; j += L) acc = acc.add(load(a, j, S.indexInRange(j, end)));
            total += Activation.sumLanes(acc, lanes);
        }
        return total;
    }

    /** a *= factor in place; whether any element was Inf or NaN, before or after. */
    static boolean scaleAndCheck(float[] a, float factor) {
        // x − x is 0 for finite x and NaN for Inf or NaN; the sums of those stay 0 while all are finite.
        FloatVector bad = FloatVector.zero(S);
        for (int i = 0; i < a.length; i += L) {
            var m = S.indexInRange(i, a.length);
            FloatVector v = load(a, i, m), u = v.mul(factor);
            u.intoArray(a, i, m);
            bad = bad.add(v.sub(v)).add(u.sub(u));
        }
        return bad.compare(VectorOperators.NE, 0f).anyTrue();
    }

    /** Mean and 1/sqrt(biased var + eps) per channel; also the unbiased variance for running stats. */
    static void batchStats(Parallel parallel, float[] x, int n, int c, int hw, double eps,
                           float[] mean, float[] invStd, float[] unbiasedVar) {
        int count = n * hw;
        parallel.forRange(c, 1, (c0, c1) -> {
            float[] lanes = new float[L];
            for (int ch = c0; ch < c1; ch++) {
                double sum = 0;
                for (int b = 0; b < n; b++) sum += sumRange(x, (b * c + ch) * hw, hw, lanes);
                double m = sum / count;
                double sq = 0;
                for (int b = 0; b < n; b++) sq += squaredDeviation(x, (b * c + ch) * hw, hw, (float) m, lanes);
                mean[ch] = (float) m;
                invStd[ch] = (float) (1 / Math.sqrt(sq / count + eps));
                unbiasedVar[ch] = (float) (count > 1 ? sq / (count - 1) : sq);
            }
        });
    }

    private static double sumRange(float[] a, int off, int len, float[] lanes) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < len; i += L) acc = acc.add(load(a, off + i, S.indexInRange(i, len)));
        return Activation.sumLanes(acc, lanes);
    }

    private static double squaredDeviation(float[] a, int off, int len, float mean, float[] lanes) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < len; i += L) {
            var m = S.indexInRange(i, len);
            FloatVector d = load(a, off + i, m).sub(mean).blend(0f, m.not());
            acc = d.fma(d, acc);
        }
        return Activation.sumLanes(acc, lanes);
    }

    /** y = x·scale[ch] + shift[ch]: batch norm folded into one multiply-add per element. */
    static void channelAffine(Parallel parallel, float[] x, float[] y, int n, int c, int hw, float[] scale, float[] shift) {
        parallel.forRange(n * c, Math.max(1, GRAIN / Math.max(1, hw)), (p0, p1) -> {
            for (int plane = p0; plane < p1; plane++) {
                int ch = plane % c, off = plane * hw;
                float a = scale[ch], b = shift[ch];
                for (int i = 0; i < hw; i += L) {
                    var m = S.indexInRange(i, hw);
                    load(x, off + i, m).fma(a, b).intoArray(y, off + i, m);
                }
            }
        });
    }

    static void batchNormBackward(Parallel parallel, float[] x, float[] dy, float[] gamma, float[] mean, float[] invStd,
                                  int n, int c, int hw, float[] dx, float[] dgamma, float[] dbeta) {
        int count = n * hw;
        parallel.forRange(c, 1, (c0, c1) -> {
            float[] lanes = new float[L];
            for (int ch = c0; ch < c1; ch++) {
                float mu = mean[ch];
                double sumDy = 0, sumDyX = 0;
                for (int b = 0; b < n; b++) {
                    int off = (b * c + ch) * hw;
                    FloatVector sdy = FloatVector.zero(S), sdyx = FloatVector.zero(S);
                    for (int i = 0; i < hw; i += L) {
                        var m = S.indexInRange(i, hw);
                        FloatVector g = load(dy, off + i, m);
                        sdy = sdy.add(g);
                        sdyx = g.fma(load(x, off + i, m).sub(mu), sdyx);
                    }
                    sumDy += Activation.sumLanes(sdy, lanes);
                    sumDyX += Activation.sumLanes(sdyx, lanes);
                }
                float is = invStd[ch];
                double sumDyXhat = sumDyX * is;
                dgamma[ch] = (float) sumDyXhat;
                dbeta[ch] = (float) sumDy;
                // dx = γ·is/count · (count·dy − Σdy − xhat·Σ(dy·xhat)), expanded to dy·k1 + x·k2 + k3.
                float k1 = gamma[ch] * is;
                float k2 = (float) (-gamma[ch] * is * is * sumDyXhat / count);
                float k3 = (float) (-gamma[ch] * is / count * sumDy) - k2 * mu;
                for (int b = 0; b < n; b++) {
                    int off = (b * c + ch) * hw;
                    for (int i = 0; i < hw; i += L) {
                        var m = S.indexInRange(i, hw);
                        load(dy, off + i, m).mul(k1).add(load(x, off + i, m).fma(k2, k3)).intoArray(dx, off + i, m);
                    }
                }
            }
        });
    }

    /** [n·c planes of hw] → one mean per plane. */
    static void planeMean(Parallel parallel, float[] x, float[] y, int planes, int hw) {
        parallel.forRange(planes, Math.max(1, GRAIN / Math.max(1, hw)), (p0, p1) -> {
            float[] lanes = new float[L];
            for (int p = p0; p < p1; p++) y[p] = (float) (sumRange(x, p * hw, hw, lanes) / hw);
        });
    }

    static void planeBroadcast(Parallel parallel, float[] dy, float[] dx, int planes, int hw, float factor) {
        parallel.forRange(planes, Math.max(1, GRAIN / Math.max(1, hw)), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                FloatVector v = FloatVector.broadcast(S, dy[p] * factor);
                for (int i = 0; i < hw; i += L) v.intoArray(dx, p * hw + i, S.indexInRange(i, hw));
            }
        });
    }

    static void sgdStep(Parallel parallel, float[] w, float[] g, float[] buf, float lr, float momentum, float wd,
                        boolean nesterov, float gradScale) {
        parallel.forRange(w.length, GRAIN, (from, to) -> {
            for (int i = from; i < to; i += L) {
                var m = S.indexInRange(i, to);
                FloatVector wv = load(w, i, m);
                FloatVector gv = load(g, i, m).mul(gradScale).add(wv.mul(wd));
                FloatVector bv = load(buf, i, m).mul(momentum).add(gv);
                bv.intoArray(buf, i, m);
                FloatVector step = nesterov ? bv.mul(momentum).add(gv) : bv;
                wv.sub(step.mul(lr)).intoArray(w, i, m);
            }
        });
    }
}
