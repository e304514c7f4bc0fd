package dev.activa.backend.cpu;

import dev.activa.activation.Activation;
import dev.activa.activation.FloatBlock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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

    /** FloatBlocks by parameter count, borrowed by each task ({@link Workspaces}): about 24 KiB of rows each. */
    private static final Map<Integer, Workspaces<FloatBlock>> BLOCKS = new ConcurrentHashMap<>();

    private static Workspaces<FloatBlock> blocks(int parameters) {
        return BLOCKS.computeIfAbsent(parameters, np -> new Workspaces<>(() -> new FloatBlock(np)));
    }

    static void activationForward(Parallel parallel, Activation act, float[] p, float[] x, float[] r, float[] y) {
        var blocks = blocks(0);
        parallel.forRange(x.length, GRAIN, (from, to) -> {
            FloatBlock block = blocks.take();
            try {
                block.forward(act, p, x, r, y, from, to);
            } finally {
                blocks.give(block);
            }
        });
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
        var blocks = blocks(np);
        parallel.forRange(chunks, 1, (c0, c1) -> {
            FloatBlock block = blocks.take();
            try {
                for (int c = c0; c < c1; c++) {
                    java.util.Arrays.fill(block.parameterSums, 0);
                    block.backward(act, p, x, r, dy, dx, chunkStart(x.length, c, chunks), chunkStart(x.length, c + 1, chunks));
                    partial[c] = block.parameterSums.clone();
                }
            } finally {
                blocks.give(block);
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

    /*
     * Batch norm works channel by channel (the split over channels makes its sums independent of
     * the number of threads), over the channel's n planes of hw elements. Its sums run in float
     * lanes over a group of planes, as many as keep a lane within SUM_SPAN values (one plane at
     * least, however large), before the group's lanes are added in order into double: for a plane
     * of 32 × 32 and up that is one plane, as it was, and a 4 × 4 plane no longer pays a reduction
     * of its lanes per plane (which took most of batch norm's time on the late layers' small
     * planes). The mean's sum runs about a pivot, the channel's first element, so that values far
     * from zero beside their spread lose no more digits in a lane of many than they did per plane.
     */
    private static final int SUM_SPAN = 64;

    /** Planes per group of a batch-norm sum: a plane puts up to ⌈hw/L⌉ values in a lane. */
    private static int planesPerSum(int hw) {
        return Math.max(1, SUM_SPAN / Math.max(1, (hw + L - 1) / L));
    }

    /**
     * Mean and 1/sqrt(biased var + eps) per channel; also the unbiased variance for running stats.
     * Each plane's lanes (the tail's unloaded lanes adding 0) are summed here, not in a helper: a
     * vector handed to a method the JIT does not inline is boxed, and whether it inlined one
     * depended on the run (one quick-start run in three allocated 200 MB more a step, 80 bytes per
     * 16 floats summed).
     */
    static void batchStats(Parallel parallel, float[] x, int n, int c, int hw, double eps,
                           float[] mean, float[] invStd, float[] unbiasedVar) {
        int count = n * hw, full = hw - hw % L, group = planesPerSum(hw);
        var tail = S.indexInRange(full, hw);
        parallel.forRange(c, 1, (c0, c1) -> {
            float[] lanes = new float[L];
            for (int ch = c0; ch < c1; ch++) {
                float pivot = count > 0 && Float.isFinite(x[ch * hw]) ? x[ch * hw] : 0f;
                double sum = 0;
                for (int b0 = 0; b0 < n; b0 += group) {
                    FloatVector acc = FloatVector.zero(S);
                    for (int b = b0, b1 = Math.min(n, b0 + group); b < b1; b++) {
                        int off = (b * c + ch) * hw;
                        for (int i = 0; i < full; i += L) acc = acc.add(FloatVector.fromArray(S, x, off + i).sub(pivot));
                        if (full < hw) acc = acc.add(load(x, off + full, tail).sub(pivot).blend(0f, tail.not()));
                    }
                    sum += Activation.sumLanes(acc, lanes);
                }
                float m = (float) (pivot + sum / count);
                double sq = 0;
                for (int b0 = 0; b0 < n; b0 += group) {
                    FloatVector acc = FloatVector.zero(S);
                    for (int b = b0, b1 = Math.min(n, b0 + group); b < b1; b++) {
                        int off = (b * c + ch) * hw;
                        for (int i = 0; i < full; i += L) {
                            FloatVector d = FloatVector.fromArray(S, x, off + i).sub(m);
                            acc = d.fma(d, acc);
                        }
                        if (full < hw) {
                            FloatVector d = load(x, off + full, tail).sub(m).blend(0f, tail.not());
                            acc = d.fma(d, acc);
                        }
                    }
                    sq += Activation.sumLanes(acc, lanes);
                }
                mean[ch] = m;
                invStd[ch] = (float) (1 / Math.sqrt(sq / count + eps));
                unbiasedVar[ch] = (float) (count > 1 ? sq / (count - 1) : sq);
            }
        });
    }

    /** y = x·scale[ch] + shift[ch]: batch norm folded into one multiply-add per element. */
    static void channelAffine(Parallel parallel, float[] x, float[] y, int n, int c, int hw, float[] scale, float[] shift) {
        int full = hw - hw % L;
        var tail = S.indexInRange(full, hw);
        parallel.forRange(n * c, Math.max(1, GRAIN / Math.max(1, hw)), (p0, p1) -> {
            for (int plane = p0, ch = p0 % c; plane < p1; plane++, ch = ch + 1 == c ? 0 : ch + 1) {
                int off = plane * hw;
                float a = scale[ch], b = shift[ch];
                for (int i = 0; i < full; i += L) FloatVector.fromArray(S, x, off + i).fma(a, b).intoArray(y, off + i);
                if (full < hw) load(x, off + full, tail).fma(a, b).intoArray(y, off + full, tail);
            }
        });
    }

    static void batchNormBackward(Parallel parallel, float[] x, float[] dy, float[] gamma, float[] mean, float[] invStd,
                                  int n, int c, int hw, float[] dx, float[] dgamma, float[] dbeta) {
        int count = n * hw, full = hw - hw % L, group = planesPerSum(hw);
        var tail = S.indexInRange(full, hw);
        parallel.forRange(c, 1, (c0, c1) -> {
            float[] lanes = new float[L];
            for (int ch = c0; ch < c1; ch++) {
                float mu = mean[ch];
                double sumDy = 0, sumDyX = 0;
                for (int b0 = 0; b0 < n; b0 += group) {
                    FloatVector sdy = FloatVector.zero(S), sdyx = sdy;
                    for (int b = b0, b1 = Math.min(n, b0 + group); b < b1; b++) {
                        int off = (b * c + ch) * hw;
                        for (int i = 0; i < full; i += L) {
                            FloatVector g = FloatVector.fromArray(S, dy, off + i);
                            sdy = sdy.add(g);
                            sdyx = g.fma(FloatVector.fromArray(S, x, off + i).sub(mu), sdyx);
                        }
                        if (full < hw) { // dy's unloaded lanes are 0, which zeroes their terms
                            FloatVector g = load(dy, off + full, tail);
                            sdy = sdy.add(g);
                            sdyx = g.fma(load(x, off + full, tail).sub(mu), sdyx);
                        }
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
                    for (int i = 0; i < full; i += L)
                        FloatVector.fromArray(S, dy, off + i).mul(k1).add(FloatVector.fromArray(S, x, off + i).fma(k2, k3))
                                .intoArray(dx, off + i);
                    if (full < hw)
                        load(dy, off + full, tail).mul(k1).add(load(x, off + full, tail).fma(k2, k3))
                                .intoArray(dx, off + full, tail);
                }
            }
        });
    }

    /** [n·c planes of hw] → one mean per plane. */
    static void planeMean(Parallel parallel, float[] x, float[] y, int planes, int hw) {
        int full = hw - hw % L;
        var tail = S.indexInRange(full, hw);
        parallel.forRange(planes, Math.max(1, GRAIN / Math.max(1, hw)), (p0, p1) -> {
            float[] lanes = new float[L];
            for (int p = p0; p < p1; p++) {
                FloatVector acc = FloatVector.zero(S); // summed here, not in a helper: see batchStats
                for (int i = 0; i < full; i += L) acc = acc.add(FloatVector.fromArray(S, x, p * hw + i));
                if (full < hw) acc = acc.add(load(x, p * hw + full, tail).blend(0f, tail.not()));
                y[p] = (float) (Activation.sumLanes(acc, lanes) / hw);
            }
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
