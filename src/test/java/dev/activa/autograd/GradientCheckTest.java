package dev.activa.autograd;

import static dev.activa.autograd.GradCheck.CPU;
import static dev.activa.autograd.GradCheck.random;

import dev.activa.activation.Activation;
import dev.activa.backend.Conv2dSpec;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** FP64 finite-difference checks of every differentiable op. */
class GradientCheckTest {
    private final SplittableRandom rng = new SplittableRandom(7);

    @ParameterizedTest(name = "conv2d k={0} stride={1} pad={2} bias={3}")
    @CsvSource({"3,1,1,true", "3,2,1,false", "1,1,0,true", "1,2,0,false", "3,1,0,false", "5,2,2,true", "2,2,0,false"})
    void conv2d(int k, int stride, int pad, boolean bias) {
        Tensor x = random(rng, 1, 2, 3, 7, 6);
        Tensor w = random(rng, 0.5, 4, 3, k, k);
        Tensor b = bias ? random(rng, 0.5, 4) : null;
        var spec = new Conv2dSpec(stride, pad);
        if (bias) GradCheck.check("conv2d", in -> Ops.conv2d(in[0], in[1], in[2], spec), x, w, b);
        else GradCheck.check("conv2d", in -> Ops.conv2d(in[0], in[1], null, spec), x, w);
    }

    @Test
    void batchNormTraining() {
        Tensor x = random(rng, 2, 4, 3, 3, 2);
        Tensor gamma = random(rng, 1, 3), beta = random(rng, 1, 3);
        GradCheck.check("batchnorm2d", in -> Ops.batchNorm2d(in[0], in[1], in[2], CPU.zeros(DType.F64, 3),
                CPU.full(DType.F64, 1, 3), true, 0.1, 1e-5), x, gamma, beta);
    }

    @ParameterizedTest
    @ValueSource(strings = {"relu", "elu", "swish", "mish", "tanhrelu", "nami"})
    void activation(String name) {
        Activation act = Activation.of(name);
        // Keep points away from the kinks at 0, where one-sided limits differ.
        double[] v = new double[40];
        for (int i = 0; i < v.length; i++) {
            double u = rng.nextDouble() * 6 - 3;
            v[i] = Math.abs(u) < 0.05 ? u + Math.copySign(0.1, u) : u;
        }
        Tensor x = CPU.fromDoubles(v, DType.F64, 5, 8).requiresGrad(true);
        if (act.parameters().isEmpty()) {
            GradCheck.check(name, in -> Ops.activation(act, null, in[0], null), x);
        } else {
            Tensor p = CPU.fromDoubles(act.initialParameters(), DType.F64, 3).requiresGrad(true);
            GradCheck.check(name, in -> Ops.activation(act, in[1], in[0], null), x, p);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"relu", "mish", "tanhrelu", "nami"})
    void activationWithFusedResidual(String name) {
        Activation act = Activation.of(name);
        Tensor a = random(rng, 2, 3, 7), b = random(rng, 2, 3, 7);
        Tensor p = act.parameters().isEmpty() ? null
                : CPU.fromDoubles(act.initialParameters(), DType.F64, 3).requiresGrad(true);
        if (p == null) GradCheck.check(name + " residual", in -> Ops.activation(act, null, in[0], in[1]), a, b);
        else GradCheck.check(name + " residual", in -> Ops.activation(act, in[2], in[0], in[1]), a, b, p);
    }

    @Test
    void namiParametersOutsideTheirRangesGetNoGradient() {
        Activation nami = Activation.of("nami");
        Tensor x = random(rng, 3, 20);
        // w below its range, a above it, b inside: the clamp passes gradient to b alone.
        Tensor p = CPU.fromDoubles(new double[] {0.05, 3.5, 0.8}, DType.F64, 3).requiresGrad(true);
        GradCheck.check("nami clamped", in -> Ops.activation(nami, in[1], in[0], null), x, p);
        double[] g = p.grad().toDoubles();
        org.junit.jupiter.api.Assertions.assertEquals(0.0, g[0]);
        org.junit.jupiter.api.Assertions.assertEquals(0.0, g[1]);
        org.junit.jupiter.api.Assertions.assertNotEquals(0.0, g[2]);
    }

    @Test
    void poolingLinearMatmulLoss() {
        Tensor x = random(rng, 1, 2, 3, 4, 5);
        GradCheck.check("global avg pool", in -> Ops.globalAvgPool(in[0]), x);
        GradCheck.check("max pool 3/2/1", in -> Ops.maxPool2d(in[0], 3, new Conv2dSpec(2, 1)), random(rng, 1, 2, 2, 7, 7));
        GradCheck.check("max pool 2/2/0", in -> Ops.maxPool2d(in[0], 2, new Conv2dSpec(2, 0)), random(rng, 1, 1, 2, 6, 4));
        GradCheck.check("linear", in -> Ops.linear(in[0], in[1], in[2]), random(rng, 1, 4, 6), random(rng, 1, 3, 6),
                random(rng, 1, 3));
        GradCheck.check("matmul", in -> Ops.matmul(in[0], in[1]), random(rng, 1, 3, 5), random(rng, 1, 5, 2));
        int[] labels = {0, 2, 1, 2};
        GradCheck.check("cross-entropy", in -> Ops.crossEntropy(in[0], labels, 0), random(rng, 3, 4, 3));
        GradCheck.check("cross-entropy smoothed", in -> Ops.crossEntropy(in[0], labels, 0.1), random(rng, 3, 4, 3));
    }

    @Test
    void elementwiseAndShapes() {
        GradCheck.check("add", in -> Ops.add(in[0], in[1]), random(rng, 1, 2, 3), random(rng, 1, 2, 3));
        GradCheck.check("scale", in -> Ops.scale(in[0], -2.5), random(rng, 1, 5));
        GradCheck.check("sum", in -> Ops.sum(in[0]), random(rng, 1, 2, 3));
        GradCheck.check("mean", in -> Ops.mean(in[0]), random(rng, 1, 4));
        GradCheck.check("flatten", in -> Ops.flatten(in[0]), random(rng, 1, 2, 3, 2, 2));
        GradCheck.check("reshape", in -> Ops.reshape(in[0], 6, 2), random(rng, 1, 3, 4));
    }

    @Test
    void aWholeResidualBlock() {
        // conv → bn → act → conv → bn → (+ shortcut) act: ops composed as in ResNet.
        Activation act = Activation.of("nami");
        Tensor x = random(rng, 1, 2, 2, 5, 5);
        Tensor w1 = random(rng, 0.5, 2, 2, 3, 3), w2 = random(rng, 0.5, 2, 2, 3, 3);
        Tensor p = CPU.fromDoubles(act.initialParameters(), DType.F64, 3).requiresGrad(true);
        var same = new Conv2dSpec(1, 1);
        GradCheck.check("residual block", 1e-6, 1e-5, in -> {
            Tensor h = Ops.conv2d(in[0], in[1], null, same);
            h = Ops.batchNorm2d(h, CPU.full(DType.F64, 1, 2), CPU.zeros(DType.F64, 2), CPU.zeros(DType.F64, 2),
                    CPU.full(DType.F64, 1, 2), true, 0.1, 1e-5);
            h = Ops.activation(act, in[3], h, null);
            h = Ops.conv2d(h, in[2], null, same);
            return Ops.activation(act, in[3], h, in[0]);
        }, x, w1, w2, p);
    }
}
