package dev.activa.activation;

import static dev.activa.activation.FloatBlock.LANES;
import static dev.activa.activation.FloatBlock.SPECIES;

import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * tanh(a·x) if x &gt; 0, else a·sin(w·x)/b, with three learnable scalars per layer
 * (w, a, b), clamped before use. See {@code shared/reference/ACTIVATIONS.md}.
 */
public record Nami() implements Activation {
    static final List<Parameter> PARAMETERS = List.of(
            new Parameter("w", 0.3, 0.1, 0.5),
            new Parameter("a", 1.0, 0.5, 3.0),
            new Parameter("b", 1.5, 0.5, 3.0));

    public String name() { return "nami"; }

    public List<Parameter> parameters() { return PARAMETERS; }

    public double value(double x, double[] p) {
        return x > 0 ? tanhBranch(x, p) : sineBranch(x, p);
    }

    public double derivative(double x, double[] p) {
        return x > 0 ? tanhBranchSlope(x, p) : sineBranchSlope(x, p);
    }

    /*
     * The two branches and their slopes, each defined on the whole line (the tables fit each one
     * a little past zero), in StrictMath so that the FP32 tables built from them have the same bits
     * on every JVM.
     */

    static double tanhBranch(double x, double[] p) {
        return StrictMath.tanh(p[1] * x);
    }

    static double sineBranch(double x, double[] p) {
        return p[1] * StrictMath.sin(p[0] * x) / p[2];
    }

    static double tanhBranchSlope(double x, double[] p) {
        double cosh = StrictMath.cosh(p[1] * x);
        return p[1] / (cosh * cosh);
    }

    static double sineBranchSlope(double x, double[] p) {
        return p[1] * p[0] * StrictMath.cos(p[0] * x) / p[2];
    }

    public void parameterPartials(double x, double[] p, double[] out) {
        double w = p[0], a = p[1], b = p[2];
        if (x > 0) {
            out[0] = 0;
            out[1] = x * Activation.sech2(a * x);
            out[2] = 0;
        } else {
            double s = StrictMath.sin(w * x);
            out[0] = a * x * StrictMath.cos(w * x) / b;
            out[1] = s / b;
            out[2] = -a * s / (b * b);
        }
    }

    /*
     * Two ways through the FP32 fast path. Where the CPU's vectors have 16 lanes or more (AVX-512),
     * vectors whose lanes all lie within the tables' range (16 lanes: −7.5/a ≤ x < 8/a forward,
     * −2/w ≤ x < 8/a backward; nearly every input) take polynomials fitted to this call's w, a
     * and b ({@link NamiTables}). Other vectors, and every
     * vector on narrower CPUs, take the lane path.
     *
     * The lane path computes both branches and blends. The tanh branch takes e = e^v with
     * v = −2a·x and u = e − 1: tanh(a·x) = −u/(2 + u) and 1 − tanh²(a·x) = 4e/(1 + e)² where x > 0,
     * without overflow or cancellation. The sine branch takes sin and cos of w·x. In the forward
     * pass each branch's values on the other's lanes are blended away, whatever they are; the
     * backward pass sums over all lanes, so there the branches see v = −2a·max(x, 0) and
     * w·min(x, 0) instead, which give sin = 0 and sech² = 1 on the other's lanes. Both directions
     * run ROW elements at a time, and skip the sine's range reduction where |w·x| ≤ π/2 (nearly
     * every input). The forward pass then runs one loop, a reduction-free sine fitting the JIT's
     * inlining budget beside the exp; vectors with a lane further out take the sine pass with
     * reduction into the rows and a loop after. The backward pass (exp, sine, cosine and three
     * sums: 3.5× slower in one loop, its vectors boxed) always runs a sine pass into the rows
     * first, without reduction unless a lane of the row needs it, then one loop (see FloatBlock).
     */

    public void forward(FloatBlock b, float[] p) {
        forward(b, p, PiecewiseTable.AVAILABLE);
    }

    /** The lane path over the whole block (for tests: on this project's machines the tables serve). */
    void forwardLanes(FloatBlock b, float[] p) {
        forward(b, p, false);
    }

    /**
     * Row by row from the tables, or by the lane path's one loop; the vectors either leaves alone
     * then take the lane path's two-pass version, consecutive ones as one run. After a row with
     * more than a quarter of its vectors beyond the tables (a large a, wide inputs) the rest of the
     * block takes the lane path, then the faster way.
     */
    private void forward(FloatBlock b, float[] p, boolean tables) {
        NamiTables t = tables ? NamiTables.of(p) : null;
        for (int at = 0; at < b.n; at += FloatBlock.ROW) {
            int n = Math.min(FloatBlock.ROW, b.n - at), far;
            if (t != null) {
                far = t.forward(b, at, n);
                if (4 * far * LANES > n) t = null;
            } else {
                far = forwardNear(b, p, at, n);
            }
            int rowAt = at;
            b.forEachRun(far, (start, length) -> forward(b, p, rowAt + start, length));
        }
    }

    /**
     * The forward pass in one loop, the sine without range reduction: right wherever
     * |w·x| ≤ π/2 (x ≥ −π/(2w), at least −3.14), which is nearly always, and bit for bit what the
     * two-pass version gives there. A vector with a lane further out is not stored (y may be
     * written over x) but listed in {@code b.vectors} (its offset from at); the count of those is
     * returned, for the caller to compute them with the two-pass version.
     */
    private static int forwardNear(FloatBlock b, float[] p, int at, int n) {
        float w = p[0], a = p[1], bb = p[2];
        int xAt = b.xAt + at, outAt = b.outAt + at, far = 0;
        for (int i = 0; i < n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, b.x, xAt + i);
            var positiveLanes = x.compare(VectorOperators.GT, 0f);
            var positive = tanhWherePositive(x, a);
            var t = x.mul(w); // below −π/2 only where x < 0, w being positive
            if (t.compare(VectorOperators.LT, -VectorMath.HALF_PI).anyTrue())
                b.vectors[far++] = i;
            else
                VectorMath.sinNear(t).mul(a / bb).blend(positive, positiveLanes).intoArray(b.out, outAt + i);
        }
        return far;
    }

    private static void forward(FloatBlock b, float[] p, int at, int n) {
        float w = p[0], a = p[1], bb = p[2];
        int xAt = b.xAt + at, outAt = b.outAt + at;
        VectorMath.sinCos(b.x, xAt, w, Float.NEGATIVE_INFINITY, 0f, b.row1, null, n);
        for (int i = 0; i < n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, b.x, xAt + i);
            var positive = tanhWherePositive(x, a);
            var negative = FloatVector.fromArray(SPECIES, b.row1, i).mul(a / bb);
            negative.blend(positive, x.compare(VectorOperators.GT, 0f)).intoArray(b.out, outAt + i);
        }
    }

    /**
     * tanh(a·x) on the lanes with x &gt; 0, as −u/(2 + u) = u/(−2 − u) with u = e^(−2a·x) − 1; the
     * other lanes (x ≤ 0, NaN) hold meaningless values, for the caller to blend away.
     */
    private static FloatVector tanhWherePositive(FloatVector x, float a) {
        var u = VectorMath.expm1WithinRange(VectorMath.floorAtExpMin(x.mul(-2f * a)));
        return u.div(u.broadcast(-2f).sub(u));
    }

    /** Row by row from the tables; the vectors they leave alone by the lane path, in runs. */
    public void backward(FloatBlock b, float[] p) {
        if (!PiecewiseTable.AVAILABLE) {
            backwardLanes(b, p);
            return;
        }
        NamiTables t = NamiTables.of(p);
        for (int at = 0; at < b.n; at += FloatBlock.ROW) {
            int n = Math.min(FloatBlock.ROW, b.n - at), far = t.backward(b, at, n);
            int rowAt = at;
            b.forEachRun(far, (start, length) -> backward(b, p, rowAt + start, length));
        }
    }

    /** The lane path over the whole block. */
    void backwardLanes(FloatBlock b, float[] p) {
        for (int at = 0; at < b.n; at += FloatBlock.ROW) backward(b, p, at, Math.min(FloatBlock.ROW, b.n - at));
    }

    /**
     * The lane path backward: dx and the three parameter sums. The sums need no blends of their
     * terms: on lanes with x &gt; 0 the sine pass saw 0 (sin = 0), on the others the exp saw 0, so
     * with x₊ = max(x, 0) and x₋ = min(x, 0): Σ dy·∂f/∂w = (a/b)·Σ dy·x₋·cos,
     * Σ dy·∂f/∂a = Σ dy·x₊·sech² + (1/b)·Σ dy·sin and Σ dy·∂f/∂b = −(a/b²)·Σ dy·sin. The loop sums
     * dx·x₋ = (a·w/b)·dy·x₋·cos and dx·v with v = −2a·x₊, dx·v = −2a²·dy·x₊·sech², reusing dx's
     * products, and scales the sums once at the end.
     */
    private static void backward(FloatBlock b, float[] p, int at, int n) {
        float w = p[0], a = p[1], bb = p[2];
        int xAt = b.xAt + at, dyAt = b.dyAt + at, outAt = b.outAt + at;
        if (!VectorMath.sinCosNear(b.x, xAt, w, 0f, b.row1, b.row2, n))
            VectorMath.sinCos(b.x, xAt, w, Float.NEGATIVE_INFINITY, 0f, b.row1, b.row2, n);
        FloatVector byXMinus = FloatVector.zero(SPECIES), byV = byXMinus, bySin = byXMinus;
        for (int i = 0; i < n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, b.x, xAt + i);
            var g = FloatVector.fromArray(SPECIES, b.dy, dyAt + i);
            var positive = x.compare(VectorOperators.GT, 0f);
            // v stops at the exp's floor, where e^v would leave the floats: the a-sum's term then
            // vanishes beyond, as it should, instead of growing with x (at x = 3e38 it was 14·dy).
            // A NaN x gives a finite v, but its lane takes the sine's side, which keeps the NaN.
            var v = VectorMath.clampNonPositive(x.mul(-2f * a));
            var e = VectorMath.expWithinRange(v);
            var onePlus = e.add(1f);
            var aSech2 = e.mul(4f * a).div(onePlus.mul(onePlus));
            var slope = FloatVector.fromArray(SPECIES, b.row2, i).mul(a * w / bb).blend(aSech2, positive);
            var dx = g.mul(slope);
            dx.intoArray(b.out, outAt + i);
            byXMinus = dx.fma(x.blend(0f, positive), byXMinus);
            byV = dx.fma(v, byV);
            bySin = g.fma(FloatVector.fromArray(SPECIES, b.row1, i), bySin);
        }
        byXMinus.mul(1f / w).intoArray(b.partialSums, 0);
        byV.mul(-1f / (2f * a * a)).add(bySin.mul(1f / bb)).intoArray(b.partialSums, LANES);
        bySin.mul(-a / (bb * bb)).intoArray(b.partialSums, 2 * LANES);
        b.addPartialSums();
    }
}
