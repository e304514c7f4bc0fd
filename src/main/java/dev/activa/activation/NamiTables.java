package dev.activa.activation;

import static dev.activa.activation.FloatBlock.LANES;
import static dev.activa.activation.FloatBlock.SPECIES;
import static dev.activa.activation.PiecewiseTable.INTS;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Nami's FP32 kernels for one (w, a, b) from {@link PiecewiseTable}s of Nami's own branches: f'(x)
 * over (0, positiveEnd), a·x up to {@link #TANH_REACH}, and over [−negativeEnd, 0], w·x down to
 * −{@link #SINE_REACH}; f(x)/x in the signed layout (one scale, intervals as wide as the slope's
 * above zero) over [−valueNegativeEnd, positiveEnd]. Seven lookups and multiply-adds per vector
 * where {@link Nami}'s lane path computes an exp, a sine, a division and blends. The tables are
 * built in double (about 450 evaluations) and cached.
 *
 * <p>Both kernels work on one row of a {@link FloatBlock} and leave vectors with a lane beyond the
 * tables (or infinite, or NaN) alone: not stored (y may be written over x), but listed in
 * {@code block.vectors} (their offsets from at) and counted, for Nami's lane path to compute.
 * Their lookups are written out (see {@link PiecewiseTable} for the recipe and why).
 */
record NamiTables(float w, float a, float b, float positiveEnd, float negativeEnd, float positiveScale,
                  float negativeScale, int[] valuesOverX, int[] slopes) {

    /** The reach in a·x (tanh(8) is 1 − 2.3e-7) and in w·x: intervals 0.5 and 0.13 wide at 16 lanes. */
    static final double TANH_REACH = LANES / 2.0, SINE_REACH = LANES / 8.0;

    /** The last tables built for each of a few parameter slots; a training step meets one per Nami layer. */
    private static final NamiTables[] CACHE = new NamiTables[64];

    /** The tables for the clamped parameters p = (w, a, b). */
    static NamiTables of(float[] p) {
        float w = p[0], a = p[1], b = p[2];
        int slot = (Float.floatToRawIntBits(w) * 31 + Float.floatToRawIntBits(a)) * 31 + Float.floatToRawIntBits(b);
        slot = (slot ^ (slot >>> 16)) & (CACHE.length - 1);
        NamiTables t = CACHE[slot]; // a racy read is safe: a record's fields are final
        if (t == null || t.w != w || t.a != a || t.b != b) CACHE[slot] = t = build(w, a, b);
        return t;
    }

    private static NamiTables build(float wf, float af, float bf) {
        double w = wf, a = af, b = bf, positiveEnd = TANH_REACH / a, negativeEnd = SINE_REACH / w;
        double[] p = {w, a, b};
        var valuesOverX = PiecewiseTable.signed(
                PiecewiseTable.overX(x -> Nami.tanhBranch(x, p), Nami.tanhBranchSlope(0, p)),
                PiecewiseTable.overX(x -> Nami.sineBranch(x, p), Nami.sineBranchSlope(0, p)), positiveEnd);
        var slopes = PiecewiseTable.of(x -> Nami.tanhBranchSlope(x, p), positiveEnd, x -> Nami.sineBranchSlope(x, p),
                negativeEnd);
        return new NamiTables(wf, af, bf, (float) positiveEnd, (float) negativeEnd, PiecewiseTable.positiveScale(positiveEnd),
                PiecewiseTable.negativeScale(negativeEnd), valuesOverX, slopes);
    }

    /** How far below zero the forward table reaches (its signed layout has one interval fewer there). */
    float valueNegativeEnd() {
        return (float) PiecewiseTable.signedNegativeEnd(positiveEnd);
    }

    /** y = x·(f(x)/x) over the row's n elements from at; returns the count of vectors left alone. */
    int forward(FloatBlock block, int at, int n) {
        return PiecewiseTable.applySigned(valuesOverX, positiveScale, block.x, block.xAt + at, true, block.out,
                block.outAt + at, n, block.vectors);
    }

    /**
     * dx = dy·f'(x) over the row's n elements from at, and the parameter sums, which reuse
     * s = f'(x): x·sech²(a·x) = x·s/a and a·x·cos(w·x)/b = x·s/w; their sine terms, sin(w·x)
     * where x ≤ 0, come from the derivative of the slope's polynomial there, five multiply-adds and
     * no lookup. (A sine in this loop ran the JIT out of inlining budget: the loop's vectors were
     * boxed, 8× slower.) Returns the count of vectors left alone.
     */
    int backward(FloatBlock block, int at, int n) {
        int xAt = block.xAt + at, dyAt = block.dyAt + at, outAt = block.outAt + at, far = 0;
        var positiveScales = FloatVector.broadcast(SPECIES, positiveScale);
        var negativeScales = FloatVector.broadcast(SPECIES, negativeScale);
        int[] s = slopes;
        IntVector s0 = IntVector.fromArray(INTS, s, 0), s0b = IntVector.fromArray(INTS, s, LANES);
        IntVector s1 = IntVector.fromArray(INTS, s, 2 * LANES), s1b = IntVector.fromArray(INTS, s, 3 * LANES);
        IntVector s2 = IntVector.fromArray(INTS, s, 4 * LANES), s2b = IntVector.fromArray(INTS, s, 5 * LANES);
        IntVector s3 = IntVector.fromArray(INTS, s, 6 * LANES), s3b = IntVector.fromArray(INTS, s, 7 * LANES);
        IntVector s4 = IntVector.fromArray(INTS, s, 8 * LANES), s4b = IntVector.fromArray(INTS, s, 9 * LANES);
        IntVector s5 = IntVector.fromArray(INTS, s, 10 * LANES), s5b = IntVector.fromArray(INTS, s, 11 * LANES);
        IntVector s6 = IntVector.fromArray(INTS, s, 12 * LANES), s6b = IntVector.fromArray(INTS, s, 13 * LANES);
        FloatVector byTanhSide = FloatVector.zero(SPECIES), bySineSide = byTanhSide, byChange = byTanhSide;
        for (int i = 0; i < n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, block.x, xAt + i);
            var positive = x.compare(VectorOperators.GT, 0f);
            var c = PiecewiseTable.position(x, positive, positiveScales, negativeScales);
            var shifted = PiecewiseTable.shifted(c);
            var index = PiecewiseTable.index(shifted);
            if (!PiecewiseTable.allWithin(index)) {
                block.vectors[far++] = i;
                continue;
            }
            var d = PiecewiseTable.withinInterval(c, shifted);
            // Horner for the slope and, alongside, for its derivative in d
            var slope = (FloatVector) index.selectFrom(s6, s6b).reinterpretAsFloats();
            var change = slope;
            slope = slope.fma(d, (FloatVector) index.selectFrom(s5, s5b).reinterpretAsFloats());
            change = change.fma(d, slope);
            slope = slope.fma(d, (FloatVector) index.selectFrom(s4, s4b).reinterpretAsFloats());
            change = change.fma(d, slope);
            slope = slope.fma(d, (FloatVector) index.selectFrom(s3, s3b).reinterpretAsFloats());
            change = change.fma(d, slope);
            slope = slope.fma(d, (FloatVector) index.selectFrom(s2, s2b).reinterpretAsFloats());
            change = change.fma(d, slope);
            slope = slope.fma(d, (FloatVector) index.selectFrom(s1, s1b).reinterpretAsFloats());
            change = change.fma(d, slope);
            slope = slope.fma(d, (FloatVector) index.selectFrom(s0, s0b).reinterpretAsFloats());
            var g = FloatVector.fromArray(SPECIES, block.dy, dyAt + i);
            var dx = g.mul(slope);
            dx.intoArray(block.out, outAt + i);
            var gxSlope = dx.mul(x);
            var notPositive = positive.not();
            byTanhSide = byTanhSide.add(gxSlope, positive);
            bySineSide = bySineSide.add(gxSlope, notPositive);
            byChange = byChange.add(g.mul(change), notPositive);
        }
        // d/dd of (a·w/b)·cos(w·x), x = (c − offset)/negativeScale, is −(a·w²/b)·sin(w·x)/negativeScale
        var bySin = byChange.mul(-negativeScale * b / (a * w * w));
        bySineSide.mul(1f / w).intoArray(block.partialSums, 0);
        byTanhSide.mul(1f / a).add(bySin.mul(1f / b)).intoArray(block.partialSums, LANES);
        bySin.mul(-a / (b * b)).intoArray(block.partialSums, 2 * LANES);
        block.addPartialSums();
        return far;
    }
}
