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
 * <p>Forward values take a second layout, the signed one ({@link #signed}): one scale for both
 * sides and c = x·scale − ½, the side chosen by x's sign bit added to the index, so no compare and
 * no blends: Nami's and Mish's forward passes 1.1–1.2× faster in L1, which brings them nearer the
 * copy. The price is one interval fewer below zero (see {@link #signedNegativeEnd}), and that
 * +0 takes the positive side and −0 the negative one (a value's side at zero matters only where f
 * jumps there, which the callers' checks reject).
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
        fill(table, positive, positiveScale(positiveEnd), POSITIVE_OFFSET, 0, LANES - 1, 0);
        fill(table, negative, negativeScale(negativeEnd), NEGATIVE_OFFSET, -LANES, -1, 0);
        return table;
    }

    /*
     * The signed layout. Lane x takes c = x·scale − ½ and k = round(c) on both sides, d = c − k.
     * Lanes with the sign bit clear (x ≥ +0) take slot k, k = 0 … LANES − 1 over [0, end]. Lanes with
     * it set take slot k − 1: the index adds the sign bit shifted down (−1 or 0), one integer add
     * in place of a compare and two blends. Slots −2 … −LANES hold intervals k = −1 … −(LANES − 1).
     * Slot −1 is for k = 0 below zero, which only c = −½ exactly reaches (x from −0 down to about
     * −2^-25/scale, where x·scale vanishes beside ½): there d = −½ and the slot holds a constant,
     * the negative side's value at 0 (interval −1's polynomial at d = ½), so that tiny negative x
     * keep their side.
     */

    /** The signed layout's scale: [0, end] onto k = 0 … LANES − 1, end a quarter interval inside. */
    public static float signedScale(double end) {
        return positiveScale(end);
    }

    /** How far below zero the signed layout reaches, a quarter interval inside its last one: end·(LANES − 1¼)/(LANES − ¼). */
    public static double signedNegativeEnd(double end) {
        return end * (LANES - 1.25) / (LANES - 0.25);
    }

    /** The table of f in the signed layout: positive over [0, end], negative over [−signedNegativeEnd(end), 0). */
    public static int[] signed(DoubleUnaryOperator positive, DoubleUnaryOperator negative, double end) {
        int[] table = new int[COEFFICIENTS * STRIDE];
        float scale = signedScale(end);
        fill(table, positive, scale, POSITIVE_OFFSET, 0, LANES - 1, 0);
        fill(table, negative, scale, POSITIVE_OFFSET, -(LANES - 1), -1, -1);
        double atZero = 0, power = 1;
        for (double coefficient : coefficients(negative, scale, POSITIVE_OFFSET, -1)) {
            atZero += coefficient * power;
            power *= 0.5;
        }
        table[STRIDE - 1] = Float.floatToRawIntBits((float) atZero); // slot −1, coefficient 0; the others stay 0
        return table;
    }

    /** Lane function: the signed layout's lookup index, shifted's bits less one where x's sign bit is set. */
    public static IntVector signedIndex(FloatVector x, FloatVector shifted) {
        var signs = ((IntVector) x.reinterpretAsInts()).lanewise(VectorOperators.ASHR, 31);
        return ((IntVector) shifted.reinterpretAsInts()).add(signs);
    }

    /**
     * out = f(x), times x where {@code timesX} (a table of f(x)/x), over n elements (a multiple of
     * LANES) from xAt and outAt, from a table in the signed layout; vectors with a lane beyond it are
     * left as by {@link #apply} (listed in {@code far}, their count returned).
     */
    public static int applySigned(int[] table, float scale, float[] x, int xAt, boolean timesX, float[] out, int outAt,
                                  int n, int[] far) {
        return lookUp(table, true, scale, scale, x, xAt, null, 0, timesX, out, outAt, n, far);
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
        return lookUp(table, false, positiveScale, negativeScale, x, xAt, dy, dyAt, timesX, out, outAt, n, far);
    }

    /** {@link #apply} in either layout (the loop is unswitched on {@code signed}, a constant in each caller). */
    private static int lookUp(int[] table, boolean signed, float positiveScale, float negativeScale, float[] x, int xAt,
                              float[] dy, int dyAt, boolean timesX, float[] out, int outAt, int n, int[] far) {
        var positiveScales = FloatVector.broadcast(SPECIES, positiveScale);
        var negativeScales = FloatVector.broadcast(SPECIES, negativeScale);
        var offsets = FloatVector.broadcast(SPECIES, POSITIVE_OFFSET);
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
            var c = signed ? v.fma(positiveScales, offsets) : position(v, v.compare(VectorOperators.GT, 0f), positiveScales,
                    negativeScales);
            var shifted = shifted(c);
            var index = signed ? signedIndex(v, shifted) : index(shifted);
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
        return evaluate(table, c, 0);
    }

    /** {@link #at} for a table in the signed layout. */
    public static float atSigned(int[] table, float scale, float x) {
        return evaluate(table, Math.fma(x, scale, POSITIVE_OFFSET), Float.floatToRawIntBits(x) >> 31);
    }

    /** The polynomial of slot round(c) + slotShift at d = c − round(c), as the kernels round; NaN beyond the table. */
    private static float evaluate(int[] table, float c, int slotShift) {
        float shifted = c + ROUNDER, k = shifted - ROUNDER, d = c - k;
        if (!(k + slotShift >= -LANES && k + slotShift < LANES)) return Float.NaN;
        int index = Math.floorMod((int) k + slotShift, STRIDE);
        float p = Float.intBitsToFloat(table[DEGREE * STRIDE + index]);
        for (int m = DEGREE - 1; m >= 0; m--) p = Math.fma(p, d, Float.intBitsToFloat(table[m * STRIDE + index]));
        return p;
    }

    /** f(x)/x, with its limit f'(0) at x = 0, for tabulating a value that vanishes at zero. */
    public static DoubleUnaryOperator overX(DoubleUnaryOperator f, double slopeAtZero) {
        return x -> x == 0 ? slopeAtZero : f.applyAsDouble(x) / x;
    }

    /** Intervals firstK … lastK of f into the slots k + slotShift. */
    private static void fill(int[] table, DoubleUnaryOperator f, float scale, float offset, int firstK, int lastK,
                             int slotShift) {
        for (int k = firstK; k <= lastK; k++) {
            double[] coefficients = coefficients(f, scale, offset, k);
            int slot = Math.floorMod(k + slotShift, STRIDE);
            for (int m = 0; m < COEFFICIENTS; m++)
                table[m * STRIDE + slot] = Float.floatToRawIntBits((float) coefficients[m]);
        }
    }

    /** The coefficients of d^0 … d^6 of f on interval k, in double. */
    private static double[] coefficients(DoubleUnaryOperator f, float scale, float offset, int k) {
        double[] values = new double[COEFFICIENTS], coefficients = new double[COEFFICIENTS];
        for (int j = 0; j < COEFFICIENTS; j++) values[j] = f.applyAsDouble((k + NODES[j] - offset) / scale);
        for (int m = 0; m < COEFFICIENTS; m++)
            for (int j = 0; j < COEFFICIENTS; j++) coefficients[m] += TO_COEFFICIENTS[m][j] * values[j];
        return coefficients;
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
