package dev.activa.activation;

import static dev.activa.activation.FloatBlock.LANES;
import static dev.activa.activation.FloatBlock.SPECIES;

import java.util.Arrays;
import java.util.function.DoubleUnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A function of x as short polynomials on equal intervals, {@link FloatBlock#LANES} of them on
 * each side of zero, which a kernel evaluates with one two-vector lookup per coefficient and a
 * multiply-add: no exp, sine or division. For a function with a kink at zero and parameters fixed
 * for the whole call, such as Nami (tanh on one side, sine on the other), that is far less work
 * than computing both sides in every lane and blending.
 *
 * <p>Lane x takes interval k = round(c) of c = x·scale + offset, with the positive side's scale and
 * offset where x &gt; 0 and the other side's elsewhere, and evaluates the interval's polynomial at
 * d = c − k, |d| ≤ ½. The positive side's k runs 0 … LANES − 1 over (0, positiveEnd), the other
 * side's −LANES … −1 over [−negativeEnd, 0]: x = 0 lies on the negative side, as in the
 * activations' definitions, and each side's polynomials are fitted to that side's values only.
 * The kernel's loop, per vector ({@link #apply} is one):
 * <pre>
 *   c = position(x, x &gt; 0, positiveScale, negativeScale); shifted = shifted(c)
 *   index = index(shifted)        // k mod 2·LANES selects the table entry
 *   if (!allWithin(index)) ...    // a lane beyond the ends, infinite or NaN: another way
 *   d = withinInterval(c, shifted)
 *   p = coefficient 6; p = p·d + coefficient 5; … ; p = p·d + coefficient 0
 * </pre>
 * where coefficient m is {@code index.selectFrom(low_m, high_m)} over the table's two halves
 * (int vectors of the coefficients' bits, one permute on AVX-512, loaded before the loop so that
 * they stay in registers), reinterpreted as floats. Kernels write the lookups out rather than
 * call a helper: the JIT's node budget for inlining (see {@link FloatBlock}) runs out otherwise;
 * that also makes the table loading repeat from kernel to kernel.
 *
 * <p>Each polynomial interpolates the function at the Chebyshev points of its interval (degree 6),
 * in double, its coefficients rounded to float: within 2e-7 of tanh over intervals 0.5 wide in its
 * argument and of sin and cos over intervals 0.1 wide, in {@code PiecewiseTableTest}. A value that
 * vanishes at zero is tabulated as f(x)/x and multiplied by x in the kernel, so that it keeps its
 * relative precision near zero.
 */
public final class PiecewiseTable {
    private PiecewiseTable() {}

    /** Whether tables serve: their lookups pick from two vectors, which need 16 lanes to cover 32 intervals. */
    public static final boolean AVAILABLE = LANES >= 16;
    public static final int DEGREE = 6, COEFFICIENTS = DEGREE + 1;
    /** Floats per coefficient in a table: both sides' intervals. */
    public static final int STRIDE = 2 * LANES;
    /**
     * x → 0 from above lands at c = −½ (interval 0), x = 0 at c = −0.505 (interval −1): the
     * interpolation points of the two intervals next to zero then all lie on their own side, so a
     * function with a kink at zero is fitted on each side from that side's values alone.
     */
    public static final float POSITIVE_OFFSET = -0.5f, NEGATIVE_OFFSET = -0.505f;

    /**
     * Interpolation points in d, and the matrix taking the values there to the coefficients of
     * d^0 … d^6 (StrictMath: the same bits on every JVM).
     */
    private static final double[] NODES = new double[COEFFICIENTS];
    private static final double[][] TO_COEFFICIENTS;

    static {
        for (int j = 0; j < COEFFICIENTS; j++) NODES[j] = 0.5 * StrictMath.cos((2 * j + 1) * Math.PI / (2 * COEFFICIENTS));
        double[][] vandermonde = new double[COEFFICIENTS][COEFFICIENTS];
        for (int j = 0; j < COEFFICIENTS; j++)
            for (int m = 0; m < COEFFICIENTS; m++) vandermonde[j][m] = StrictMath.pow(NODES[j], m);
        TO_COEFFICIENTS = inverse(vandermonde);
    }

    /**
     * c = x·positiveScale + POSITIVE_OFFSET takes (0, end) onto k = 0 … LANES − 1, and end itself
     * a quarter interval inside the last one, so that rounding at the ends cannot change sides.
     */
    public static float positiveScale(double end) {
        return (float) ((LANES - 0.25) / end);
    }

    /** c = x·negativeScale + NEGATIVE_OFFSET takes [−end, 0] onto k = −LANES … −1, −end a quarter inside. */
    public static float negativeScale(double end) {
        return (float) ((LANES - 0.75) / end);
    }

    /**
     * The table of f: coefficient m of interval index i (0 … 2·LANES − 1) at {@code [m·STRIDE + i]},
     * as float bits. The polynomials cover each whole interval |d| ≤ ½, a little past the range.
     */
    public static int[] of(DoubleUnaryOperator positive, double positiveEnd,
                             DoubleUnaryOperator negative, double negativeEnd) {
        int[] table = new int[COEFFICIENTS * STRIDE];
        fill(table, positive, positiveScale(positiveEnd), POSITIVE_OFFSET, 0);
        fill(table, negative, negativeScale(negativeEnd), NEGATIVE_OFFSET, -LANES);
        return table;
    }

    /** The lookups' species: integer lanes as many as the float lanes, for tables held as float bits. */
    public static final VectorSpecies<Integer> INTS = SPECIES.withLanes(int.class);

    /** Lane function: c = x·scale + offset, each side its own; the scales broadcast before the loop. */
    public static FloatVector position(FloatVector x, VectorMask<Float> positive, FloatVector positiveScale,
                                       FloatVector negativeScale) {
        FloatVector offset = FloatVector.broadcast(SPECIES, NEGATIVE_OFFSET).blend(POSITIVE_OFFSET, positive);
        return x.fma(negativeScale.blend(positiveScale, positive), offset);
    }

    /** VectorMath's 1.5·2^23: added to a float of magnitude below 2^22, it rounds it to an integer. */
    private static final float ROUNDER = VectorMath.ROUNDER;

    /** Lane function: c + 1.5·2^23, whose bits hold the interval k = round(c) in their low end. */
    public static FloatVector shifted(FloatVector c) {
        return c.add(ROUNDER);
    }

    /** Lane function: d = c − k, in [−½, ½]. */
    public static FloatVector withinInterval(FloatVector c, FloatVector shifted) {
        return c.sub(shifted.sub(ROUNDER));
    }

    /** Lane function: the lookup index, the bits of shifted; a lookup uses their low end only (k mod 2·LANES). */
    public static IntVector index(FloatVector shifted) {
        return (IntVector) shifted.reinterpretAsInts();
    }

    /** The bits of 1.5·2^23 − LANES: subtracted from an index, they leave k + LANES. */
    private static final int FIRST_INDEX = Float.floatToRawIntBits(ROUNDER) - LANES;

    /**
     * Lane function: whether every lane's interval is in the table, k within −LANES … LANES − 1: false
     * where x lies beyond either end, is infinite or NaN.
     */
    public static boolean allWithin(IntVector index) {
        return index.sub(FIRST_INDEX).compare(VectorOperators.ULT, STRIDE).allTrue();
    }

    /**
     * out = f(x)·scale over n elements (a multiple of LANES) from xAt and outAt, f from the table
     * and scale x itself where {@code timesX} (a table of f(x)/x), dy[dyAt + i] where dy is given,
     * 1 otherwise. Vectors with a lane beyond the table are not stored (out may be x) but listed in
     * {@code far} (offsets from xAt); returns their count.
     */
    public static int apply(int[] table, float positiveScale, float negativeScale, float[] x, int xAt, float[] dy,
                            int dyAt, boolean timesX, float[] out, int outAt, int n, int[] far) {
        var positiveScales = FloatVector.broadcast(SPECIES, positiveScale);
        var negativeScales = FloatVector.broadcast(SPECIES, negativeScale);
        IntVector c0 = IntVector.fromArray(INTS, table, 0), c0b = IntVector.fromArray(INTS, table, LANES);
        IntVector c1 = IntVector.fromArray(INTS, table, 2 * LANES), c1b = IntVector.fromArray(INTS, table, 3 * LANES);
        IntVector c2 = IntVector.fromArray(INTS, table, 4 * LANES), c2b = IntVector.fromArray(INTS, table, 5 * LANES);
        IntVector c3 = IntVector.fromArray(INTS, table, 6 * LANES), c3b = IntVector.fromArray(INTS, table, 7 * LANES);
        IntVector c4 = IntVector.fromArray(INTS, table, 8 * LANES), c4b = IntVector.fromArray(INTS, table, 9 * LANES);
        IntVector c5 = IntVector.fromArray(INTS, table, 10 * LANES), c5b = IntVector.fromArray(INTS, table, 11 * LANES);
        IntVector c6 = IntVector.fromArray(INTS, table, 12 * LANES), c6b = IntVector.fromArray(INTS, table, 13 * LANES);
        int count = 0;
        for (int i = 0; i < n; i += LANES) {
            var v = FloatVector.fromArray(SPECIES, x, xAt + i);
            var c = position(v, v.compare(VectorOperators.GT, 0f), positiveScales, negativeScales);
            var shifted = shifted(c);
            var index = index(shifted);
            if (!allWithin(index)) {
                far[count++] = i;
                continue;
            }
            var d = withinInterval(c, shifted);
            var p = (FloatVector) index.selectFrom(c6, c6b).reinterpretAsFloats();
            p = p.fma(d, (FloatVector) index.selectFrom(c5, c5b).reinterpretAsFloats());
            p = p.fma(d, (FloatVector) index.selectFrom(c4, c4b).reinterpretAsFloats());
            p = p.fma(d, (FloatVector) index.selectFrom(c3, c3b).reinterpretAsFloats());
            p = p.fma(d, (FloatVector) index.selectFrom(c2, c2b).reinterpretAsFloats());
            p = p.fma(d, (FloatVector) index.selectFrom(c1, c1b).reinterpretAsFloats());
            p = p.fma(d, (FloatVector) index.selectFrom(c0, c0b).reinterpretAsFloats());
            if (timesX) p = p.mul(v);
            if (dy != null) p = p.mul(FloatVector.fromArray(SPECIES, dy, dyAt + i));
            p.intoArray(out, outAt + i);
        }
        return count;
    }

    /**
     * sums[lane] = Σ dy·f(x) over the vectors of n elements from xAt and dyAt whose lanes all lie
     * within the table (the others, listed in {@code far} and counted as by {@link #apply}, are
     * left to the caller): {@link #apply} into {@code scratch} (n floats), summed lane by lane.
     */
    public static int dot(int[] table, float positiveScale, float negativeScale, float[] x, int xAt, float[] dy,
                          int dyAt, int n, float[] scratch, int[] far, float[] sums) {
        int count = apply(table, positiveScale, negativeScale, x, xAt, dy, dyAt, false, scratch, 0, n, far);
        for (int f = 0; f < count; f++) Arrays.fill(scratch, far[f], far[f] + LANES, 0f);
        Arrays.fill(sums, 0, LANES, 0f);
        for (int i = 0; i < n; i += LANES)
            for (int lane = 0; lane < LANES; lane++) sums[lane] += scratch[i + lane];
        return count;
    }

    /**
     * The table's value at x as a kernel computes it, in float, lane by lane: for checking a table
     * against its function. NaN where x lies beyond the table.
     */
    public static float at(int[] table, float positiveScale, float negativeScale, float x) {
        float c = x > 0 ? Math.fma(x, positiveScale, POSITIVE_OFFSET) : Math.fma(x, negativeScale, NEGATIVE_OFFSET);
        float shifted = c + ROUNDER, k = shifted - ROUNDER, d = c - k;
        if (!(k >= -LANES && k < LANES)) return Float.NaN;
        int index = Math.floorMod((int) k, STRIDE);
        float p = Float.intBitsToFloat(table[DEGREE * STRIDE + index]);
        for (int m = DEGREE - 1; m >= 0; m--) p = Math.fma(p, d, Float.intBitsToFloat(table[m * STRIDE + index]));
        return p;
    }

    /** f(x)/x, with its limit f'(0) at x = 0, for tabulating a value that vanishes at zero. */
    public static DoubleUnaryOperator overX(DoubleUnaryOperator f, double slopeAtZero) {
        return x -> x == 0 ? slopeAtZero : f.applyAsDouble(x) / x;
    }

    private static void fill(int[] table, DoubleUnaryOperator f, float scale, float offset, int firstK) {
        double[] values = new double[COEFFICIENTS];
        for (int k = firstK; k < firstK + LANES; k++) {
            for (int j = 0; j < COEFFICIENTS; j++) values[j] = f.applyAsDouble((k + NODES[j] - offset) / scale);
            int index = Math.floorMod(k, STRIDE);
            for (int m = 0; m < COEFFICIENTS; m++) {
                double coefficient = 0;
                for (int j = 0; j < COEFFICIENTS; j++) coefficient += TO_COEFFICIENTS[m][j] * values[j];
                table[m * STRIDE + index] = Float.floatToRawIntBits((float) coefficient);
            }
        }
    }

    /** Gauss-Jordan with partial pivoting; the 7×7 Vandermonde matrix on Chebyshev points is well conditioned. */
    private static double[][] inverse(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][2 * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a[i], 0, m[i], 0, n);
            m[i][n + i] = 1;
        }
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
            double[] swap = m[col];
            m[col] = m[pivot];
            m[pivot] = swap;
            double scale = 1 / m[col][col];
            for (int c = 0; c < 2 * n; c++) m[col][c] *= scale;
            for (int r = 0; r < n; r++) {
                if (r == col || m[r][col] == 0) continue;
                double factor = m[r][col];
                for (int c = 0; c < 2 * n; c++) m[r][c] -= factor * m[col][c];
            }
        }
        double[][] inverse = new double[n][n];
        for (int i = 0; i < n; i++) System.arraycopy(m[i], n, inverse[i], 0, n);
        return inverse;
    }
}
