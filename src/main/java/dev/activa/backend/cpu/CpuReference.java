package dev.activa.backend.cpu;

import dev.activa.activation.Activation;

/**
 * The FP64 kernels: straightforward loops, written for clarity rather than speed. They serve
 * gradient checks and are the reference the fast FP32 kernels are tested against. Arrays are
 * row-major; images NCHW.
 */
final class CpuReference {
    private CpuReference() {}

    static void activationForward(Activation act, double[] p, double[] x, double[] residual, double[] y) {
        for (int i = 0; i < x.length; i++) y[i] = act.value(residual == null ? x[i] : x[i] + residual[i], p);
    }

    /** Writes dx (which may be dy itself) and returns Σ dy·∂f/∂p_k. */
    static double[] activationBackward(Activation act, double[] p, double[] x, double[] residual, double[] dy, double[] dx) {
        int np = act.parameters().size();
        double[] sums = new double[np];
        double[] partials = new double[np];
        for (int i = 0; i < x.length; i++) {
            double v = residual == null ? x[i] : x[i] + residual[i], g = dy[i];
            dx[i] = g * act.derivative(v, p);
            if (np > 0) {
                act.parameterPartials(v, p, partials);
                for (int k = 0; k < np; k++) sums[k] += g * partials[k];
            }
        }
        return sums;
    }

    /** x [n,c,h,w] ⊛ w [k,c,r,s] → y [n,k,ho,wo]. */
    static void conv2d(double[] x, double[] w, double[] y, int n, int c, int h, int wd, int k, int r, int s,
                       int stride, int pad, int ho, int wo) {
        for (int b = 0; b < n; b++)
            for (int o = 0; o < k; o++)
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++) {
                        double acc = 0;
                        for (int ci = 0; ci < c; ci++)
                            for (int i = 0; i < r; i++) {
                                int iy = oy * stride - pad + i;
                                if (iy < 0 || iy >= h) continue;
                                for (int j = 0; j < s; j++) {
                                    int ix = ox * stride - pad + j;
                                    if (ix < 0 || ix >= wd) continue;
                                    acc += x[((b * c + ci) * h + iy) * wd + ix] * w[((o * c + ci) * r + i) * s + j];
                                }
                            }
                        y[((b * k + o) * ho + oy) * wo + ox] = acc;
                    }
    }

    /** Accumulates dx and dw from dy; either output may be null. */
    static void conv2dBackward(double[] x, double[] w, double[] dy, double[] dx, double[] dw, int n, int c, int h,
                               int wd, int k, int r, int s, int stride, int pad, int ho, int wo) {
        for (int b = 0; b < n; b++)
            for (int o = 0; o < k; o++)
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++) {
                        double g = dy[((b * k + o) * ho + oy) * wo + ox];
                        for (int ci = 0; ci < c; ci++)
                            for (int i = 0; i < r; i++) {
                                int iy = oy * stride - pad + i;
                                if (iy < 0 || iy >= h) continue;
                                for (int j = 0; j < s; j++) {
                                    int ix = ox * stride - pad + j;
                                    if (ix < 0 || ix >= wd) continue;
                                    int xi = ((b * c + ci) * h + iy) * wd + ix;
                                    int wi = ((o * c + ci) * r + i) * s + j;
                                    if (dx != null) dx[xi] += g * w[wi];
                                    if (dw != null) dw[wi] += g * x[xi];
                                }
                            }
                    }
    }

    /** Per-channel mean and 1/sqrt(var + eps) (biased variance) over N, H, W. */
    static void batchStats(double[] x, int n, int c, int hw, double eps, double[] mean, double[] invStd, double[] unbiasedVar) {
        int count = n * hw;
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < hw; i++) sum += x[(b * c + ch) * hw + i];
            double m = sum / count;
            double sq = 0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < hw; i++) {
                    double d = x[(b * c + ch) * hw + i] - m;
                    sq += d * d;
                }
            mean[ch] = m;
            invStd[ch] = 1 / Math.sqrt(sq / count + eps);
            unbiasedVar[ch] = count > 1 ? sq / (count - 1) : sq;
        }
    }

    static void batchNormApply(double[] x, double[] y, int n, int c, int hw, double[] mean, double[] invStd,
                               double[] gamma, double[] beta) {
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < hw; i++) {
                    int idx = (b * c + ch) * hw + i;
                    y[idx] = (x[idx] - mean[ch]) * invStd[ch] * gamma[ch] + beta[ch];
                }
    }

    static void batchNormBackward(double[] x, double[] dy, double[] gamma, double[] mean, double[] invStd,
                                  int n, int c, int hw, double[] dx, double[] dgamma, double[] dbeta) {
        int count = n * hw;
        for (int ch = 0; ch < c; ch++) {
            double sumDy = 0, sumDyXhat = 0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < hw; i++) {
                    int idx = (b * c + ch) * hw + i;
                    sumDy += dy[idx];
                    sumDyXhat += dy[idx] * (x[idx] - mean[ch]) * invStd[ch];
                }
            dgamma[ch] = sumDyXhat;
            dbeta[ch] = sumDy;
            double scale = gamma[ch] * invStd[ch] / count;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < hw; i++) {
                    int idx = (b * c + ch) * hw + i;
                    double xhat = (x[idx] - mean[ch]) * invStd[ch];
                    dx[idx] = scale * (count * dy[idx] - sumDy - xhat * sumDyXhat);
                }
        }
    }

    static void maxPool(double[] x, double[] y, int[] argmax, int n, int c, int h, int w, int kernel, int stride,
                        int pad, int ho, int wo) {
        for (int plane = 0; plane < n * c; plane++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    double best = Double.NEGATIVE_INFINITY;
                    int where = -1;
                    for (int i = 0; i < kernel; i++)
                        for (int j = 0; j < kernel; j++) {
                            int iy = oy * stride - pad + i, ix = ox * stride - pad + j;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            int idx = (plane * h + iy) * w + ix;
                            if (where < 0 || x[idx] > best) {
                                best = x[idx];
                                where = idx;
                            }
                        }
                    int o = (plane * ho + oy) * wo + ox;
                    y[o] = best;
                    argmax[o] = where;
                }
    }

    static void matmul(double[] a, double[] b, double[] c, int m, int n, int k, boolean ta, boolean tb) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int p = 0; p < k; p++)
                    acc += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = acc;
            }
    }

    /** Mean loss; writes the softmax probabilities. */
    static double softmaxCrossEntropy(double[] logits, int[] labels, int rows, int classes, double smoothing, double[] probs) {
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int o = r * classes;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) max = Math.max(max, logits[o + j]);
            double sum = 0;
            for (int j = 0; j < classes; j++) sum += Math.exp(logits[o + j] - max);
            double logSum = Math.log(sum) + max;
            for (int j = 0; j < classes; j++) {
                double logP = logits[o + j] - logSum;
                probs[o + j] = Math.exp(logP);
                total -= target(j, labels[r], classes, smoothing) * logP;
            }
        }
        return total / rows;
    }

    static double target(int j, int label, int classes, double smoothing) {
        return (j == label ? 1 - smoothing : 0) + smoothing / classes;
    }

    static void softmaxCrossEntropyBackward(double[] probs, int[] labels, int rows, int classes, double smoothing,
                                            double upstream, double[] dlogits) {
        double scale = upstream / rows;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < classes; j++) {
                int o = r * classes + j;
                dlogits[o] = (probs[o] - target(j, labels[r], classes, smoothing)) * scale;
            }
    }
}
