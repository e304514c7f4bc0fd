package dev.activa.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.RandomArrays;
import dev.activa.activation.Activation;
import dev.activa.backend.Conv2dSpec;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.nn.ResNet;
import dev.activa.optim.Sgd;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * {@code Autograd.backward(root, seed, true)}: the graph's intermediates go back to the CPU
 * backend's pool as backward passes them, and later outputs reuse them. The tests run with
 * {@code activa.cpu.poisonOutputs} (pom.xml), so every array lent starts as NaN.
 */
class RecyclingTest {
    /** A ResNet-18 trained step by step twice, once recycling: the same loss and gradients, bit for bit. */
    @Test
    void aRecyclingBackwardGivesTheSameBitsStepAfterStepInFlatMemory() {
        var plainBackend = new CpuBackend(2);
        var recyclingBackend = new CpuBackend(2);
        // batch 4 at 32 × 32, width 8: the first two stages' tensors are long enough to be pooled, the rest not
        var config = new ResNet.Config(18, 8, 3, 10, ResNet.Stem.CIFAR, "nami");
        var plain = new ResNet(plainBackend, config, 7);
        var recycling = new ResNet(recyclingBackend, config, 7);
        var plainSgd = new Sgd(plain.parameters(), Sgd.Options.defaults(0.05));
        var recyclingSgd = new Sgd(recycling.parameters(), Sgd.Options.defaults(0.05));
        int[] labels = {1, 4, 7, 9};
        long newArraysAfterTwoSteps = -1;
        for (int step = 0; step < 6; step++) {
            float[] images = RandomArrays.gaussian(4 * 3 * 32 * 32, step, 1);
            Tensor plainLoss = Ops.crossEntropy(plain.forward(plainBackend.fromFloats(images, DType.F32, 4, 3, 32, 32)), labels, 0);
            Tensor recyclingLoss = Ops.crossEntropy(
                    recycling.forward(recyclingBackend.fromFloats(images, DType.F32, 4, 3, 32, 32)), labels, 0);
            plain.zeroGrad();
            recycling.zeroGrad();
            Autograd.backward(plainLoss, null, false);
            Autograd.backward(recyclingLoss, null, true);
            assertEquals(Double.doubleToLongBits(plainLoss.item()), Double.doubleToLongBits(recyclingLoss.item()),
                    "step " + step + ": loss");
            for (int p = 0; p < plain.parameters().size(); p++) {
                var expected = plain.parameters().get(p);
                assertArrayEquals(expected.tensor().grad().toFloats(), recycling.parameters().get(p).tensor().grad().toFloats(),
                        "step " + step + ": gradient of " + expected.name());
            }
            plainSgd.step(1);
            recyclingSgd.step(1);
            if (step == 1) newArraysAfterTwoSteps = recyclingBackend.pooledArrays().newArrays();
        }
        var stats = recyclingBackend.pooledArrays();
        assertTrue(stats.lentAgain() > 0, "arrays were lent again: " + stats);
        assertEquals(newArraysAfterTwoSteps, stats.newArrays(), "after two steps every pooled output reuses an array: " + stats);
        assertEquals(0, plainBackend.pooledArrays().lentAgain(), "without recycling nothing comes back");
    }

    /** Two ops' gradients for the same tensor (p is read twice), one of them handed to both of add's inputs. */
    private static float[] gradientReadTwice(boolean recycle) {
        var cpu = new CpuBackend(1);
        Tensor x = cpu.fromFloats(RandomArrays.gaussian(16_384, 1, 1), DType.F32, 1, 4, 64, 64).requiresGrad(true);
        Tensor p = Ops.activation(Activation.of("mish"), null, x, null);
        Tensor q = Ops.activation(Activation.of("relu"), null, x, null);
        Tensor t = Ops.add(Ops.add(p, q), p); // p's gradient is waiting when add(p, q) hands its own to p and q
        Autograd.backward(Ops.sum(Ops.globalAvgPool(t)), null, recycle);
        return x.grad().toFloats();
    }

    @Test
    void aGradientHandedToTwoInputsReachesBoth() {
        assertArrayEquals(gradientReadTwice(false), gradientReadTwice(true));
    }

    /** A detached view of an intermediate as an op's input: no gradient flows into it, but the weight gradient reads it. */
    private static float[] detachedInput(boolean recycle) {
        var cpu = new CpuBackend(1);
        Tensor x = cpu.fromFloats(RandomArrays.gaussian(32_768, 2, 1), DType.F32, 2, 4, 64, 64).requiresGrad(true);
        Tensor w = cpu.fromFloats(RandomArrays.gaussian(144, 3, 1), DType.F32, 4, 4, 3, 3).requiresGrad(true);
        Tensor y = Ops.activation(Activation.of("mish"), null, x, null);
        Tensor c = Ops.conv2d(y.detach(), w, null, new Conv2dSpec(1, 1));
        Autograd.backward(Ops.sum(Ops.globalAvgPool(Ops.add(c, y))), null, recycle);
        return w.grad().toFloats();
    }

    @Test
    void aDetachedViewOfAnIntermediateStaysForTheOpThatReadsIt() {
        assertArrayEquals(detachedInput(false), detachedInput(true));
    }

    /** Eval-mode forward passes, plain and recycling: the same logits, and after the first pass no new arrays. */
    @Test
    void recyclingPassesGiveTheSameLogitsFromTheSameMemory() {
        var cpu = new CpuBackend(2);
        var model = new ResNet(cpu, new ResNet.Config(18, 8, 3, 10, ResNet.Stem.CIFAR, "mish"), 11);
        model.train(false);
        Tensor[] images = new Tensor[4];
        float[][] plain = new float[images.length][];
        for (int i = 0; i < images.length; i++) {
            images[i] = cpu.fromFloats(RandomArrays.gaussian(8 * 3 * 32 * 32, 100 + i, 1), DType.F32, 8, 3, 32, 32);
            try (var _ = Autograd.noGrad()) {
                plain[i] = model.forward(images[i]).toFloats();
            }
        }
        long newArraysAfterFirstPass = -1;
        Tensor stale = null;
        for (int i = 0; i < images.length; i++) {
            try (var _ = Autograd.recyclingPass()) {
                stale = Ops.activation(Activation.of("relu"), null, images[i], null); // 24,576 floats: pooled
                assertArrayEquals(plain[i], model.forward(images[i]).toFloats(), "pass " + i);
            }
            if (i == 0) newArraysAfterFirstPass = cpu.pooledArrays().newArrays();
        }
        assertEquals(newArraysAfterFirstPass, cpu.pooledArrays().newArrays(), "later passes reuse the first one's arrays");
        var e = assertThrows(IllegalStateException.class, stale::toFloats);
        assertTrue(e.getMessage().contains("recycled"), e.getMessage());
    }

    /** Views, made in a pass, of tensors made outside it (before it, in an enclosing pass, in a graph): theirs stay. */
    @Test
    void aPassGivesBackOnlyWhatItMade() {
        var cpu = new CpuBackend(1);
        Activation mish = Activation.of("mish");
        Tensor x = cpu.fromFloats(RandomArrays.gaussian(32_768, 1, 1), DType.F32, 2, 4, 64, 64).requiresGrad(true);
        Tensor before;
        try (var _ = Autograd.noGrad()) {
            before = Ops.activation(mish, null, x, null);
        }
        Tensor inGraph = Ops.activation(mish, null, x, null);
        Tensor loss = Ops.sum(Ops.globalAvgPool(Ops.activation(Activation.of("relu"), null, inGraph, null)));
        try (var _ = Autograd.recyclingPass()) {
            Tensor outer = Ops.activation(mish, null, x, null);
            try (var _ = Autograd.recyclingPass()) {
                for (Tensor t : new Tensor[] {before, inGraph, outer}) assertEquals(32_768, Ops.flatten(t).toFloats().length);
            }
            assertEquals(32_768, outer.toFloats().length, "the enclosing pass's tensor");
        }
        assertEquals(32_768, before.toFloats().length, "a tensor made before the pass");
        Autograd.backward(loss, null, false); // reads inGraph
        assertEquals(32_768, x.grad().toFloats().length);
    }

    @Test
    void anIntermediateReadAfterARecyclingBackwardSaysSoWhileTheRootAndLeavesStay() {
        var cpu = new CpuBackend(1);
        Activation mish = Activation.of("mish");
        for (boolean recycle : new boolean[] {false, true}) {
            Tensor x = cpu.fromFloats(RandomArrays.gaussian(32_768, 1, 1), DType.F32, 2, 4, 64, 64).requiresGrad(true);
            Tensor hidden = Ops.activation(mish, null, x, null);
            Tensor view = hidden.reshape(2, 16_384);
            Tensor loss = Ops.sum(view);
            Autograd.backward(loss, null, recycle);
            assertEquals(32_768, x.toFloats().length);
            assertEquals(32_768, x.grad().toFloats().length);
            assertTrue(Double.isFinite(loss.item()));
            if (!recycle) {
                assertEquals(32_768, hidden.toFloats().length, "a plain backward leaves intermediates readable");
                continue;
            }
            for (Tensor gone : new Tensor[] {hidden, view}) {
                var e = assertThrows(IllegalStateException.class, gone::toFloats);
                assertTrue(e.getMessage().contains("recycled, by a backward pass")
                        && e.getMessage().contains("copy what you need before"), e.getMessage());
            }
        }
    }
}
