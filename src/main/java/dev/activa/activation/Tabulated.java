package dev.activa.activation;

import static dev.activa.activation.FloatBlock.LANES;

import java.util.Arrays;
import java.util.function.DoubleUnaryOperator;

/**
 * An activation's FP32 path from its double definitions: f, f' and each ∂f/∂p_k tabulated by
 * {@link PiecewiseTable} for each parameter values, over −8 ≤ x &lt; 8 at 16 lanes (−4 ≤ x &lt; 4
 * at 8; f from −7.5 and −3.5), and evaluated with lookups. At 16 lanes that is about the speed of
 * hand-written lanes or faster: the path of mish, and of the backward passes of swish and
 * tanhrelu, which it computes faster than their lane code does. At 8 lanes it is slower than lane
 * code but 10–14 times faster than computing each element in double: the path of an activation
 * without lane code of its own ({@link Activation#forward}'s default, as for {@link Defined} ones)
 * from 8 lanes up.
 *
 * <p>The tables are checked against the definitions when they are built, at 16 points per
 * interval. Where one misses by more than {@link #TOLERANCE} (a kink away from zero, a steep
 * stretch), and on CPUs with fewer lanes than the caller asks for, the caller takes another way:
 * its lane code, or by element in double ({@link FloatBlock#forwardByElement}), as the vectors
 * that reach past the tables always do. So a new activation is right from its math alone, and fast wherever its math
 * is smooth on each side of zero.
 */
final class Tabulated {
    private Tabulated() {}

    /** The tables' reach on each side of zero: intervals 0.5 wide. */
    static final double REACH = LANES / 2.0;
    /** How close a table must come to its function, relative to max(1, |value|). */
    static final double TOLERANCE = 4e-7;

    /**
     * An activation's tables for one parameter values: f, or f(x)/x where f(0) = 0 ({@code overX},
     * which keeps f's relative precision near zero), f', and ∂f/∂p_k in {@code partials[k]}; null
     * tables if one missed the check.
     */
    record Tables(Activation act, float[] p, boolean overX, int[] values, int[] slopes, int[][] partials) {
        boolean usable() {
            return values != null;
        }

        /** The last tables built for each of a few slots (activation and parameters). */
        private static final Tables[] CACHE = new Tables[64];

        static Tables of(Activation act, float[] p) {
            // the name spreads the slots (the built-in activations' records have no fields, so one
            // hash code); equals tells activations apart, a defined one by identity
            int slot = (act.name().hashCode() * 31 + Arrays.hashCode(p)) & (CACHE.length - 1);
            Tables t = CACHE[slot]; // a racy read is safe: a record's fields are final
            if (t == null || !t.act.equals(act) || !Arrays.equals(t.p, p))
                CACHE[slot] = t = build(act, p.clone());
            return t;
        }

        private static Tables build(Activation act, float[] p) {
            double[] pd = new double[p.length];
            for (int k = 0; k < p.length; k++) pd[k] = p[k];
            DoubleUnaryOperator f = x -> act.value(x, pd);
            boolean overX = f.applyAsDouble(0) == 0;
            int[] values = checkedValues(f, overX), slopes = checked(x -> act.derivative(x, pd));
            int[][] partials = new int[p.length][];
            for (int k = 0; k < p.length; k++) {
                int parameter = k;
                double[] out = new double[p.length];
                partials[k] = checked(x -> {
                    act.parameterPartials(x, pd, out);
                    return out[parameter];
                });
            }
            boolean usable = values != null && slopes != null && Arrays.stream(partials).allMatch(t -> t != null);
            return usable ? new Tables(act, p, overX, values, slopes, partials) : new Tables(act, p, overX, null, null, null);
        }
    }

    static final float POSITIVE_SCALE = PiecewiseTable.positiveScale(REACH), NEGATIVE_SCALE = PiecewiseTable.negativeScale(REACH);
    /**
     * The values' tables are in the signed layout (faster; see {@link PiecewiseTable}), with the same
     * intervals above zero and one fewer below: from about −7.5 (−7.49) at 16 lanes.
     */
    static final float VALUE_SCALE = PiecewiseTable.signedScale(REACH);
    static final double VALUE_NEGATIVE_REACH = PiecewiseTable.signedNegativeEnd(REACH);

    /** f's table over both sides, or null if it misses f somewhere by more than the tolerance. */
    static int[] checked(DoubleUnaryOperator f) {
        int[] table = PiecewiseTable.of(f, REACH, f, REACH);
        return check(f, REACH, x -> PiecewiseTable.at(table, POSITIVE_SCALE, NEGATIVE_SCALE, x)) ? table : null;
    }

    /** f's values table, or f(x)/x's where f(0) = 0 ({@code overX}), checked as x times it against f; or null. */
    static int[] checkedValues(DoubleUnaryOperator f, boolean overX) {
        DoubleUnaryOperator tabulated = overX ? PiecewiseTable.overX(f, 0) : f; // f/x's interpolation points avoid x = 0
        int[] table = PiecewiseTable.signed(tabulated, tabulated, REACH);
        return check(f, VALUE_NEGATIVE_REACH, x -> PiecewiseTable.atSigned(table, VALUE_SCALE, x) * (overX ? x : 1)) ? table
                : null;
    }

    /** What a table gives at x, as the kernels compute it. */
    private interface Lookup {
        float at(float x);
    }

    /** Whether the table comes within the tolerance of f at 16 points per interval, ±0 and both ends included. */
    private static boolean check(DoubleUnaryOperator f, double negativeReach, Lookup table) {
        int points = 16 * LANES;
        for (int i = 0; i <= points; i++)
            for (double x : new double[] {REACH * i / points, -negativeReach * i / points}) {
                float xf = (float) Math.max(-negativeReach, Math.min(Math.nextDown((float) REACH), x));
                double want = f.applyAsDouble(xf);
                float got = table.at(xf);
                if (!(Math.abs(got - want) <= TOLERANCE * Math.max(1, Math.abs(want)))) return false;
            }
        return true;
    }

    /** A kernel over a block's whole span: the other way, for the vectors the tables leave alone. */
    interface Kernel {
        void run(FloatBlock b, float[] p);
    }

    /**
     * The fewest lanes at which the tables serve in place of an activation's lane code (at 8 they
     * took Nami 1.5× and 2× its lane path's time), and in place of computing each element in double.
     */
    static final int INSTEAD_OF_LANE_CODE = 16, INSTEAD_OF_DOUBLES = 8;

    /**
     * The forward pass from the tables, true, the vectors beyond them by {@code others} (run on
     * each run of such vectors as if it were the span); or false, nothing done, where the tables
     * do not serve (fewer than {@code fromLanes} lanes, or a table that missed the check).
     */
    static boolean forward(Activation act, FloatBlock b, float[] p, Kernel others, int fromLanes) {
        Tables t = serving(act, p, fromLanes);
        if (t == null) return false;
        for (int at = 0; at < b.n; at += FloatBlock.ROW) {
            int n = Math.min(FloatBlock.ROW, b.n - at);
            int far = PiecewiseTable.applySigned(t.values(), VALUE_SCALE, b.x, b.xAt + at, t.overX(), b.out, b.outAt + at, n,
                    b.vectors);
            runOthers(b, p, at, far, others);
        }
        return true;
    }

    /** The activation's tables for p if they serve here, else null. */
    static Tables serving(Activation act, float[] p, int fromLanes) {
        if (LANES < fromLanes) return null;
        Tables t = Tables.of(act, p);
        return t.usable() ? t : null;
    }

    /** Runs of consecutive vectors the tables left alone in the row at {@code at}, by {@code others}. */
    private static void runOthers(FloatBlock b, float[] p, int at, int far, Kernel others) {
        b.forEachRun(far, (start, length) -> b.narrowed(at + start, length, others, p));
    }

    /** The backward pass from the tables, true; or false, as {@link #forward}. */
    static boolean backward(Activation act, FloatBlock b, float[] p, Kernel others, int fromLanes) {
        Tables t = serving(act, p, fromLanes);
        if (t == null) return false;
        for (int at = 0; at < b.n; at += FloatBlock.ROW) {
            int n = Math.min(FloatBlock.ROW, b.n - at);
            int far = PiecewiseTable.apply(t.slopes(), POSITIVE_SCALE, NEGATIVE_SCALE, b.x, b.xAt + at, b.dy, b.dyAt + at, false,
                    b.out, b.outAt + at, n, b.vectors);
            if (p.length > 0) {
                for (int k = 0; k < p.length; k++) {
                    PiecewiseTable.dot(t.partials()[k], POSITIVE_SCALE, NEGATIVE_SCALE, b.x, b.xAt + at, b.dy, b.dyAt + at, n,
                            b.row1, b.vectors, b.row2);
                    System.arraycopy(b.row2, 0, b.partialSums, k * LANES, LANES);
                }
                b.addPartialSums();
            }
            runOthers(b, p, at, far, others);
        }
        return true;
    }
}
