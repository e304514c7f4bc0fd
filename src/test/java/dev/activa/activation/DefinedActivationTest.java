package dev.activa.activation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.autograd.GradCheck;
import dev.activa.autograd.Ops;
import dev.activa.backend.Backend;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.data.Dataset;
import dev.activa.nn.ResNet;
import dev.activa.optim.Sgd;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import dev.activa.train.TrainConfig;
import dev.activa.train.Trainer;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Activations defined from the Java API by their formulas alone ({@link Activation#define}). */
class DefinedActivationTest {
    private static final double C = Math.sqrt(2 / Math.PI);

    /** GELU in its tanh form, which the engine does not ship. */
    static final Activation GELU = Activation.define("gelu",
            (x, p) -> 0.5 * x * (1 + Math.tanh(C * (x + 0.044715 * x * x * x))),
            (x, p) -> {
                double u = C * (x + 0.044715 * x * x * x), t = Math.tanh(u);
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * 0.044715 * x * x);
            });

    /** x·σ(β·x) with β learnable in [0.5, 2]: ∂f/∂β = x²·σ(βx)·(1 − σ(βx)). */
    static final Activation SWISH_BETA = Activation.define("swish-beta",
            List.of(new Activation.Parameter("beta", 1.0, 0.5, 2.0)),
            (x, p) -> x * sigmoid(p[0] * x),
            (x, p) -> {
                double s = sigmoid(p[0] * x);
                return s + p[0] * x * s * (1 - s);
            },
            (x, p, out) -> {
                double s = sigmoid(p[0] * x);
                out[0] = x * x * s * (1 - s);
            });

    private static double sigmoid(double z) {
        return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }

    private final Backend cpu = new CpuBackend();

    @Test
    void itsGradientsAreWhatItsFormulasSay() {
        var rng = new SplittableRandom(1);
        GradCheck.check("gelu", in -> Ops.activation(GELU, null, in[0], null), GradCheck.random(rng, 4, 3, 5));
        GradCheck.check("gelu after a residual add", in -> Ops.activation(GELU, null, in[0], in[1]),
                GradCheck.random(rng, 3, 2, 7), GradCheck.random(rng, 3, 2, 7));
        Tensor beta = cpu.fromDoubles(new double[] {1.3}, DType.F64, 1).requiresGrad(true);
        GradCheck.check("swish-beta, x and beta", in -> Ops.activation(SWISH_BETA, in[1], in[0], null),
                GradCheck.random(rng, 4, 4, 6), beta);
    }

    @Test
    void aLearnableScalarOutsideItsRangeGetsNoGradient() {
        var x = GradCheck.random(new SplittableRandom(2), 3, 10);
        Tensor beta = cpu.fromDoubles(new double[] {3.0}, DType.F64, 1).requiresGrad(true);
        Ops.sum(Ops.activation(SWISH_BETA, beta, x, null)).backward();
        assertEquals(0.0, beta.grad().item(), "beta = 3 is clamped to 2");
        // and its value is the clamped one's
        Tensor y = Ops.activation(SWISH_BETA, beta, x, null);
        double[] xs = x.toDoubles(), ys = y.toDoubles();
        for (int i = 0; i < xs.length; i++) assertEquals(xs[i] * sigmoid(2 * xs[i]), ys[i], 1e-15);
    }

    /** FP32 and FP16 on the CPU (tables from 8 lanes, else per element) against FP64. */
    @Test
    void fp32AndFp16FollowTheFormulas() {
        int n = 4099;
        double[] xs = new double[n], dys = new double[n];
        var rng = new SplittableRandom(3);
        for (int i = 0; i < n; i++) {
            xs[i] = i < 41 ? (i - 20) * 0.5 : (rng.nextDouble() * 2 - 1) * (i % 10 == 0 ? 50 : 6);
            dys[i] = rng.nextDouble() * 2 - 1;
        }
        for (Activation act : List.of(GELU, SWISH_BETA)) {
            double[] p = act.parameters().isEmpty() ? new double[0] : new double[] {1.3};
            Tensor x64 = cpu.fromDoubles(xs, DType.F64, n), dy64 = cpu.fromDoubles(dys, DType.F64, n);
            double[] y = cpu.activationForward(act, p, x64, null).toDoubles();
            var exact = cpu.activationBackward(act, p, x64, null, dy64);
            for (DType dtype : List.of(DType.F32, DType.F16)) {
                Tensor x = cpu.fromDoubles(xs, dtype, n), dy = cpu.fromDoubles(dys, dtype, n);
                double[] xr = x.toDoubles(); // the rounded inputs the kernel sees
                double[] got = cpu.activationForward(act, p, x, null).toDoubles();
                var grad = cpu.activationBackward(act, p, x, null, dy);
                double[] dx = grad.dx().toDoubles(), dyr = dy.toDoubles();
                double tol = dtype == DType.F32 ? 2e-6 : 2e-3;
                for (int i = 0; i < n; i++) {
                    double want = act.value(xr[i], p), slope = act.derivative(xr[i], p) * dyr[i];
                    assertEquals(want, got[i], tol * Math.max(1, Math.abs(want)), act.name() + " " + dtype + " f(" + xr[i] + ")");
                    assertEquals(slope, dx[i], tol * Math.max(1, Math.abs(slope)), act.name() + " " + dtype + " dx at " + xr[i]);
                }
                if (dtype == DType.F32) {
                    for (int i = 0; i < n; i++) assertEquals(y[i], got[i], 1e-4 * Math.max(1, Math.abs(y[i])));
                    for (int k = 0; k < p.length; k++)
                        assertEquals(exact.paramGrads()[k], grad.paramGrads()[k], 1e-4 * n, act.name() + " parameter sum");
                }
            }
        }
    }

    /** Per element in double takes 5–7 times the tables' time: they serve from AVX2's 8 lanes up. */
    @Test
    void theTablesServeADefinedActivationFromEightLanes() {
        boolean serves = Tabulated.serving(GELU, new float[0], Tabulated.INSTEAD_OF_DOUBLES) != null;
        assertEquals(FloatBlock.LANES >= 8, serves, "tables at " + FloatBlock.LANES + " lanes");
        if (FloatBlock.LANES >= 8)
            assertTrue(Tabulated.serving(SWISH_BETA, new float[] {1.3f}, Tabulated.INSTEAD_OF_DOUBLES) != null,
                    "swish-beta's tables (value, slope and the beta partial) missed their check");
    }

    /**
     * Two definitions under one name are two activations: the FP32 path keeps tables per
     * activation and parameter values, and must not hand one's tables to the other.
     */
    @Test
    void twoDefinitionsUnderOneNameStayApart() {
        Activation half = Activation.define("scaled", (x, p) -> 0.5 * Math.tanh(x), (x, p) -> 0.5 / sq(Math.cosh(x)));
        Activation twice = Activation.define("scaled", (x, p) -> 2 * Math.tanh(x), (x, p) -> 2 / sq(Math.cosh(x)));
        float[] xs = new float[256];
        for (int i = 0; i < xs.length; i++) xs[i] = (i - 128) / 32f;
        Tensor x = cpu.fromFloats(xs, DType.F32, xs.length);
        for (int round = 0; round < 3; round++) {
            float[] a = cpu.activationForward(half, new double[0], x, null).toFloats();
            float[] b = cpu.activationForward(twice, new double[0], x, null).toFloats();
            for (int i = 0; i < xs.length; i++) {
                assertEquals(0.5 * Math.tanh(xs[i]), a[i], 1e-6, "half at " + xs[i]);
                assertEquals(2 * Math.tanh(xs[i]), b[i], 4e-6, "twice at " + xs[i]);
            }
        }
    }

    private static double sq(double v) { return v * v; }

    @Test
    void aSmallResNetTrainsWithOne() {
        var rng = new SplittableRandom(4);
        int count = 64;
        byte[] pixels = new byte[count * 12 * 12];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            labels[i] = i % 2;
            // class 1 bright, class 0 dark: learnable in a few steps
            for (int j = 0; j < 144; j++) pixels[i * 144 + j] = (byte) (labels[i] * 128 + rng.nextInt(128));
        }
        Dataset data = new Dataset("bright-dark", pixels, labels, count, 1, 12, 12, 2, List.of("dark", "bright"));
        var model = new ResNet(cpu, new ResNet.Config(18, 4, 1, 2, ResNet.Stem.CIFAR, SWISH_BETA), 1);
        var result = new Trainer(model, new Sgd(model.parameters(), Sgd.Options.defaults(0.05)), data, data,
                TrainConfig.defaults().withEpochs(3).withBatchSize(16)).fit();
        var epochs = result.log().epochs();
        assertEquals("swish-beta", result.log().activation());
        assertTrue(epochs.getLast().trainLoss() < epochs.getFirst().trainLoss(),
                "training loss did not fall: " + epochs.getFirst().trainLoss() + " → " + epochs.getLast().trainLoss());
        // each layer's beta moved from its initial 1.0
        var betas = model.state().entrySet().stream().filter(e -> e.getKey().endsWith("params")).toList();
        assertTrue(!betas.isEmpty(), model.state().keySet().toString());
        for (var e : betas) assertTrue(e.getValue().toDoubles()[0] != 1.0, e.getKey() + " stayed at 1.0");
    }

    @Test
    void badDefinitionsAreRefusedWithTheReason() {
        Defined.Formula zero = (x, p) -> 0;
        assertEquals("activation name 'relu' is the engine's own relu; give the new one another name",
                assertThrows(IllegalArgumentException.class, () -> Activation.define("relu", zero, zero)).getMessage());
        assertEquals("activation name 'silu' is the engine's own swish; give the new one another name",
                assertThrows(IllegalArgumentException.class, () -> Activation.define("silu", zero, zero)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Activation.define("My Act", zero, zero))
                .getMessage().contains("use lower-case letters"));
        var beta = List.of(new Activation.Parameter("beta", 1.0, 0.5, 2.0));
        assertEquals("p: learnable parameters [beta] need their partial derivatives",
                assertThrows(IllegalArgumentException.class, () -> Activation.define("p", beta, zero, zero, null)).getMessage());
        assertEquals("q: parameter 'beta' starts at 3.0, outside its range [0.5, 2.0]",
                assertThrows(IllegalArgumentException.class, () -> Activation.define("q",
                        List.of(new Activation.Parameter("beta", 3.0, 0.5, 2.0)), zero, zero, (x, p, o) -> {})).getMessage());
    }

    @Test
    void theSameDefinitionIsEqualOnlyToItself() {
        assertEquals(GELU, GELU);
        assertTrue(!GELU.equals(Activation.define("gelu", (x, p) -> 0, (x, p) -> 0)));
        assertArrayEquals(new double[0], GELU.initialParameters());
        assertEquals("swish-beta[beta]", SWISH_BETA.toString());
    }
}
