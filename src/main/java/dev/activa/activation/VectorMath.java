package dev.activa.activation;

import static dev.activa.activation.FloatBlock.LANES;
import static dev.activa.activation.FloatBlock.SPECIES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The transcendental functions of the FP32 fast path, as passes over a {@link FloatBlock}'s rows
 * (see there why they run as loops of their own): e^t, and e^t − 1 from the same polynomial, and
 * sin t and cos t from one range reduction, with t = clamp(scale·x, lo, hi). The scale and clamp
 * are how an activation hands a branch its argument (e^min(x, 0) for ELU, e^min(−2a·x, 0) for
 * Nami, …).
 *
 * <p>Plain lane arithmetic (multiply-adds, one rounding trick, bit shifts) that the JIT compiles
 * inline. Not {@code lanewise(VectorOperators.EXP)} and friends: those become calls into a vector
 * math library (about 35 cycles per 16-lane call on this project's machines, the vectors spilled
 * around each), which kept every transcendental activation at 12–30% of memory bandwidth; and
 * their last bits differ between interpreted and compiled code, while these give the same bits in
 * every tier, so training runs repeat exactly. The polynomials are least-squares fits near
 * minimax, made for this file; {@code VectorMathTest} checks them against {@code Math.*}.
 */
public final class VectorMath {
    private VectorMath() {}

    /** Adding 1.5·2^23 rounds a float of magnitude below 2^22 to an integer, held in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);

    private static final float LOG2E = 1.44269504f, LN2 = 0.693147182f;
    /**
     * Where e^t saturates: at the smallest normal float, and at 2.4e38, where round(t·log2 e)
     * reaches 127, the largest exponent of a normal float.
     */
    private static final float EXP_MIN = -87.33654f, EXP_MAX = 88.376f;
    /** e^r − 1 = r + r²·P(r) on |r| ≤ ln2/2: relative error below 2e-8 before rounding. */
    private static final float P0 = 0.49999997f, P1 = 0.16666543f, P2 = 0.0416672f, P3 = 0.008366514f,
            P4 = 0.0013882515f;

    /**
     * The exp pass: {@code row[i] = e^t} with t = clamp(scale·x[xAt + i], lo, hi), for i &lt; n (a
     * multiple of {@link FloatBlock#LANES}).
     *
     * <p>Relative error below 1.5e-7 for |t| ≤ 20, below 4e-7 for all t. Saturates instead of
     * leaving the normal range: e^t is at least 1.2e-38 and at most 2.4e38 (never 0 or +Inf), which
     * changes no activation's result; NaN stays NaN.
     */
    public static void exp(float[] x, int xAt, float scale, float lo, float hi, float[] row, int n) {
        exp(x, xAt, scale, lo, hi, 0f, row, n);
    }

    /** The expm1 pass: {@code row[i] = e^t − 1}, as {@link #exp}, keeping its relative precision near t = 0. */
    public static void expm1(float[] x, int xAt, float scale, float lo, float hi, float[] row, int n) {
        exp(x, xAt, scale, lo, hi, 1f, row, n);
    }

    /** row[i] = e^t − minus, minus being 0 or 1, from one polynomial for e^r − 1. */
    private static void exp(float[] x, int xAt, float scale, float lo, float hi, float minus, float[] row, int n) {
        float from = Math.max(lo, EXP_MIN), to = Math.min(hi, EXP_MAX);
        for (int i = 0; i < n; i += LANES) {
            FloatVector t = FloatVector.fromArray(SPECIES, x, xAt + i).mul(scale).max(from).min(to);
            // t = k·ln2 + r with k = round(t·log2 e), |k| ≤ 127; r in one FMA, off by |k|·1.9e-9 at most.
            FloatVector shifted = t.fma(LOG2E, ROUNDER);
            FloatVector k = shifted.sub(ROUNDER);
            FloatVector r = k.fma(k.broadcast(-LN2), t);
            FloatVector p = r.fma(P4, P3);
            p = p.fma(r, r.broadcast(P2));
            p = p.fma(r, r.broadcast(P1));
            p = p.fma(r, r.broadcast(P0));
            FloatVector rm1 = p.mul(r).fma(r, r);                          // e^r − 1
            FloatVector twoToK = ((IntVector) shifted.reinterpretAsInts()).sub(ROUNDER_BITS - 127)
                    .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            // e^t − minus = 2^k·(e^r − 1) + (2^k − minus): for e^t − 1 exact at k = 0, no cancellation.
            twoToK.fma(rm1, twoToK.sub(minus)).intoArray(row, i);
        }
    }

    private static final float ONE_OVER_PI = 0.31830987f;
    /**
     * π in two parts, the float nearest to π and the float nearest to what is left: with FMAs,
     * t − q·π is then off by under 1e-10 for the |q| ≤ 20861 that |t| ≤ 65536 gives.
     */
    private static final float PI_HI = 3.1415927f, PI_LO = -8.742278e-8f;
    /** Beyond this |t| the reduction loses digits: such a vector takes the library's SIN and COS. */
    private static final float REDUCTION_LIMIT = 65536f;
    /** sin r = r + r³·S(r²) and cos r = 1 + r²·C(r²) on |r| ≤ π/2: absolute errors below 2e-8 and 8e-8. */
    private static final float S0 = -0.16666657f, S1 = 0.008333017f, S2 = -0.00019806615f, S3 = 2.6000532e-6f;
    private static final float C0 = -0.4999993f, C1 = 0.04166399f, C2 = -0.0013855926f, C3 = 2.3194376e-5f;

    /**
     * The sine pass: {@code sinRow[i] = sin t} and {@code cosRow[i] = cos t} with t = clamp(scale·x[xAt + i], lo, hi),
     * for i &lt; n (a multiple of {@link FloatBlock#LANES}); cosRow may be null. Absolute error about
     * 1e-7 for |t| ≤ 65536; a vector with a larger |t|, an infinite one included, takes the library's.
     */
    public static void sinCos(float[] x, int xAt, float scale, float lo, float hi, float[] sinRow, float[] cosRow, int n) {
        for (int i = 0; i < n; i += LANES) {
            FloatVector t = FloatVector.fromArray(SPECIES, x, xAt + i).mul(scale).max(lo).min(hi);
            if (t.abs().compare(VectorOperators.GT, REDUCTION_LIMIT).anyTrue()) {
                t.lanewise(VectorOperators.SIN).intoArray(sinRow, i);
                if (cosRow != null) t.lanewise(VectorOperators.COS).intoArray(cosRow, i);
                continue;
            }
            // t = q·π + r with q = round(t/π), |r| ≤ π/2; sin t = (−1)^q·sin r and cos t = (−1)^q·cos r.
            FloatVector shifted = t.fma(ONE_OVER_PI, ROUNDER);
            FloatVector q = shifted.sub(ROUNDER);
            FloatVector r = q.fma(q.broadcast(-PI_HI), t);
            r = q.fma(q.broadcast(-PI_LO), r);
            IntVector sign = ((IntVector) shifted.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 31);
            FloatVector r2 = r.mul(r);
            FloatVector s = r2.fma(S3, S2);
            s = s.fma(r2, r2.broadcast(S1));
            s = s.fma(r2, r2.broadcast(S0));
            s = s.mul(r2).fma(r, r);
            ((IntVector) s.reinterpretAsInts()).lanewise(VectorOperators.XOR, sign).reinterpretAsFloats().intoArray(sinRow, i);
            if (cosRow == null) continue;
            FloatVector c = r2.fma(C3, C2);
            c = c.fma(r2, r2.broadcast(C1));
            c = c.fma(r2, r2.broadcast(C0));
            c = c.fma(r2, r2.broadcast(1f));
            ((IntVector) c.reinterpretAsInts()).lanewise(VectorOperators.XOR, sign).reinterpretAsFloats().intoArray(cosRow, i);
        }
    }
}
