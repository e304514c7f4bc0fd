package dev.activa.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.DoubleUnaryOperator;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** The lane functions and passes against {@code Math.*} in double, on dense grids and at the edges of their ranges. */
class VectorMathTest {
    private static final float INF = Float.POSITIVE_INFINITY;

    /** A grid of n points (a multiple of the lane count), as the passes require. */
    private static float[] grid(double from, double to, int points) {
        int n = (points + FloatBlock.LANES - 1) / FloatBlock.LANES * FloatBlock.LANES;
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) xs[i] = (float) (from + (to - from) * Math.min(i, points - 1) / (points - 1));
        return xs;
    }

    /** The lane function applied to every vector of xs (a multiple of the lane count long). */
    private static float[] lanes(float[] xs, java.util.function.UnaryOperator<FloatVector> f) {
        float[] out = new float[xs.length];
        for (int i = 0; i < xs.length; i += FloatBlock.LANES)
            f.apply(FloatVector.fromArray(FloatBlock.SPECIES, xs, i)).intoArray(out, i);
        return out;
    }

    private static float[] exp(float[] xs) {
        return lanes(xs, t -> VectorMath.exp(t, -INF, INF));
    }

    private static float[] expm1(float[] xs) {
        return lanes(xs, t -> VectorMath.expm1(t, -INF, INF));
    }

    private static float[][] sinCos(float[] xs) {
        float[] s = new float[xs.length], c = new float[xs.length];
        VectorMath.sinCos(xs, 0, 1f, -INF, INF, s, c, xs.length);
        return new float[][] {s, c};
    }

    /** Asserts |got − exact(x)| ≤ rel·|exact(x)| + abs at every x (exact evaluated at the float x). */
    private static void within(String name, float[] got, DoubleUnaryOperator exact, float[] xs, double rel, double abs) {
        for (int i = 0; i < xs.length; i++) {
            double want = exact.applyAsDouble(xs[i]);
            double err = Math.abs(got[i] - want);
            assertTrue(err <= rel * Math.abs(want) + abs,
                    name + "(" + xs[i] + ") = " + got[i] + ", expected " + want + " (error " + err + ")");
        }
    }

    private static void within(String name, java.util.function.UnaryOperator<float[]> f, DoubleUnaryOperator exact,
                               float[] xs, double rel, double abs) {
        within(name, f.apply(xs), exact, xs, rel, abs);
    }

    @Test
    void exp() {
        within("exp", VectorMathTest::exp, Math::exp, grid(-87.3, 88.37, 200_001), 4e-7, 0);
        within("exp", VectorMathTest::exp, Math::exp, grid(-20, 20, 200_001), 1.5e-7, 0);
        // Outside the normal range e^t saturates, at the smallest normal float and at 2.4e38.
        float[] edges = new float[FloatBlock.LANES];
        float[] special = {-200, Float.NEGATIVE_INFINITY, 200, INF, Float.NaN, 0};
        System.arraycopy(special, 0, edges, 0, special.length);
        float[] got = exp(edges);
        assertTrue(got[0] > 0 && got[0] < 1.2e-38, "e^-200 saturates: " + got[0]);
        assertEquals(got[0], got[1]);
        assertTrue(got[2] > 2.3e38 && got[2] < INF, "e^200 saturates: " + got[2]);
        assertEquals(got[2], got[3]);
        assertTrue(Float.isNaN(got[4]));
        assertEquals(1f, got[5]);
    }

    @Test
    void expClampsItsArgument() {
        float[] xs = grid(-10, 10, 1_001);
        within("e^min(x, 0)", lanes(xs, t -> VectorMath.exp(t, -INF, 0f)), x -> Math.exp(Math.min(x, 0)), xs, 1.5e-7, 0);
        within("e^max(x, -1)", lanes(xs, t -> VectorMath.exp(t, -1f, INF)), x -> Math.exp(Math.max(x, -1)), xs, 1.5e-7, 0);
        within("e^clamp(x, -1, 2) - 1", lanes(xs, t -> VectorMath.expm1(t, -1f, 2f)),
                x -> Math.expm1(Math.min(2, Math.max(x, -1))), xs, 1.5e-7, 0);
    }

    @Test
    void nonPositiveVariantsGiveTheClampedFunctionsBitsWhereTIsNotPositive() {
        float[] xs = grid(-100, 0, 20_001);
        float[] edges = {Float.NEGATIVE_INFINITY, -0f, 0f, -Float.MIN_VALUE, -87.4f, -87.3f};
        System.arraycopy(edges, 0, xs, 0, edges.length);
        float[] exp = lanes(xs, VectorMath::expNonPositive), expm1 = lanes(xs, VectorMath::expm1NonPositive);
        assertTrue(java.util.Arrays.equals(lanes(xs, t -> VectorMath.exp(t, -INF, 0f)), exp), "e^t");
        assertTrue(java.util.Arrays.equals(lanes(xs, t -> VectorMath.expm1(t, -INF, 0f)), expm1), "e^t - 1");
        float[] normal = java.util.Arrays.copyOfRange(xs, FloatBlock.LANES, xs.length);
        within("e^t", java.util.Arrays.copyOfRange(exp, FloatBlock.LANES, xs.length), Math::exp, normal, 4e-7, 1.2e-38);
        within("e^t - 1", java.util.Arrays.copyOfRange(expm1, FloatBlock.LANES, xs.length), Math::expm1, normal, 4e-7, 0);
        float[] nan = new float[FloatBlock.LANES];
        nan[0] = Float.NaN;
        assertTrue(Float.isNaN(lanes(nan, VectorMath::expNonPositive)[0]) && Float.isNaN(lanes(nan, VectorMath::expm1NonPositive)[0]));
    }

    @Test
    void clampsOnTheBitsRaiseTToTheExpFloor() {
        float min = VectorMath.EXP_MIN, below = Math.nextDown(min), above = Math.nextUp(min);
        float[] ts = {Float.NEGATIVE_INFINITY, -3e38f, -1e6f, below, min, above, -1f, -Float.MIN_VALUE, -0f,
                0f, Float.MIN_VALUE, 1f, 1e30f, Float.POSITIVE_INFINITY, -87f, -20f};
        float[] got = lanes(ts, VectorMath::clampNonPositive), floored = lanes(ts, VectorMath::floorAtExpMin);
        for (int i = 0; i < ts.length; i++) {
            assertEquals(ts[i] >= 0 ? 0f : Math.max(ts[i], min), got[i], 0f, "clampNonPositive, t = " + ts[i]);
            assertEquals(Float.floatToRawIntBits(ts[i] >= 0 ? ts[i] : Math.max(ts[i], min)),
                    Float.floatToRawIntBits(floored[i]), "floorAtExpMin, t = " + ts[i]);
        }
        float[] nans = new float[16];
        nans[0] = Float.NaN;
        nans[1] = Float.intBitsToFloat(0xffc00000); // x86's default NaN, its sign bit set
        float[] clamped = lanes(nans, VectorMath::clampNonPositive);
        for (int i = 0; i < 2; i++)
            assertTrue(clamped[i] == 0f || clamped[i] == min, "NaN " + Integer.toHexString(Float.floatToRawIntBits(nans[i]))
                    + " became " + clamped[i] + ": finite within [EXP_MIN, 0] is the contract");
        assertEquals(min, lanes(nans, VectorMath::floorAtExpMin)[1], 0f, "a NaN with its sign bit set");
    }

    @Test
    void sinCosPassScalesAndClampsItsArgumentAndSkipsAMissingCosRow() {
        float[] xs = grid(-10, 10, 1_001), s = new float[xs.length], c = new float[xs.length];
        VectorMath.sinCos(xs, 0, 0.3f, -INF, 0f, s, c, xs.length);
        within("sin(min(0.3x, 0))", s, x -> Math.sin(Math.min(0.3f * (float) x, 0)), xs, 0, 2e-7);
        within("cos(min(0.3x, 0))", c, x -> Math.cos(Math.min(0.3f * (float) x, 0)), xs, 0, 2e-7);
        float[] offset = new float[xs.length - 16], sinOnly = new float[offset.length];
        VectorMath.sinCos(xs, 16, 0.3f, -INF, 0f, sinOnly, null, offset.length);
        assertTrue(java.util.Arrays.equals(java.util.Arrays.copyOfRange(s, 16, xs.length), sinOnly), "from xAt, without cos");
    }

    @Test
    void expm1KeepsItsRelativePrecisionNearZero() {
        within("expm1", VectorMathTest::expm1, Math::expm1, grid(-1e-3, 1e-3, 20_001), 2e-7, 0);
        within("expm1", VectorMathTest::expm1, Math::expm1, grid(-20, 20, 200_001), 1.5e-7, 0);
        within("expm1", VectorMathTest::expm1, Math::expm1, grid(-0.5, 0.5, 200_001), 1.5e-7, 0);
        float[] tiny = new float[FloatBlock.LANES];
        tiny[0] = 1e-30f;
        tiny[1] = -1e-30f;
        tiny[2] = -100;
        float[] got = expm1(tiny);
        assertEquals(1e-30f, got[0], 1e-37f);
        assertEquals(-1e-30f, got[1], 1e-37f);
        assertEquals(-1f, got[2]);
        assertEquals(0f, got[3]);
    }

    @Test
    void sinAndCos() {
        // Nami evaluates sin(w·x) and cos(w·x) with w ≤ 0.5: |w·x| ≤ 50 at the reference's x = ±100.
        float[] xs = grid(-60, 60, 400_001);
        float[][] sc = sinCos(xs);
        float[] cosLess = new float[xs.length];
        VectorMath.sinCos(xs, 0, 1f, -INF, INF, cosLess, null, xs.length);
        assertTrue(java.util.Arrays.equals(sc[0], cosLess), "sin alone equals sin with cos");
        within("sin", sc[0], Math::sin, xs, 0, 2e-7);
        within("cos", sc[1], Math::cos, xs, 0, 2e-7);
        float[] small = grid(-1e-4, 1e-4, 2_001);
        within("sin", sinCos(small)[0], Math::sin, small, 2e-7, 0);
        float[] wide = grid(-60000, 60000, 100_001);
        within("sin", sinCos(wide)[0], Math::sin, wide, 0, 2e-6);
        within("cos", sinCos(wide)[1], Math::cos, wide, 0, 2e-6);
        // Past the reduction's range a vector takes the library's functions.
        float[] huge = grid(-1e7, 1e7, 10_001);
        within("sin", sinCos(huge)[0], Math::sin, huge, 0, 1e-6);
        within("cos", sinCos(huge)[1], Math::cos, huge, 0, 1e-6);
    }
}
