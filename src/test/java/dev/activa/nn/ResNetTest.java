package dev.activa.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.autograd.Ops;
import dev.activa.backend.Backend;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.optim.Sgd;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ResNetTest {
    private final Backend cpu = new CpuBackend();

    private Tensor randomImages(int n, int c, int hw, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[n * c * hw * hw];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextDouble() * 2 - 1);
        return cpu.fromFloats(v, DType.F32, n, c, hw, hw);
    }

    @Test
    void resnet18ForwardBackwardAndLossFallsOnAFixedBatch() {
        var model = new ResNet(cpu, ResNet.Config.of(18, 3, 10, "nami"), 1);
        assertEquals(11_173_962 + 3 * 17, model.parameterCount(), "the usual CIFAR ResNet-18 plus 3 Nami scalars at each of 17 sites");
        Tensor x = randomImages(8, 3, 32, 2);
        int[] labels = {0, 1, 2, 3, 4, 5, 6, 7};
        var sgd = new Sgd(model.parameters(), new Sgd.Options(0.05, 0.9, 0, false, false));
        double first = 0, last = 0;
        for (int step = 0; step < 5; step++) {
            Tensor logits = model.forward(x);
            assertEquals(8, logits.dim(0));
            assertEquals(10, logits.dim(1));
            Tensor loss = Ops.crossEntropy(logits, labels, 0);
            model.zeroGrad();
            loss.backward();
            for (var p : model.parameters()) assertNotNull(p.tensor().grad(), p.name() + " has a gradient");
            sgd.step(1);
            if (step == 0) first = loss.item();
            last = loss.item();
        }
        assertTrue(last < first * 0.7, "loss falls on a fixed batch: " + first + " → " + last);
    }

    @ParameterizedTest(name = "resnet-{0} stem {1}")
    @CsvSource({"34, CIFAR, 3, 32", "50, CIFAR, 3, 32", "18, IMAGENET, 1, 28"})
    void otherDepthsAndStemsRun(int depth, ResNet.Stem stem, int channels, int size) {
        var model = new ResNet(cpu, new ResNet.Config(depth, 8, channels, 100, stem, "mish"), 3);
        Tensor logits = model.forward(randomImages(2, channels, size, 4));
        assertEquals(100, logits.dim(1));
        Ops.crossEntropy(logits, new int[] {5, 99}, 0.1).backward();
    }

    @Test
    void mixedPrecisionForwardKeepsMastersInFp32() {
        var model = new ResNet(cpu, new ResNet.Config(18, 8, 1, 10, ResNet.Stem.CIFAR, "tanhrelu"), 5);
        Tensor x = randomImages(4, 1, 28, 6).to(DType.F16);
        Tensor logits = model.forward(x);
        assertEquals(DType.F32, logits.dtype());
        Ops.crossEntropy(logits, new int[] {1, 2, 3, 4}, 0).backward();
        for (var p : model.parameters()) assertEquals(DType.F32, p.tensor().grad().dtype(), p.name());
    }
}
