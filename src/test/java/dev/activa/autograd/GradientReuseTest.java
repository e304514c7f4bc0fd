package dev.activa.autograd;

import static dev.activa.autograd.GradCheck.CPU;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.activation.Activation;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * backward() lets an activation write its gradient over the upstream one, and adds a second
 * contribution into the first, only where nothing else reads that storage: the values are those
 * of plain backpropagation, and the storage is reused where it is free.
 */
class GradientReuseTest {
    private static final Activation NAMI = Activation.of("nami"), RELU = Activation.of("relu");
    private static final double[] XS = {-2.5, -0.7, -0.1, 0.0, 0.2, 0.9, 1.6, 3.0};

    private static Tensor leaf(DType dtype, double... v) {
        return CPU.fromDoubles(v, dtype, v.length).requiresGrad(true);
    }

    private static Tensor nami(Tensor x) {
        return Ops.activation(NAMI, CPU.fromDoubles(NAMI.initialParameters(), DType.F64, 3), x, null);
    }

    /** An identity op whose backward notes the gradient it was handed and passes it on. */
    private static Tensor probe(Tensor x, List<Tensor> seen) {
        return Autograd.record("probe", CPU.view(x, x.shape()), g -> {
            seen.add(g);
            return new Tensor[] {g};
        }, x);
    }

    private static double[] slopes(Activation act, double scale) {
        double[] p = act.initialParameters(), out = new double[XS.length];
        for (int i = 0; i < XS.length; i++) out[i] = scale * act.derivative(XS[i], p);
        return out;
    }

    @Test
    void anActivationWritesOverAFreeUpstreamGradient() {
        for (DType dtype : new DType[] {DType.F64, DType.F32, DType.F16}) {
            Tensor x = leaf(dtype, XS);
            List<Tensor> below = new ArrayList<>(), above = new ArrayList<>();
            Ops.sum(Ops.scale(probe(nami(probe(x, below)), above), 3)).backward();
            assertSame(above.getFirst().storage(), below.getFirst().storage(), dtype + ": dx written over dy");
            double tol = switch (dtype) { case F64 -> 1e-15; case F32 -> 1e-6; case F16 -> 1e-2; };
            assertArrayEquals(slopes(NAMI, 3), x.grad().toDoubles(), tol, dtype.toString());
        }
    }

    /** x's gradient through 2·bn(x), seeded with a gradient that varies, and the gradients handed below and above bn. */
    private static double[] batchNormGradient(DType dtype, List<Tensor> below, List<Tensor> above) {
        var rng = new SplittableRandom(8);
        double[] values = new double[4 * 3 * 5 * 5], seed = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = rng.nextGaussian() * 2 + 1;
            seed[i] = (i % 7) - 3.0;
        }
        Tensor x = CPU.fromDoubles(values, dtype, 4, 3, 5, 5).requiresGrad(true);
        Tensor gamma = CPU.fromDoubles(new double[] {0.5, 1.5, -1}, dtype, 3).requiresGrad(true);
        Tensor beta = CPU.zeros(dtype, 3).requiresGrad(true);
        Tensor y = Ops.batchNorm2d(probe(x, below), gamma, beta, CPU.zeros(dtype, 3), CPU.full(dtype, 1, 3), true, 0.1, 1e-5);
        // scale's backward hands bn a new tensor, which nothing else reads: bn may write over it
        Autograd.backward(Ops.scale(probe(y, above), 2), CPU.fromDoubles(seed, dtype, 4, 3, 5, 5));
        return x.grad().toDoubles();
    }

    @Test
    void batchNormWritesOverAFreeUpstreamGradientInFp32() {
        List<Tensor> below = new ArrayList<>(), above = new ArrayList<>();
        double[] fp32 = batchNormGradient(DType.F32, below, above);
        assertSame(above.getFirst().storage(), below.getFirst().storage(), "dx written over dy");
        double[] exact = batchNormGradient(DType.F64, new ArrayList<>(), new ArrayList<>());
        for (int i = 0; i < exact.length; i++)
            assertEquals(exact[i], fp32[i], 2e-5 * Math.max(1, Math.abs(exact[i])), "element " + i);
    }

    @Test
    void batchNormOverDyGivesTheBitsOfTheAllocatingBackward() {
        var rng = new SplittableRandom(9);
        float[] xs = new float[2 * 4 * 7 * 7], dys = new float[xs.length];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) rng.nextGaussian();
            dys[i] = (float) rng.nextGaussian();
        }
        try (var cpu = new dev.activa.backend.cpu.CpuBackend(2)) {
            Tensor x = cpu.fromFloats(xs, DType.F32, 2, 4, 7, 7), gamma = cpu.full(DType.F32, 1.5, 4);
            var forward = cpu.batchNormTrain(x, gamma, cpu.zeros(DType.F32, 4), cpu.zeros(DType.F32, 4),
                    cpu.full(DType.F32, 1, 4), 0.1, 1e-5);
            var fresh = cpu.batchNormBackward(x, cpu.fromFloats(dys, DType.F32, 2, 4, 7, 7), gamma, forward.savedMean(),
                    forward.savedInvStd());
            Tensor dy = cpu.fromFloats(dys, DType.F32, 2, 4, 7, 7);
            var over = cpu.batchNormBackwardOverDy(x, dy, gamma, forward.savedMean(), forward.savedInvStd());
            assertSame(dy, over.dx());
            assertArrayEquals(fresh.dx().toFloats(), over.dx().toFloats());
            assertArrayEquals(fresh.dgamma().toFloats(), over.dgamma().toFloats());
            assertArrayEquals(fresh.dbeta().toFloats(), over.dbeta().toFloats());
        }
    }

    @Test
    void aGradientHandedToTwoOpsIsOverwrittenByNeither() {
        // add hands one tensor to both activations; the first one run must not write over it
        Tensor x = leaf(DType.F64, XS), y = leaf(DType.F64, XS);
        List<Tensor> seen = new ArrayList<>();
        Ops.sum(Ops.scale(Ops.add(nami(probe(x, seen)), Ops.activation(RELU, null, probe(y, seen), null)), 2)).backward();
        assertArrayEquals(slopes(NAMI, 2), x.grad().toDoubles(), 1e-15);
        assertArrayEquals(slopes(RELU, 2), y.grad().toDoubles(), 1e-15);
        assertEquals(2, seen.size());
        assertNotSame(seen.get(0).storage(), seen.get(1).storage(), "at most one of them wrote in place");
    }

    @Test
    void theCallersSeedAndTheLeavesGradientsAreNeverWrittenOver() {
        double[] seedValues = new SplittableRandom(5).doubles(XS.length, -1, 1).toArray();
        Tensor seed = CPU.fromDoubles(seedValues, DType.F64, XS.length);
        Tensor a = leaf(DType.F64, XS), x = leaf(DType.F64, XS);
        // a's gradient is the seed itself as add hands it on; nami's then the same tensor
        Ops.add(a, nami(x)).backward(seed);
        assertArrayEquals(seedValues, seed.toDoubles(), 0, "the seed is the caller's");
        assertArrayEquals(seedValues, a.grad().toDoubles(), 0, "a's gradient is its own");
        double[] expected = slopes(NAMI, 1);
        for (int i = 0; i < XS.length; i++) expected[i] *= seedValues[i];
        assertArrayEquals(expected, x.grad().toDoubles(), 1e-15);
    }

    @Test
    void aSecondContributionIsAddedIntoAFreeFirstOne() {
        // x feeds nami and a scale: its two gradients, dy·nami'(x) and 5·dy, meet
        Tensor x = leaf(DType.F64, XS);
        List<Tensor> merged = new ArrayList<>(), viaNami = new ArrayList<>(), viaScale = new ArrayList<>();
        Tensor shared = probe(x, merged);
        Ops.sum(Ops.add(nami(probe(shared, viaNami)), Ops.scale(probe(shared, viaScale), 5))).backward();
        double[] expected = slopes(NAMI, 1);
        for (int i = 0; i < XS.length; i++) expected[i] += 5;
        assertArrayEquals(expected, x.grad().toDoubles(), 1e-15);
        var sum = merged.getFirst().storage();
        assertTrue(sum == viaNami.getFirst().storage() || sum == viaScale.getFirst().storage(), "added in place");
    }
}
