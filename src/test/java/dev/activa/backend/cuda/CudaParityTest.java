package dev.activa.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.activa.activation.Activation;
import dev.activa.autograd.Ops;
import dev.activa.backend.Backend;
import dev.activa.backend.Conv2dSpec;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.cli.ActivationsCommand;
import dev.activa.nn.ResNet;
import dev.activa.optim.LossScaler;
import dev.activa.optim.Sgd;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every Backend op on the GPU against the CPU backend, a ResNet-18 training step in FP32 and a
 * mixed-precision run. Skips (with the reason printed) where the CUDA stack is incomplete.
 * Run: {@code mvn -Dtest=CudaParityTest test} on a machine with an NVIDIA GPU, cuDNN 9 and cuBLAS.
 */
@Tag("gpu")
class CudaParityTest {
    private static final CpuBackend cpu = new CpuBackend();
    private static CudaBackend gpu;

    private static CudaUnavailableException missing;

    @BeforeAll
    static void openGpu() {
        missing = CudaStack.missing();
        if (missing != null) {
            System.out.println("CudaParityTest skipped: " + missing.missing());
            return;
        }
        gpu = CudaBackend.open();
        System.out.println("CudaParityTest on " + gpu.device().name() + " (sm_" + gpu.device().major() + gpu.device().minor()
                + "), 4-D tensors in " + gpu.layout() + " (choose with -D" + ImageLayout.PROPERTY + " or " + ImageLayout.VARIABLE + ")");
    }

    /** Each test reports itself skipped, with the reason, where the stack is incomplete. */
    @BeforeEach
    void requireGpu() {
        assumeTrue(missing == null, () -> "no usable CUDA stack: " + missing.getMessage());
    }

    @AfterAll
    static void closeGpu() {
        if (gpu != null) gpu.close();
    }

    // ---------------------------------------------------------------- helpers

    /** The same values on both backends. */
    private record Pair(Tensor cpu, Tensor gpu) {}

    private static float[] random(long seed, int n, double scale) {
        var rng = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
        return v;
    }

    private static Pair pair(long seed, DType dtype, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] v = random(seed, n, 2);
        return new Pair(cpu.fromFloats(v, dtype, shape), gpu.fromFloats(v, dtype, shape));
    }

    /** FP32 results agree to ~1e-4, FP16 ones (two roundings to 11 bits apart) to ~1e-2. */
    private static double tolerance(DType dtype) {
        return dtype == DType.F16 ? 1e-2 : 1e-4;
    }

    /**
     * |gpu − cpu| ≤ tol·(|cpu| + rms(cpu)) elementwise: relative where values are large, scaled by
     * the tensor's own size where they cancel to near zero.
     */
    private static void assertClose(String what, float[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length, what + ": length");
        double sq = 0;
        for (float e : expected) sq += (double) e * e;
        double rms = Math.sqrt(sq / Math.max(1, expected.length)) + 1e-12;
        int worst = -1;
        double worstRatio = 0;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs((double) actual[i] - expected[i]);
            double ratio = diff == 0 ? 0 : diff / (tol * (Math.abs(expected[i]) + rms));
            if (Double.isNaN(ratio)) ratio = Double.POSITIVE_INFINITY; // a NaN on one side only
            if (ratio > worstRatio) {
                worstRatio = ratio;
                worst = i;
            }
        }
        if (worstRatio > 1)
            throw new AssertionError(what + ": element " + worst + " is " + actual[worst] + " on the GPU, " + expected[worst]
                    + " on the CPU (" + String.format("%.2f", worstRatio) + "× the tolerance " + tol + ", rms " + rms + ")");
    }

    private static void assertClose(String what, Tensor expected, Tensor actual, double tol) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        assertEquals(expected.dtype(), actual.dtype(), what + ": dtype");
        assertClose(what, expected.toFloats(), actual.toFloats(), tol);
    }

    private static void assertClose(String what, double[] expected, double[] actual, double tol) {
        float[] e = new float[expected.length], a = new float[actual.length];
        for (int i = 0; i < e.length; i++) e[i] = (float) expected[i];
        for (int i = 0; i < a.length; i++) a[i] = (float) actual[i];
        assertClose(what, e, a, tol);
    }

    // ---------------------------------------------------------------- memory

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void memoryOpsRoundTrip(DType dt) {
        float[] v = random(1, 1003, 3);
        Tensor t = gpu.fromFloats(v, dt, 17, 59);
        assertClose("fromFloats/toFloats", cpu.fromFloats(v, dt, 17, 59).toFloats(), t.toFloats(), 0);
        assertClose("fromDoubles", cpu.fromDoubles(new double[] {1.5, -2.25, 1e-3}, dt, 3).toFloats(),
                gpu.fromDoubles(new double[] {1.5, -2.25, 1e-3}, dt, 3).toFloats(), 0);
        assertClose("zeros", new float[5], gpu.zeros(dt, 5).toFloats(), 0);
        assertClose("full", cpu.full(dt, 0.1, 7).toFloats(), gpu.full(dt, 0.1, 7).toFloats(), 0);
        DType other = dt == DType.F32 ? DType.F16 : DType.F32;
        assertClose("cast", cpu.cast(cpu.fromFloats(v, dt, 1003), other), gpu.cast(gpu.fromFloats(v, dt, 1003), other), 0);
        Tensor dst = gpu.zeros(other, 1003);
        gpu.copy(dst, t);
        assertClose("copy with conversion", cpu.cast(cpu.fromFloats(v, dt, 1003), other).toFloats(), dst.toFloats(), 0);
        assertClose("view shares storage", t.toFloats(), gpu.view(t, 1003).toFloats(), 0);
        assertEquals(0, gpu.zeros(dt, 0, 4).toFloats().length);
    }

    /** 4-D tensors may lie channels-last on the GPU: host copies, views and copies across shapes still see NCHW. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void imagesKeepTheirElementOrderAcrossShapes(DType dt) {
        float[] v = random(2, 2 * 3 * 4 * 5, 3);
        float[] expected = cpu.fromFloats(v, dt, 2, 3, 4, 5).toFloats();
        Tensor image = gpu.fromFloats(v, dt, 2, 3, 4, 5);
        assertClose("4-D fromFloats/toFloats", expected, image.toFloats(), 0);
        Tensor flat = gpu.view(image, 2, 60);
        assertClose("4-D viewed as 2-D", expected, flat.toFloats(), 0);
        assertClose("2-D viewed as 4-D", expected, gpu.view(flat, 2, 3, 4, 5).toFloats(), 0);
        assertClose("4-D viewed as another 4-D", expected, gpu.view(image, 2, 5, 3, 4).toFloats(), 0);
        assertClose("4-D viewed with the same channels", expected, gpu.view(image, 2, 3, 5, 4).toFloats(), 0);
        Tensor other = gpu.zeros(dt, 6, 20);
        gpu.copy(other, image);
        assertClose("copy from 4-D into 2-D", expected, other.toFloats(), 0);
        Tensor back = gpu.zeros(dt == DType.F32 ? DType.F16 : DType.F32, 2, 3, 4, 5);
        gpu.copy(back, other);
        assertClose("copy from 2-D into 4-D, converting", cpu.cast(cpu.fromFloats(v, dt, 120), back.dtype()).toFloats(),
                back.toFloats(), 0);
        assertClose("an elementwise op on a channels-last tensor", cpu.scale(cpu.fromFloats(v, dt, 2, 3, 4, 5), 2).toFloats(),
                gpu.scale(image, 2).toFloats(), 0);
    }

    @Test
    void fp64IsRefusedNamingTheOpAndTheCpuBackend() {
        var e = assertThrows(UnsupportedOperationException.class, () -> gpu.zeros(DType.F64, 3));
        assertTrue(e.getMessage().contains("--device cpu"), e.getMessage());
        Tensor onCpu = cpu.zeros(DType.F32, 3);
        assertThrows(IllegalArgumentException.class, () -> gpu.add(onCpu, onCpu), "a CPU tensor is not GPU memory");
    }

    /** As on the CPU: a view must hold exactly the elements, and a fused residual must match x in both directions. */
    @Test
    void viewsAndResidualsAreCheckedAsOnTheCpu() {
        Tensor ten = gpu.zeros(DType.F32, 10);
        var view = assertThrows(IllegalArgumentException.class, () -> gpu.view(ten, 20));
        assertTrue(view.getMessage().contains("cannot view [10] (10 elements) as [20]"), view.getMessage());
        Activation relu = Activation.of("relu");
        Tensor small = gpu.zeros(DType.F32, 5), half = gpu.zeros(DType.F16, 10);
        for (Tensor bad : new Tensor[] {small, half}) {
            assertThrows(IllegalArgumentException.class, () -> gpu.activationForward(relu, null, ten, bad));
            assertThrows(IllegalArgumentException.class, () -> gpu.activationBackward(relu, null, ten, bad, ten));
            assertThrows(IllegalArgumentException.class,
                    () -> gpu.activationBackwardInto(relu, null, ten, bad, ten, gpu.zeros(DType.F32, 10)));
        }
    }

    // ---------------------------------------------------------------- elementwise

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void elementwiseSumsAndNonFinite(DType dt) {
        Pair a = pair(2, dt, 3, 1001), b = pair(3, dt, 3, 1001);
        double tol = tolerance(dt);
        assertClose("add", cpu.add(a.cpu, b.cpu), gpu.add(a.gpu, b.gpu), tol);
        assertClose("scale", cpu.scale(a.cpu, -0.37), gpu.scale(a.gpu, -0.37), tol);
        // A sum may cancel to near zero: bound its error by the sum of magnitudes, plus FP16's final rounding.
        double magnitudes = 0;
        for (float v : a.cpu.toFloats()) magnitudes += Math.abs(v);
        double expectedSum = cpu.sum(a.cpu).item(), gpuSum = gpu.sum(a.gpu).item();
        assertEquals(dt, gpu.sum(a.gpu).dtype());
        assertEquals(expectedSum, gpuSum, 1e-5 * magnitudes + (dt == DType.F16 ? 1e-3 * Math.abs(expectedSum) : 0), "sum");
        Pair acc = pair(4, DType.F32, 3, 1001);
        cpu.addInPlace(acc.cpu, a.cpu);
        gpu.addInPlace(acc.gpu, a.gpu);
        assertClose("addInPlace into FP32", acc.cpu, acc.gpu, 1e-4);
        // The loss scaler's pass: in place, as on the CPU, and one answer for several tensors.
        Pair c = pair(6, dt, 3, 7);
        assertFalse(cpu.unscaleAndCheck(List.of(a.cpu, c.cpu), 0.25));
        assertFalse(gpu.unscaleAndCheck(List.of(a.gpu, c.gpu), 0.25));
        assertClose("unscaled", a.cpu, a.gpu, tol);
        assertClose("unscaled, second tensor", c.cpu, c.gpu, tol);
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] v = random(5, 100, 1);
            v[57] = bad;
            assertTrue(gpu.unscaleAndCheck(List.of(a.gpu, gpu.fromFloats(v, dt, 100)), 1), "finds " + bad);
        }
        float[] overflow = {40000f}; // finite in both; times 2 beyond FP16's 65504
        assertEquals(dt == DType.F16, gpu.unscaleAndCheck(List.of(gpu.fromFloats(overflow, dt, 1)), 2), "overflow after");
    }

    /** An FP16 activation under an FP32 gradient computes in FP32, as the CPU does: FP32's tolerance, tiny dy kept. */
    @Test
    void anFp32GradientThroughAnFp16ActivationStaysFp32() {
        for (String name : List.of("relu", "nami")) {
            Activation act = Activation.of(name);
            double[] p = act.effective(act.initialParameters());
            Pair x = pair(9, DType.F16, 4099);
            float[] small = random(10, 4099, 1e-6); // below FP16's smallest normal, 6.1e-5
            Tensor dyCpu = cpu.fromFloats(small, DType.F32, 4099), dyGpu = gpu.fromFloats(small, DType.F32, 4099);
            var expected = cpu.activationBackward(act, p, x.cpu, null, dyCpu);
            var actual = gpu.activationBackward(act, p, x.gpu, null, dyGpu);
            assertEquals(DType.F32, actual.dx().dtype(), name);
            assertClose(name + " fp16 x, fp32 dy", expected.dx(), actual.dx(), 1e-4);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void everyActivationForwardAndBackwardFusedOrNot(DType dt) {
        double tol = tolerance(dt);
        for (String name : Activation.NAMES) {
            Activation act = Activation.of(name);
            double[] p = act.effective(act.initialParameters());
            Pair x = pair(6, dt, 4099), r = pair(7, dt, 4099), dy = pair(8, dt, 4099);
            for (boolean fused : new boolean[] {false, true}) {
                String what = (fused ? "add+" : "") + name + " " + dt;
                Tensor rc = fused ? r.cpu : null, rg = fused ? r.gpu : null;
                assertClose(what + " forward", cpu.activationForward(act, p, x.cpu, rc),
                        gpu.activationForward(act, p, x.gpu, rg), tol);
                var expected = cpu.activationBackward(act, p, x.cpu, rc, dy.cpu);
                var actual = gpu.activationBackward(act, p, x.gpu, rg, dy.gpu);
                assertClose(what + " backward", expected.dx(), actual.dx(), tol);
                assertEquals(expected.paramGrads().length, actual.paramGrads().length, what + " parameter count");
                assertClose(what + " parameter gradients", expected.paramGrads(), actual.paramGrads(), 1e-3);
                // autograd writes dx over a gradient no one else reads: the kernel's dx aliases its dy
                Tensor dxOverDy = gpu.zeros(dt, 4099);
                gpu.copy(dxOverDy, dy.gpu);
                double[] sums = gpu.activationBackwardInto(act, p, x.gpu, rg, dxOverDy, dxOverDy);
                assertClose(what + " backward in place", expected.dx(), dxOverDy, tol);
                assertClose(what + " parameter gradients in place", expected.paramGrads(), sums, 1e-3);
            }
        }
    }

    @Test
    void theActivationsVerbComputesOnTheGpu() {
        for (String name : List.of("nami", "mish")) {
            Activation act = Activation.of(name);
            double[] xs = {-2.5, -0.3, 0.4, 3.0};
            var exact = ActivationsCommand.compute(act, act.initialParameters(), xs, cpu, DType.F64);
            var onGpu = ActivationsCommand.compute(act, act.initialParameters(), xs, gpu, DType.F32);
            for (int i = 0; i < xs.length; i++) {
                assertEquals(exact.get(i).y(), onGpu.get(i).y(), 1e-5, name + " y at " + xs[i]);
                assertEquals(exact.get(i).dydx(), onGpu.get(i).dydx(), 1e-5, name + " dy/dx at " + xs[i]);
                assertClose(name + " dy/dp at " + xs[i], exact.get(i).dydp(), onGpu.get(i).dydp(), 1e-4);
            }
        }
    }

    // ---------------------------------------------------------------- convolution, bias, batch norm

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void convolutionsForwardAndBothBackwards(DType dt) {
        double tol = tolerance(dt) * 3; // sums of up to 27·N products
        for (Conv2dSpec spec : List.of(new Conv2dSpec(1, 1), new Conv2dSpec(2, 0), new Conv2dSpec(2, 1))) {
            Pair x = pair(9, dt, 3, 5, 11, 11), w = pair(10, dt, 8, 5, 3, 3);
            Tensor yc = cpu.conv2d(x.cpu, w.cpu, spec), yg = gpu.conv2d(x.gpu, w.gpu, spec);
            assertClose("conv2d " + spec, yc, yg, tol);
            Pair dy = pair(11, dt, yc.shape());
            assertClose("conv2d backward input " + spec, cpu.conv2dBackwardInput(dy.cpu, w.cpu, x.cpu.shape(), spec),
                    gpu.conv2dBackwardInput(dy.gpu, w.gpu, x.gpu.shape(), spec), tol);
            assertClose("conv2d backward weight " + spec, cpu.conv2dBackwardWeight(dy.cpu, x.cpu, w.cpu.shape(), spec),
                    gpu.conv2dBackwardWeight(dy.gpu, x.gpu, w.gpu.shape(), spec), tol);
        }
        Pair x = pair(12, dt, 2, 6, 5, 7), bias = pair(13, dt, 6);
        assertClose("conv bias", cpu.addChannelBias(x.cpu, bias.cpu), gpu.addChannelBias(x.gpu, bias.gpu), tolerance(dt));
        assertClose("conv bias gradient", cpu.channelSum(x.cpu), gpu.channelSum(x.gpu), tolerance(dt));
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void batchNormTrainingEvalAndBackward(DType dt) {
        double tol = tolerance(dt) * 3;
        int c = 6;
        Pair x = pair(14, dt, 4, c, 5, 5), dy = pair(15, dt, 4, c, 5, 5);
        Pair gamma = pair(16, DType.F32, c), beta = pair(17, DType.F32, c);
        Pair mean = pair(18, DType.F32, c);
        Pair var = new Pair(cpu.full(DType.F32, 1.5, c), gpu.full(DType.F32, 1.5, c));
        var fc = cpu.batchNormTrain(x.cpu, gamma.cpu, beta.cpu, mean.cpu, var.cpu, 0.1, 1e-5);
        var fg = gpu.batchNormTrain(x.gpu, gamma.gpu, beta.gpu, mean.gpu, var.gpu, 0.1, 1e-5);
        assertClose("batchnorm y", fc.y(), fg.y(), tol);
        assertClose("batchnorm saved mean", fc.savedMean(), fg.savedMean(), 1e-4);
        assertClose("batchnorm saved 1/std", fc.savedInvStd(), fg.savedInvStd(), 1e-4);
        assertClose("batchnorm running mean", mean.cpu, mean.gpu, 1e-4);
        assertClose("batchnorm running variance (unbiased)", var.cpu, var.gpu, 1e-4);
        assertClose("batchnorm eval", cpu.batchNormEval(x.cpu, gamma.cpu, beta.cpu, mean.cpu, var.cpu, 1e-5),
                gpu.batchNormEval(x.gpu, gamma.gpu, beta.gpu, mean.gpu, var.gpu, 1e-5), tol);
        var gc = cpu.batchNormBackward(x.cpu, dy.cpu, gamma.cpu, fc.savedMean(), fc.savedInvStd());
        var gg = gpu.batchNormBackward(x.gpu, dy.gpu, gamma.gpu, fg.savedMean(), fg.savedInvStd());
        assertClose("batchnorm dx", gc.dx(), gg.dx(), tol);
        assertClose("batchnorm dgamma", gc.dgamma(), gg.dgamma(), tol);
        assertClose("batchnorm dbeta", gc.dbeta(), gg.dbeta(), tol);
        if (dt == DType.F16) { // an FP32 gradient through FP16 activations computes in FP32, as on the CPU
            Pair dy32 = pair(19, DType.F32, 4, c, 5, 5);
            var mc = cpu.batchNormBackward(x.cpu, dy32.cpu, gamma.cpu, fc.savedMean(), fc.savedInvStd());
            var mg = gpu.batchNormBackward(x.gpu, dy32.gpu, gamma.gpu, fg.savedMean(), fg.savedInvStd());
            assertClose("batchnorm dx, fp16 x and fp32 dy", mc.dx(), mg.dx(), tolerance(DType.F32) * 3);
            assertClose("batchnorm dgamma, fp16 x and fp32 dy", mc.dgamma(), mg.dgamma(), tolerance(DType.F32) * 3);
        }
    }

    // ---------------------------------------------------------------- pooling

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void globalAverageAndMaxPooling(DType dt) {
        double tol = tolerance(dt);
        Pair x = pair(19, dt, 3, 4, 9, 9);
        Tensor ac = cpu.globalAvgPool(x.cpu), ag = gpu.globalAvgPool(x.gpu);
        assertClose("global average pool", ac, ag, tol);
        Pair g = pair(20, dt, 3, 4);
        assertClose("global average pool backward", cpu.globalAvgPoolBackward(g.cpu, x.cpu.shape()),
                gpu.globalAvgPoolBackward(g.gpu, x.gpu.shape()), tol);
        for (Conv2dSpec spec : List.of(new Conv2dSpec(2, 1), new Conv2dSpec(1, 0), new Conv2dSpec(3, 1))) {
            var mc = cpu.maxPool(x.cpu, 3, spec);
            var mg = gpu.maxPool(x.gpu, 3, spec);
            assertClose("max pool " + spec, mc.y(), mg.y(), 0);
            assertArrayEquals(mc.argmax(), mg.argmax(), "max pool argmax " + spec);
            Pair dy = pair(21, dt, mc.y().shape());
            assertClose("max pool backward " + spec, cpu.maxPoolBackward(dy.cpu, mc.argmax(), x.cpu.shape()),
                    gpu.maxPoolBackward(dy.gpu, mg.argmax(), x.gpu.shape()), tol);
            assertClose("max pool backward, foreign argmax " + spec, cpu.maxPoolBackward(dy.cpu, mc.argmax(), x.cpu.shape()),
                    gpu.maxPoolBackward(dy.gpu, mc.argmax().clone(), x.gpu.shape()), tol);
        }
    }

    // ---------------------------------------------------------------- linear algebra, loss, optimiser

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void matmulInEveryTransposeAndRowBias(DType dt) {
        double tol = tolerance(dt) * 3;
        for (boolean ta : new boolean[] {false, true})
            for (boolean tb : new boolean[] {false, true}) {
                Pair a = ta ? pair(22, dt, 37, 19) : pair(22, dt, 19, 37);
                Pair b = tb ? pair(23, dt, 23, 37) : pair(23, dt, 37, 23);
                assertClose("matmul " + ta + "," + tb, cpu.matmul(a.cpu, b.cpu, ta, tb), gpu.matmul(a.gpu, b.gpu, ta, tb), tol);
            }
        Pair x = pair(24, dt, 9, 13), bias = pair(25, dt, 13);
        assertClose("row bias", cpu.addRowBias(x.cpu, bias.cpu), gpu.addRowBias(x.gpu, bias.gpu), tolerance(dt));
        assertClose("row sum", cpu.rowSum(x.cpu), gpu.rowSum(x.gpu), tolerance(dt));
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void softmaxCrossEntropyWithSmoothing(DType dt) {
        Pair logits = pair(26, dt, 7, 10);
        int[] labels = {0, 3, 9, 2, 2, 5, 1};
        for (double smoothing : new double[] {0, 0.1}) {
            var fc = cpu.softmaxCrossEntropy(logits.cpu, labels, smoothing);
            var fg = gpu.softmaxCrossEntropy(logits.gpu, labels, smoothing);
            assertClose("loss", fc.loss(), fg.loss(), 1e-4);
            assertClose("probabilities", fc.probabilities(), fg.probabilities(), 1e-4);
            assertClose("dlogits", cpu.softmaxCrossEntropyBackward(fc.probabilities(), labels, smoothing, 2.0, dt),
                    gpu.softmaxCrossEntropyBackward(fg.probabilities(), labels, smoothing, 2.0, dt), tolerance(dt));
        }
        assertThrows(IllegalArgumentException.class, () -> gpu.softmaxCrossEntropy(logits.gpu, new int[] {0, 1, 2, 3, 4, 5, 10}, 0));
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16"})
    void sgdStepsLikeTheCpu(DType gradType) {
        for (boolean nesterov : new boolean[] {false, true}) {
            Pair w = pair(27, DType.F32, 5, 21), g = pair(28, gradType, 5, 21);
            Pair buf = new Pair(cpu.zeros(DType.F32, 5, 21), gpu.zeros(DType.F32, 5, 21));
            float[] gradBefore = g.gpu.toFloats();
            for (int step = 0; step < 3; step++) {
                cpu.sgdStep(w.cpu, g.cpu, buf.cpu, 0.1, 0.9, 5e-4, nesterov, 0.25);
                gpu.sgdStep(w.gpu, g.gpu, buf.gpu, 0.1, 0.9, 5e-4, nesterov, 0.25);
            }
            assertClose("sgd weights", w.cpu, w.gpu, 1e-5);
            assertClose("sgd momentum", buf.cpu, buf.gpu, 1e-5);
            assertClose("the gradient is left alone", gradBefore, g.gpu.toFloats(), 0);
        }
    }

    // ---------------------------------------------------------------- whole networks

    private static Tensor images(Backend be, DType dt, long seed, int n, int c, int hw) {
        return be.fromFloats(random(seed, n * c * hw * hw, 1), dt, n, c, hw, hw);
    }

    @Test
    void resnet18TrainingStepMatchesTheCpuAndMemoryStaysFlat() {
        var config = new ResNet.Config(18, 8, 3, 10, ResNet.Stem.CIFAR, "swish");
        var onCpu = new ResNet(cpu, config, 7);
        var onGpu = new ResNet(gpu, config, 7);
        int[] labels = {1, 4, 9, 0, 3, 3, 7, 2};
        var options = new Sgd.Options(0.05, 0.9, 5e-4, false, false);
        var sgdCpu = new Sgd(onCpu.parameters(), options);
        var sgdGpu = new Sgd(onGpu.parameters(), options);
        long[] allocatedAfter = new long[4];
        for (int step = 0; step < 4; step++) {
            Tensor lc = Ops.crossEntropy(onCpu.forward(images(cpu, DType.F32, 8, 8, 3, 16)), labels, 0.1);
            Tensor lg = Ops.crossEntropy(onGpu.forward(images(gpu, DType.F32, 8, 8, 3, 16)), labels, 0.1);
            assertEquals(lc.item(), lg.item(), 1e-4 * Math.abs(lc.item()), "loss at step " + step);
            onCpu.zeroGrad();
            onGpu.zeroGrad();
            lc.backward();
            lg.backward();
            if (step == 0) {
                var pc = onCpu.parameters();
                var pg = onGpu.parameters();
                for (int i = 0; i < pc.size(); i++)
                    assertClose("gradient of " + pc.get(i).name(), pc.get(i).tensor().grad(), pg.get(i).tensor().grad(), 2e-3);
            }
            sgdCpu.step(1);
            sgdGpu.step(1);
            allocatedAfter[step] = settledAllocatedBytes();
        }
        var pc = onCpu.parameters();
        var pg = onGpu.parameters();
        for (int i = 0; i < pc.size(); i++)
            assertClose("weight after 4 steps: " + pc.get(i).name(), pc.get(i).tensor(), pg.get(i).tensor(), 2e-3);
        assertTrue(allocatedAfter[3] <= allocatedAfter[1] + (1L << 20),
                "device memory grows across steps: " + java.util.Arrays.toString(allocatedAfter));
    }

    /** The allocator's live bytes once everything unreachable has been returned. */
    private static long settledAllocatedBytes() {
        gpu.synchronize();
        long before = Long.MAX_VALUE, now = gpu.memoryStats().allocatedBytes();
        for (int i = 0; i < 10 && now < before; i++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            before = now;
            now = gpu.memoryStats().allocatedBytes();
        }
        return now;
    }

    @Test
    void mixedPrecisionTrainingLowersTheLoss() {
        var model = new ResNet(gpu, new ResNet.Config(18, 16, 3, 10, ResNet.Stem.CIFAR, "nami"), 11);
        var sgd = new Sgd(model.parameters(), new Sgd.Options(0.05, 0.9, 0, false, false));
        var scaler = new LossScaler();
        Tensor x = images(gpu, DType.F16, 12, 16, 3, 16);
        int[] labels = new int[16];
        for (int i = 0; i < labels.length; i++) labels[i] = i % 10;
        double first = Double.NaN, last = Double.NaN;
        for (int step = 0; step < 25; step++) {
            Tensor loss = Ops.crossEntropy(model.forward(x), labels, 0);
            last = loss.item();
            if (step == 0) first = last;
            model.zeroGrad();
            Ops.scale(loss, scaler.scale()).backward();
            if (scaler.unscaleAndUpdate(sgd.parameters())) sgd.step(1);
        }
        assertTrue(Double.isFinite(last) && last < 0.7 * first,
                "mixed precision: loss " + first + " → " + last + " (" + scaler.skippedSteps() + " steps skipped)");
    }
}
