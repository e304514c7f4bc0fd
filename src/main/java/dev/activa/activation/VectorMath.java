package dev.activa.activation;

import static dev.activa.activation.FloatBlock.LANES;
import static dev.activa.activation.FloatBlock.SPECIES;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The transcendental functions of the FP32 fast path: e^t, and e^t − 1 from the same polynomial,
 * as lane functions with t clamped to [lo, hi] (how an activation keeps the branch it does not
 * take from overflowing: e^min(x, 0) for ELU, e^min(−2a·x, 0) for Nami, …); and a pass that writes
 * sin t and cos t, from one range reduction, into a {@link FloatBlock}'s rows.
 *
 * <p>An activation calls the lane functions from its own loop, so each element is loaded,
 * computed and stored in one go, which lets the memory traffic overlap the arithmetic. They are
 * small enough for the JIT to inline into that loop (see {@link FloatBlock} for why it must);
 * a full sine as well (range reduction, library fallback) would exceed its budget, hence the
 * passes, while a sine without range reduction ({@link #sinNear}) fits.
 *
 * <p>Plain lane arithmetic (multiply-adds, one rounding trick, bit shifts) that the JIT compiles
 * inline. Not {@code lanewise(VectorOperators.EXP)} and friends: those become calls into a vector
 * math library (about 35 cycles per 16-lane call on this project's machines, the vectors spilled
 * around each); and their last bits differ between interpreted and compiled code, while these
 * give the same bits in every tier, so training runs repeat exactly. The polynomials are
 * least-squares fits near minimax, made for this file; {@code VectorMathTest} checks them against
 * {@code Math.*}.
 */
public final class VectorMath {
    private VectorMath() {}

    /** Adding 1.5·2^23 rounds a float of magnitude below 2^22 to an integer, held in the low mantissa bits. */
    static final float ROUNDER = 12582912f;
    /**
     * 1.5·2^23 + 127: t·log2 e + this rounds to k + 127 + 1.5·2^23, whose bits shifted left by 23
     * are those of the float 2^k (the rest shifts out), for −126 ≤ k ≤ 127.
     */
    private static final float EXP_ROUNDER = ROUNDER + 127;

    private static final float LOG2E = 1.44269504f, LN2 = 0.693147182f;
    /**
     * Where e^t saturates: at the smallest normal float, and at 2.4e38, where round(t·log2 e)
     * reaches 127, the largest exponent of a normal float.
     */
    public static final float EXP_MIN = -87.33654f, EXP_MAX = 88.376f;
    /** e^r − 1 = r + r²·P(r) on |r| ≤ ln2/2: relative error below 2e-8 before rounding. */
    private static final float P0 = 0.49999997f, P1 = 0.16666543f, P2 = 0.0416672f, P3 = 0.008366514f,
            P4 = 0.0013882515f;

    /**
     * e^t with t clamped to [lo, hi]. Relative error below 1.5e-7 for |t| ≤ 20, below 4e-7 for all
     * t. Saturates instead of leaving the normal range: e^t is at least 1.2e-38 and at most 2.4e38
     * (never 0 or +Inf), which changes no activation's result; NaN stays NaN.
     */
    public static FloatVector exp(FloatVector t, float lo, float hi) {
        return exp(t, lo, hi, 0f);
    }

    /** e^t − 1 with t clamped to [lo, hi], as {@link #exp}, keeping its relative precision near t = 0. */
    public static FloatVector expm1(FloatVector t, float lo, float hi) {
        return exp(t, lo, hi, 1f);
    }

    /**
     * e^t for t ≤ 0, as {@code exp(t, −∞, 0)} gives it there, without the clamp from above: lanes
     * with t &gt; 0 hold meaningless values (Inf or NaN among them). Only for a caller that blends
     * those lanes away, never one that sums or multiplies them into kept lanes: a compare and a
     * blend fewer per vector, and a shorter chain.
     */
    public static FloatVector expNonPositive(FloatVector t) {
        return expOf(atLeast(t, EXP_MIN), 0f);
    }

    /**
     * e^t for t that the caller has kept within [{@link #EXP_MIN}, {@link #EXP_MAX}] (NaN stays
     * NaN), with no clamp at all: as {@link #exp} gives it there. Outside, meaningless.
     */
    public static FloatVector expWithinRange(FloatVector t) {
        return expOf(t, 0f);
    }

    /** e^t − 1 for t ≤ 0, as {@code expm1(t, −∞, 0)} gives it there; see {@link #expNonPositive}. */
    public static FloatVector expm1NonPositive(FloatVector t) {
        return expOf(atLeast(t, EXP_MIN), 1f);
    }

    /** e^t − 1 for t within [{@link #EXP_MIN}, {@link #EXP_MAX}], as {@link #expWithinRange} gives e^t. */
    public static FloatVector expm1WithinRange(FloatVector t) {
        return expOf(t, 1f);
    }

    private static final int EXP_MIN_BITS = Float.floatToRawIntBits(EXP_MIN);

    /*
     * Clamps on a float's bits, for arguments of the exps without a clamp: an integer minimum is
     * one instruction where a compare and a blend are two, with a shorter chain. As signed ints
     * the positive floats lie above 0 and the negative ones below; as unsigned ints the negative
     * floats order by magnitude, above every positive one. A NaN does not stay NaN: with its sign
     * bit set (x86's default NaN) it becomes EXP_MIN, and clampNonPositive turns one without it
     * into 0. Only for a caller whose NaN lanes take another branch, as Nami's take its sine.
     */

    /**
     * t raised to {@link #EXP_MIN} where below it; t ≥ 0 unchanged: for a caller that blends
     * away the lanes with t &gt; 0, and NaN lanes (see above).
     */
    public static FloatVector floorAtExpMin(FloatVector t) {
        return ((IntVector) t.reinterpretAsInts()).lanewise(VectorOperators.UMIN, EXP_MIN_BITS).reinterpretAsFloats();
    }

    /** min(t, 0), raised to {@link #EXP_MIN} where below it; NaN lanes as above. */
    public static FloatVector clampNonPositive(FloatVector t) {
        return floorAtExpMin(((IntVector) t.reinterpretAsInts()).lanewise(VectorOperators.MIN, 0).reinterpretAsFloats());
    }

    /** e^t − minus, minus being 0 or 1, from one polynomial for e^r − 1. */
    private static FloatVector exp(FloatVector t, float lo, float hi, float minus) {
        return expOf(clamp(t, Math.max(lo, EXP_MIN), Math.min(hi, EXP_MAX)), minus);
    }

    /** e^t − minus for t already within [EXP_MIN, EXP_MAX] (or NaN). */
    private static FloatVector expOf(FloatVector t, float minus) {
        // t = k·ln2 + r with k = round(t·log2 e), |k| ≤ 127; r in one FMA, off by |k|·1.9e-9 at most.
        FloatVector shifted = t.fma(LOG2E, EXP_ROUNDER);
        FloatVector k = shifted.sub(EXP_ROUNDER);
        FloatVector r = k.fma(k.broadcast(-LN2), t);
        // P(r) by Estrin's scheme, not Horner's: as many operations, but e^r − 1 = r + r²·P comes
        // four operations after r instead of six. On 8 lanes the kernels that divide after an exp
        // (tanh, Nami) wait on this chain more than on their operation count (docs/cpu-benchmarks.md).
        FloatVector r2 = r.mul(r);
        FloatVector p = r2.fma(r2.broadcast(P4), r.fma(P3, P2)).fma(r2, r.fma(P1, P0));
        FloatVector rm1 = p.fma(r2, r);                                 // e^r − 1
        FloatVector twoToK = shifted.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        // e^t − minus = 2^k·(e^r − 1) + (2^k − minus): for e^t − 1 exact at k = 0, no cancellation.
        // (The JIT compiles a subtraction of 0 to an instruction, though x − 0 is x for every x, −0
        // included; minus is a constant once this is inlined, so the choice folds away.)
        return twoToK.fma(rm1, minus == 0f ? twoToK : twoToK.sub(minus));
    }

    /**
     * t clamped to [lo, hi] by two compares and blends; NaN stays NaN. Not {@code max(lo).min(hi)}:
     * Java's max and min order −0 below +0 and propagate NaN, which costs x86 five instructions
     * each and made the clamp half of the exp pass's time.
     */
    static FloatVector clamp(FloatVector t, float lo, float hi) {
        t = atLeast(t, lo);
        return t.blend(hi, t.compare(VectorOperators.GT, hi));
    }

    /** t raised to lo where below it, by a compare and a blend; NaN stays NaN (see {@link #clamp}). */
    static FloatVector atLeast(FloatVector t, float lo) {
        return t.blend(lo, t.compare(VectorOperators.LT, lo));
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
     * The sine pass: {@code sinRow[i] = sin t} and {@code cosRow[i] = cos t} with
     * t = clamp(scale·x[xAt + i], lo, hi), for i &lt; n (a multiple of {@link FloatBlock#LANES});
     * cosRow may be null. Absolute error about 1e-7 for |t| ≤ 65536; a vector with a larger |t|,
     * an infinite one included, takes the library's SIN and COS.
     *
     * <p>The pass runs through a method handle that the JIT cannot see through, so it is always
     * compiled on its own: inlined into the kernel that calls it, it would use up that kernel's
     * node budget, and the kernel's own lane functions would then not be inlined (see FloatBlock).
     * Which of the two the JIT compiled first used to decide that, run by run.
     */
    public static void sinCos(float[] x, int xAt, float scale, float lo, float hi, float[] sinRow, float[] cosRow, int n) {
        try {
            sinCosPass.invokeExact(x, xAt, scale, lo, hi, sinRow, cosRow, n);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t); // the pass throws nothing checked
        }
    }

    /** Not final: the JIT inlines through a constant handle. */
    private static MethodHandle sinCosPass = handle("sinCosPass", MethodType.methodType(void.class,
            float[].class, int.class, float.class, float.class, float.class, float[].class, float[].class, int.class));

    private static void sinCosPass(float[] x, int xAt, float scale, float lo, float hi, float[] sinRow, float[] cosRow, int n) {
        for (int i = 0; i < n; i += LANES) {
            FloatVector t = clamp(FloatVector.fromArray(SPECIES, x, xAt + i).mul(scale), lo, hi);
            if (beyondReduction(t)) {
                t.lanewise(VectorOperators.SIN).intoArray(sinRow, i);
                if (cosRow != null) t.lanewise(VectorOperators.COS).intoArray(cosRow, i);
                continue;
            }
            FloatVector shifted = t.fma(ONE_OVER_PI, ROUNDER);
            FloatVector r = remainder(t, shifted);
            withSignOf(shifted, sinOfRemainder(r)).intoArray(sinRow, i);
            if (cosRow != null) withSignOf(shifted, cosOfRemainder(r)).intoArray(cosRow, i);
        }
    }

    /** π/2 as a float (just above it): where {@link #sinNear} and {@link #sinCosNear} stop being valid. */
    public static final float HALF_PI = 1.5707964f;

    /**
     * sin t for |t| ≤ {@link #HALF_PI}, without range reduction: the same polynomial, and so the same
     * bits, as {@link #sinCos} there; a lane function small enough to sit beside an exp in one loop.
     * Wrong for larger |t|: a caller checks its lanes and falls back to {@link #sinCos}.
     */
    public static FloatVector sinNear(FloatVector t) {
        return sinOfRemainder(t);
    }

    /**
     * {@link #sinCos} where every |t| ≤ {@link #HALF_PI}, with t = min(scale·x[xAt + i], hi) and
     * hi ≤ HALF_PI: the same bits there, without the clamp's lower side, the reduction and the
     * signs. Returns false, the rows then being unfinished, if some t was below −HALF_PI (hi
     * bounding it above): the caller runs {@link #sinCos}.
     * Compiled on its own through a method handle, as {@link #sinCos} is.
     */
    public static boolean sinCosNear(float[] x, int xAt, float scale, float hi, float[] sinRow, float[] cosRow, int n) {
        if (!(hi <= HALF_PI)) throw new IllegalArgumentException("sinCosNear: hi must be at most π/2, got " + hi);
        try {
            return (boolean) sinCosNearPass.invokeExact(x, xAt, scale, hi, sinRow, cosRow, n);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t); // the pass throws nothing checked
        }
    }

    /** Not final: the JIT inlines through a constant handle. */
    private static MethodHandle sinCosNearPass = handle("sinCosNearPass", MethodType.methodType(boolean.class,
            float[].class, int.class, float.class, float.class, float[].class, float[].class, int.class));

    private static MethodHandle handle(String name, MethodType type) {
        try {
            return MethodHandles.lookup().findStatic(VectorMath.class, name, type);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static boolean sinCosNearPass(float[] x, int xAt, float scale, float hi, float[] sinRow, float[] cosRow, int n) {
        var far = SPECIES.maskAll(false);
        for (int i = 0; i < n; i += LANES) {
            FloatVector t = FloatVector.fromArray(SPECIES, x, xAt + i).mul(scale);
            t = t.blend(hi, t.compare(VectorOperators.GT, hi));
            far = far.or(t.compare(VectorOperators.LT, -HALF_PI));
            sinOfRemainder(t).intoArray(sinRow, i);
            cosOfRemainder(t).intoArray(cosRow, i);
        }
        return !far.anyTrue();
    }

    private static boolean beyondReduction(FloatVector t) {
        return t.abs().compare(VectorOperators.GT, REDUCTION_LIMIT).anyTrue();
    }

    /*
     * t = q·π + r with q = round(t/π), |r| ≤ π/2; sin t = (−1)^q·sin r and cos t = (−1)^q·cos r.
     * shifted = t/π + 1.5·2^23 holds q in its low mantissa bits, so its lowest bit is q's parity.
     */

    private static FloatVector remainder(FloatVector t, FloatVector shifted) {
        FloatVector q = shifted.sub(ROUNDER);
        FloatVector r = q.fma(q.broadcast(-PI_HI), t);
        return q.fma(q.broadcast(-PI_LO), r);
    }

    private static FloatVector sinOfRemainder(FloatVector r) {
        FloatVector r2 = r.mul(r);
        FloatVector s = r2.fma(S3, S2);
        s = s.fma(r2, r2.broadcast(S1));
        s = s.fma(r2, r2.broadcast(S0));
        return s.mul(r2).fma(r, r);
    }

    private static FloatVector cosOfRemainder(FloatVector r) {
        FloatVector r2 = r.mul(r);
        FloatVector c = r2.fma(C3, C2);
        c = c.fma(r2, r2.broadcast(C1));
        c = c.fma(r2, r2.broadcast(C0));
        return c.fma(r2, r2.broadcast(1f));
    }

    /** v·(−1)^q, q's parity being the lowest bit of shifted. */
    private static FloatVector withSignOf(FloatVector shifted, FloatVector v) {
        IntVector sign = ((IntVector) shifted.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 31);
        return ((IntVector) v.reinterpretAsInts()).lanewise(VectorOperators.XOR, sign).reinterpretAsFloats();
    }
}
