package dev.activa.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.activation.Activation;
import dev.activa.backend.Backend;
import dev.activa.backend.Conv2dSpec;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The fast FP32 (and FP16-storage) kernels against the FP64 reference kernels on the same inputs. */
class FastKernelParityTest {
    private final Backend cpu = new CpuBackend();
    private final SplittableRandom rng = new SplittableRandom(3);

    private double[] random(int n, double scale) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (rng.nextDouble() * 2 - 1) * scale;
        return v;
    }

    private Tensor[] pair(int... shape) {
        return pair(0, shape);
    }

    /** The same values in FP64 and, rounded, in FP32: uniform in [offset − 1, offset + 1]. */
    private Tensor[] pair(double offset, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        double[] v = random(n, 1);
        for (int i = 0; i < n; i++) v[i] += offset;
        return new Tensor[] {cpu.fromDoubles(v, DType.F64, shape), cpu.fromDoubles(v, DType.F32, shape)};
    }

    static void close(Tensor exact, Tensor fast, double tolerance, String what) {
        double[] e = exact.toDoubles(), f = fast.toDoubles();
        assertEquals(e.length, f.length, what);
        double scale = 0;
        for (double v : e) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < e.length; i++)
            assertTrue(Math.abs(e[i] - f[i]) <= tolerance * Math.max(1, scale),
                    what + " element " + i + ": " + e[i] + " vs " + f[i]);
    }

    @ParameterizedTest(name = "gemm {0}x{1}x{2} tA={3} tB={4}")
    @CsvSource({"1,1,1,false,false", "7,33,5,false,false", "6,32,192,false,false", "13,70,200,true,false",
                "65,17,390,false,true", "128,10,512,false,true", "31,47,13,true,true", "200,300,40,false,false",
                // past one block in every dimension (MC = 288 rows, NC = 64 vectors of columns, KC = 192 deep)
                "301,2100,200,false,false", "290,1030,400,true,true", "7,2050,30,false,true", "600,20,50,true,false"})
    void gemm(int m, int n, int k, boolean ta, boolean tb) {
        Tensor[] a = pair(ta ? new int[] {k, m} : new int[] {m, k});
        Tensor[] b = pair(tb ? new int[] {n, k} : new int[] {k, n});
        close(cpu.matmul(a[0], b[0], ta, tb), cpu.matmul(a[1], b[1], ta, tb), 1e-5 * Math.sqrt(k), "gemm");
    }

    @ParameterizedTest(name = "conv n={0} c={1} hw={2} k={3} r={4} s/p={5}/{6}")
    @CsvSource({"2,3,8,4,3,1,1", "3,16,9,20,3,2,1", "2,8,7,5,1,1,0", "2,8,8,16,1,2,0", "1,3,12,6,7,2,3", "5,4,5,3,3,1,0",
                // stride 1 with padding other than "same", 5×5, stride 3, rows past two GEMM blocks,
                // output rows wider than a packed panel
                "2,4,6,3,3,1,2", "3,6,11,10,5,1,2", "2,3,9,4,3,3,1", "4,40,12,70,3,1,1", "2,3,40,8,3,1,1",
                // the direct stride-1 kernel (rows ≥ 1.5 vectors wide): few channels, channel counts
                // off its register blocks, batch 1, no padding, padding past "same", 5×5, 1×1, rows
                // of more than one block, and many channels
                "2,16,28,16,3,1,1", "1,5,27,13,3,1,0", "3,2,26,3,3,1,2", "2,6,30,9,5,1,2", "1,3,50,7,1,1,0",
                "2,40,28,10,3,1,1",
                // its weight gradient with dY's rows widened to whole vectors (rows of 64; rows of 48
                // at 5×5, padding 2), and over images in several chunks
                "3,8,64,8,3,1,1", "2,6,48,9,5,1,2",
                // … and flattened where both layouts compute as many lanes (rows of 30 padded to 32),
                // or where rows of one or two vectors would compute up to 1/8 fewer (rows of 32 at 16
                // lanes, 16 at 8)
                "2,5,30,7,3,1,1", "2,4,32,6,3,1,1", "2,6,16,5,3,1,1",
                // … and on narrow rows with 32 channels, flattened (14×14, 16×16 at 16 lanes)
                "2,32,14,9,3,1,1", "2,32,16,6,3,1,1",
                // narrow rows (7/16 of the lanes) with at most 64 channels: direct forward and input
                // gradient, GEMM weight gradient; past 64 channels on either side, all GEMM
                "2,12,14,20,3,1,1", "3,64,16,9,3,1,1", "2,70,14,8,3,1,1", "2,8,15,65,3,1,1",
                // the direct kernel over flattened planes (several rows per block): 7×7 and 9×9 with
                // blocks across row and image ends, no padding, 5×5, 128 channels; past 128, and
                // rows of 4 (too few lanes used), the GEMM
                "2,24,7,20,3,1,1", "3,10,9,6,3,1,1", "2,5,8,7,3,1,0", "2,6,12,10,5,1,2", "2,128,8,12,3,1,1",
                "2,130,7,8,3,1,1", "2,16,4,24,3,1,1",
                // 1×1 without padding as per-image GEMMs: odd sizes, stride 3, stride 1 (narrow rows),
                // channels off the GEMM's panels, batch 1 (the im2col path), a deep weight gradient
                "3,5,9,7,1,2,0", "4,8,7,12,1,3,0", "2,6,10,9,1,1,0", "1,8,8,16,1,2,0", "5,70,6,40,1,2,0",
                "3,33,31,20,1,2,0",
                // stride 2 compacted by vector permutes (rows of 32 and 64), its transposed packing
                // by gathers over whole panels of channels and a ragged last panel
                "2,6,32,10,1,2,0", "3,40,32,8,1,2,0",
                // strided packing (gathers) over rows of whole vectors of output positions and with a
                // ragged end, odd and even sizes, 1×1 and 3×3, stride 4
                "2,4,35,6,1,2,0", "2,5,64,3,1,2,0", "2,3,34,5,3,2,1", "2,4,33,6,3,2,1", "2,3,64,4,3,2,1",
                "2,3,19,4,3,4,1",
                // Winograd F(2×2, 3×3) (3×3, stride 1, padding 1, rows of at least half a vector of
                // tiles, 64 channels or more at 16 lanes, 16 at 8, as many images as threads): odd
                // sizes, channels off its register blocks. At 8 lanes it also takes the cases above
                // with 3×3, padding 1, 16 channels or more on the side it reads and rows of 7 or
                // more, in place of the kernel their comments name; those kernels' 8-lane paths keep
                // the cases with fewer channels, and their 16-lane paths all of them.
                "8,65,15,66,3,1,1", "8,70,17,64,3,1,1"})
    void conv(int n, int c, int hw, int k, int r, int stride, int pad) {
        var spec = new Conv2dSpec(stride, pad);
        Tensor[] x = pair(n, c, hw, hw), w = pair(k, c, r, r);
        Tensor y64 = cpu.conv2d(x[0], w[0], spec), y32 = cpu.conv2d(x[1], w[1], spec);
        close(y64, y32, 1e-5, "conv forward");
        Tensor[] dy = pair(y64.shape());
        close(cpu.conv2dBackwardInput(dy[0], w[0], x[0].shape(), spec),
                cpu.conv2dBackwardInput(dy[1], w[1], x[1].shape(), spec), 1e-5, "conv backward input");
        close(cpu.conv2dBackwardWeight(dy[0], x[0], w[0].shape(), spec),
                cpu.conv2dBackwardWeight(dy[1], x[1], w[1].shape(), spec), 1e-5, "conv backward weight");
    }

    /**
     * The direct kernel pads and convolves one image per task where a batch has an image per
     * thread, and shares out the blocks of a batch padded first where it has fewer: each output is
     * computed in one piece either way, so the two cuts give the same bits (forward and input
     * gradient), and both match FP64. Fewer than 16 channels, so that Winograd, which takes 16 and
     * more at 8 lanes given an image per thread, stays out.
     */
    @ParameterizedTest(name = "direct conv n={0} c={1} hw={2} k={3}")
    @CsvSource({"3,6,30,9", "3,12,14,10", "4,10,7,12", "3,5,27,13"})
    void theDirectKernelCutPerImageOrAcrossBlocksGivesTheSameBits(int n, int c, int hw, int k) {
        var spec = new Conv2dSpec(1, 1);
        Tensor[] x = pair(n, c, hw, hw), w = pair(k, c, 3, 3), dy = pair(n, k, hw, hw);
        try (var perImage = new CpuBackend(n); var acrossBlocks = new CpuBackend(n + 1)) {
            Tensor y = perImage.conv2d(x[1], w[1], spec), dx = perImage.conv2dBackwardInput(dy[1], w[1], x[1].shape(), spec);
            assertArrayEquals(y.toFloats(), acrossBlocks.conv2d(x[1], w[1], spec).toFloats(), "forward");
            assertArrayEquals(dx.toFloats(), acrossBlocks.conv2dBackwardInput(dy[1], w[1], x[1].shape(), spec).toFloats(),
                    "input gradient");
            close(cpu.conv2d(x[0], w[0], spec), y, 1e-5, "conv forward");
            close(cpu.conv2dBackwardInput(dy[0], w[0], x[0].shape(), spec), dx, 1e-5, "conv backward input");
        }
    }

    /**
     * The direct kernel's per-thread buffers outlive a call. After convolutions of NaN and ∞ have
     * filled them, the next convolutions, smaller and larger, must read only what they wrote: their
     * lanes past the outputs multiply zeros, and a NaN left there would spread into the results.
     */
    @Test
    void aConvolutionAfterOnesOfNaNReadsNothingTheyLeft() {
        var spec = new Conv2dSpec(1, 1);
        try (var one = new CpuBackend(1)) {
            for (int[] dirty : new int[][] {{2, 32, 30, 32}, {2, 8, 64, 8}}) {
                int n = dirty[0], c = dirty[1], hw = dirty[2], k = dirty[3];
                double[] poison = new double[n * Math.max(c, k) * hw * hw];
                for (int i = 0; i < poison.length; i++) poison[i] = i % 3 == 0 ? Double.NaN : Double.POSITIVE_INFINITY;
                Tensor x = one.fromDoubles(java.util.Arrays.copyOf(poison, n * c * hw * hw), DType.F32, n, c, hw, hw);
                Tensor dy = one.fromDoubles(java.util.Arrays.copyOf(poison, n * k * hw * hw), DType.F32, n, k, hw, hw);
                Tensor w = one.fromDoubles(random(k * c * 9, 1), DType.F32, k, c, 3, 3);
                one.conv2d(x, w, spec);
                one.conv2dBackwardInput(dy, w, x.shape(), spec);
                one.conv2dBackwardWeight(dy, x, w.shape(), spec);
                // flattened 14 × 14 and 16 × 16, widened rows of 64, a row of 27 without padding
                for (int[] clean : new int[][] {{2, 32, 14, 9}, {2, 6, 16, 5}, {3, 8, 64, 8}, {1, 5, 27, 13}}) {
                    int cn = clean[0], cc = clean[1], chw = clean[2], ck = clean[3];
                    Tensor[] cx = pair(cn, cc, chw, chw), cw = pair(ck, cc, 3, 3), cdy = pair(cn, ck, chw, chw);
                    String what = "after " + java.util.Arrays.toString(dirty) + ", " + java.util.Arrays.toString(clean);
                    close(cpu.conv2d(cx[0], cw[0], spec), one.conv2d(cx[1], cw[1], spec), 1e-5, what + " forward");
                    close(cpu.conv2dBackwardInput(cdy[0], cw[0], cx[0].shape(), spec),
                            one.conv2dBackwardInput(cdy[1], cw[1], cx[1].shape(), spec), 1e-5, what + " input gradient");
                    close(cpu.conv2dBackwardWeight(cdy[0], cx[0], cw[0].shape(), spec),
                            one.conv2dBackwardWeight(cdy[1], cx[1], cw[1].shape(), spec), 1e-5, what + " weight gradient");
                }
            }
        }
    }

    /** Which layout and kernel the weight gradient takes, at this CPU's width (the cases above run them). */
    @Test
    void theWeightGradientsLayoutAndKernelFollowTheMeasuredRules() {
        int lanes = dev.activa.activation.FloatBlock.LANES;
        // rows of two vectors: flattened for 1/L more lanes (within 1/8 from 8 lanes up); rows of four: widened
        assertEquals(lanes >= 8, DirectConv.WeightLayout.of(2 * lanes, 2 * lanes, 3, 3, 1).flat());
        assertFalse(DirectConv.WeightLayout.of(4 * lanes, 4 * lanes, 3, 3, 1).flat());
        // rows of 30 at 16 lanes or 8: as many lanes either way, flattened
        assertTrue(DirectConv.WeightLayout.of(30, 30, 3, 3, 1).flat());
        // rows wider than 1.5 vectors take the direct kernel up to 288 rows (14×14 from 8 lanes down)
        java.util.function.IntPredicate wide = w -> w > lanes + lanes / 2;
        assertTrue(Im2colConv.directWeightFits(new Im2colConv.Geometry(32, 14, 14, 3, 3, 1, 1)),
                "32 channels at 14×14 (16 lanes: flattened, 7/8 of the lanes outputs; fewer lanes: wide rows)");
        assertEquals(wide.test(12), Im2colConv.directWeightFits(new Im2colConv.Geometry(32, 12, 12, 3, 3, 1, 1)),
                "32 channels at 12×12 (16 lanes: 9/11 of the lanes outputs): direct only where its rows are wide");
        assertEquals(wide.test(14), Im2colConv.directWeightFits(new Im2colConv.Geometry(16, 14, 14, 3, 3, 1, 1)),
                "16 channels at 14×14: direct only where its rows are wide");
        assertEquals(wide.test(7), Im2colConv.directWeightFits(new Im2colConv.Geometry(32, 7, 7, 3, 3, 1, 1)),
                "rows of 7: direct only where they are wide");
        assertFalse(Im2colConv.directWeightFits(new Im2colConv.Geometry(64, 14, 14, 3, 3, 1, 1)), "576 rows");
        assertEquals(wide.test(14), Im2colConv.directWeightFits(new Im2colConv.Geometry(32, 14, 14, 1, 1, 1, 0)),
                "1×1 at 14×14: direct only where its rows are wide");
    }

    /*
     * Plane sizes around the vector length (a tail alone, one or two vectors, a tail after full
     * vectors), and batches long enough for batch norm's sums to span several groups of planes;
     * the mean 10 away from 0 in one case; 7 × 3 planes of 56 × 56, which the affine pass splits
     * into chunks at plane 10, inside an image (its channel counter then starts at 10 mod 3).
     */
    @ParameterizedTest(name = "batch norm {0}x{1}x{2}x{3}, mean {4}")
    @CsvSource({"6, 5, 7, 3, 0", "70, 3, 4, 4, 0", "1100, 2, 1, 1, 0", "9, 4, 7, 7, 10", "3, 2, 28, 28, 0",
                "130, 3, 5, 5, 0", "7, 3, 56, 56, 0"})
    void batchNorm(int n, int c, int h, int w, double offset) {
        Tensor[] x = pair(offset, n, c, h, w), g = pair(c), b = pair(c), dy = pair(n, c, h, w);
        Tensor rm64 = cpu.zeros(DType.F64, c), rv64 = cpu.full(DType.F64, 1, c);
        Tensor rm32 = cpu.zeros(DType.F32, c), rv32 = cpu.full(DType.F32, 1, c);
        var f64 = cpu.batchNormTrain(x[0], g[0], b[0], rm64, rv64, 0.1, 1e-5);
        var f32 = cpu.batchNormTrain(x[1], g[1], b[1], rm32, rv32, 0.1, 1e-5);
        close(f64.y(), f32.y(), 1e-5, "bn forward");
        close(rm64, rm32, 1e-6, "running mean");
        close(rv64, rv32, 1e-6, "running var");
        var g64 = cpu.batchNormBackward(x[0], dy[0], g[0], f64.savedMean(), f64.savedInvStd());
        var g32 = cpu.batchNormBackward(x[1], dy[1], g[1], f32.savedMean(), f32.savedInvStd());
        close(g64.dx(), g32.dx(), 1e-5, "bn dx");
        close(g64.dgamma(), g32.dgamma(), 1e-5, "bn dgamma");
        close(g64.dbeta(), g32.dbeta(), 1e-5, "bn dbeta");
        close(cpu.batchNormEval(x[0], g[0], b[0], rm64, rv64, 1e-5), cpu.batchNormEval(x[1], g[1], b[1], rm32, rv32, 1e-5),
                1e-5, "bn eval");
    }

    /**
     * Batch statistics of values far from zero beside their spread (mean 1000, standard deviation
     * 1), on small planes whose sums put many values in a float lane: the FP32 mean within 1e-4
     * standard deviations of the FP64 mean of the same float values, and y within 2e-4. Without
     * the pivot (up to 64 values near 1000 added in a float lane) a review measured the mean 3.3e-4
     * standard deviations off on planes of one element, and the first case here fails.
     */
    @ParameterizedTest(name = "batch norm statistics {0}x{1}x{2}x{3}, mean 1000")
    @CsvSource({"64, 4, 1, 1", "64, 3, 1, 2", "64, 3, 4, 4", "16, 3, 4, 4", "9, 2, 7, 7"})
    void batchNormFarFromZero(int n, int c, int h, int w) {
        double[] v = random(n * c * h * w, Math.sqrt(3));
        for (int i = 0; i < v.length; i++) v[i] = (float) (1000 + v[i]);
        Tensor x64 = cpu.fromDoubles(v, DType.F64, n, c, h, w), x32 = cpu.fromDoubles(v, DType.F32, n, c, h, w);
        Tensor g64 = cpu.full(DType.F64, 1, c), b64 = cpu.zeros(DType.F64, c);
        Tensor g32 = cpu.full(DType.F32, 1, c), b32 = cpu.zeros(DType.F32, c);
        var f64 = cpu.batchNormTrain(x64, g64, b64, cpu.zeros(DType.F64, c), cpu.full(DType.F64, 1, c), 0.1, 1e-5);
        var f32 = cpu.batchNormTrain(x32, g32, b32, cpu.zeros(DType.F32, c), cpu.full(DType.F32, 1, c), 0.1, 1e-5);
        double[] mean64 = f64.savedMean().toDoubles(), mean32 = f32.savedMean().toDoubles();
        double[] invStd64 = f64.savedInvStd().toDoubles();
        for (int ch = 0; ch < c; ch++)
            assertEquals(mean64[ch], mean32[ch], 1e-4 / invStd64[ch], "mean of channel " + ch);
        double[] y64 = f64.y().toDoubles(), y32 = f32.y().toDoubles();
        for (int i = 0; i < y64.length; i++) assertEquals(y64[i], y32[i], 2e-4, "y element " + i);
    }

    @ParameterizedTest
    @ValueSource(strings = {"relu", "elu", "swish", "mish", "tanhrelu", "nami"})
    void activations(String name) {
        Activation act = Activation.of(name);
        double[] p = act.initialParameters();
        int n = 10_007; // not a multiple of any vector length: exercises the masked tail
        double[] v = random(n, 8);
        v[0] = 100;
        v[1] = -100;
        v[2] = 0;
        Tensor x64 = cpu.fromDoubles(v, DType.F64, n), x32 = cpu.fromDoubles(v, DType.F32, n);
        Tensor r64 = cpu.fromDoubles(random(n, 1), DType.F64, n), r32 = cpu.cast(r64, DType.F32);
        Tensor dy64 = cpu.fromDoubles(random(n, 1), DType.F64, n), dy32 = cpu.cast(dy64, DType.F32);
        close(cpu.activationForward(act, p, x64, null), cpu.activationForward(act, p, x32, null), 1e-6, name);
        close(cpu.activationForward(act, p, x64, r64), cpu.activationForward(act, p, x32, r32), 1e-6, name + " fused add");
        var b64 = cpu.activationBackward(act, p, x64, null, dy64);
        var b32 = cpu.activationBackward(act, p, x32, null, dy32);
        close(b64.dx(), b32.dx(), 1e-6, name + " backward");
        for (int k = 0; k < p.length; k++)
            assertEquals(b64.paramGrads()[k], b32.paramGrads()[k], 1e-5 * Math.max(1, Math.abs(b64.paramGrads()[k])),
                    name + " parameter gradient " + k);
        var r64b = cpu.activationBackward(act, p, x64, r64, dy64);
        var r32b = cpu.activationBackward(act, p, x32, r32, dy32);
        close(r64b.dx(), r32b.dx(), 1e-6, name + " fused add backward");
        for (int k = 0; k < p.length; k++)
            assertEquals(r64b.paramGrads()[k], r32b.paramGrads()[k], 1e-5 * Math.max(1, Math.abs(r64b.paramGrads()[k])),
                    name + " fused add parameter gradient " + k);
        // FP16 storage: computed in float, rounded once on store, so within half an FP16 ulp of FP32's result.
        Tensor x16 = cpu.cast(x32, DType.F16);
        double[] y16 = cpu.activationForward(act, p, x16, null).toDoubles();
        double[] y32 = cpu.activationForward(act, p, cpu.cast(x16, DType.F32), null).toDoubles();
        for (int i = 0; i < n; i++)
            assertEquals(y32[i], y16[i], Math.abs(y32[i]) * 0x1p-11 + 0x1p-24, name + " fp16 element " + i);
    }

    /**
     * Kernels that leave one branch's lanes unclamped and blend them away (ELU, TanhReLU, Nami's
     * forward: their exp overflows there) still give the reference's result at infinities, NaN and
     * huge magnitudes, on every lane of a vector and in both directions.
     */
    @ParameterizedTest
    @ValueSource(strings = {"elu", "tanhrelu", "nami"})
    void branchesBlendedAwayAtExtremes(String name) {
        Activation act = Activation.of(name);
        double[] p = act.initialParameters();
        // Nami's sine of a huge argument says nothing (w rounded to float moves it by whole periods),
        // so its largest negative input is −1e4, where its tanh branch already overflows.
        double big = name.equals("nami") ? 1e4 : 1e30;
        double[] v = sameAsDoubleAt(act, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, 1e30, -big,
                3e38, -big * 3, 100, -100, 0, -0.0, 1e-30, -1e-30, 88.5, -88.5, 44);
        // The parameter sums see every lane: over the finite inputs they must stay finite and agree.
        double[] finite = java.util.Arrays.stream(v).filter(Double::isFinite).toArray();
        int m = finite.length;
        Tensor dyFinite = cpu.fromDoubles(random(m, 1), DType.F64, m);
        double[] g64 = cpu.activationBackward(act, p, cpu.fromDoubles(finite, DType.F64, m), null, dyFinite).paramGrads();
        double[] g32 = cpu.activationBackward(act, p, cpu.fromDoubles(finite, DType.F32, m), null,
                cpu.cast(dyFinite, DType.F32)).paramGrads();
        for (int k = 0; k < p.length; k++)
            assertEquals(g64[k], g32[k], 1e-5 * Math.max(1, Math.abs(g64[k])), name + " parameter gradient " + k);
    }

    /**
     * Swish and Mish at huge finite inputs, both signs: x and slope 1 above, 0 below, as in double.
     * (Their double reference is NaN at the infinities themselves, ∞·0, which the FP32 kernels
     * need not copy.)
     */
    @ParameterizedTest
    @ValueSource(strings = {"swish", "mish"})
    void hugeFiniteInputs(String name) {
        sameAsDoubleAt(Activation.of(name), 1e22, 1e30, 3e38, -1e22, -1e30, -3e38, 100, -100, 30, -30);
    }

    /**
     * The FP32 kernels' values and dx against FP64's at the given points, each in several lanes of
     * a vector (at its initial parameters); returns the points as placed, rounded to float.
     */
    private double[] sameAsDoubleAt(Activation act, double... points) {
        double[] p = act.initialParameters();
        int n = 4 * points.length, step = 5; // a step prime to the count puts each point in several lanes
        while (java.math.BigInteger.valueOf(step).gcd(java.math.BigInteger.valueOf(points.length)).intValue() != 1) step++;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (float) points[(i * step) % points.length];
        Tensor x64 = cpu.fromDoubles(v, DType.F64, n), x32 = cpu.fromDoubles(v, DType.F32, n);
        Tensor dy64 = cpu.fromDoubles(random(n, 1), DType.F64, n), dy32 = cpu.fromDoubles(dy64.toDoubles(), DType.F32, n);
        double[] y64 = cpu.activationForward(act, p, x64, null).toDoubles();
        double[] y32 = cpu.activationForward(act, p, x32, null).toDoubles();
        double[] dx64 = cpu.activationBackward(act, p, x64, null, dy64).dx().toDoubles();
        double[] dx32 = cpu.activationBackward(act, p, x32, null, dy32).dx().toDoubles();
        for (int i = 0; i < n; i++) {
            String at = act.name() + "(" + (float) v[i] + ")";
            assertSameValue(y64[i], y32[i], at);
            assertSameValue(dx64[i], dx32[i], at + " backward");
        }
        return v;
    }

    /** NaN for NaN, the same infinity for an infinity, else within 1e-6 relative or absolute. */
    private static void assertSameValue(double want, double got, String what) {
        if (Double.isNaN(want) || Double.isInfinite(want)) assertEquals(want, got, what);
        else assertEquals(want, got, 1e-6 * Math.max(1, Math.abs(want)), what);
    }

    @Test
    void poolingLossAndOptimiser() {
        Tensor[] x = pair(3, 4, 5, 5);
        close(cpu.globalAvgPool(x[0]), cpu.globalAvgPool(x[1]), 1e-6, "avg pool");
        Tensor[] dy = pair(3, 4);
        close(cpu.globalAvgPoolBackward(dy[0], x[0].shape()), cpu.globalAvgPoolBackward(dy[1], x[1].shape()), 1e-6,
                "avg pool backward");
        Tensor[] logits = pair(4, 10);
        int[] labels = {1, 9, 0, 3};
        var l64 = cpu.softmaxCrossEntropy(logits[0], labels, 0.1);
        var l32 = cpu.softmaxCrossEntropy(logits[1], labels, 0.1);
        assertEquals(l64.loss().item(), l32.loss().item(), 1e-6);

        Tensor[] w = pair(1000), g = pair(1000);
        Tensor m64 = cpu.zeros(DType.F64, 1000), m32 = cpu.zeros(DType.F32, 1000);
        for (int step = 0; step < 3; step++) {
            cpu.sgdStep(w[0], g[0], m64, 0.1, 0.9, 5e-4, step == 2, 0.5);
            cpu.sgdStep(w[1], g[1], m32, 0.1, 0.9, 5e-4, step == 2, 0.5);
        }
        close(w[0], w[1], 1e-6, "sgd");
    }

    @Test
    void unscalingChecksForInfAndNanBeforeAndAfter() {
        for (DType dt : new DType[] {DType.F64, DType.F32, DType.F16}) {
            float[] v = new float[1001]; // a tail beyond the last whole vector
            for (int i = 0; i < v.length; i++) v[i] = i - 500;
            Tensor a = cpu.fromFloats(v, dt, v.length), b = cpu.fromFloats(new float[] {3, -5}, dt, 2);
            assertFalse(cpu.unscaleAndCheck(List.of(a, b), 0.25), dt + ": all finite");
            for (int i = 0; i < v.length; i++) assertEquals(v[i] * 0.25f, a.toFloats()[i], dt + " element " + i);
            assertArrayEquals(new float[] {0.75f, -1.25f}, b.toFloats(), dt.toString());
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                v[1000] = bad;
                assertTrue(cpu.unscaleAndCheck(List.of(b, cpu.fromFloats(v, dt, v.length)), 0.25), dt + " finds " + bad);
            }
            v[1000] = 0;
            // Finite before, Inf after: 3e38·2 in FP32 and FP64's float range; 40000·2 beyond FP16's 65504.
            float big = dt == DType.F16 ? 40000f : 3e38f;
            v[3] = big;
            boolean overflows = dt != DType.F64;
            assertEquals(overflows, cpu.unscaleAndCheck(List.of(cpu.fromFloats(v, dt, v.length)), 2), dt + ": " + big + "·2");
        }
        assertFalse(cpu.unscaleAndCheck(List.of(), 0.5), "no tensors");
    }

    @Test
    void sumsAndCasts() {
        float[] ones = new float[1001];
        java.util.Arrays.fill(ones, 1f);
        assertEquals(1001, cpu.sum(cpu.fromFloats(ones, DType.F32, 1001)).item());
        assertArrayEquals(new float[] {1, 2}, cpu.cast(cpu.fromFloats(new float[] {1, 2}, DType.F16, 2), DType.F32).toFloats());
    }
}
