package dev.activa.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.activation.Activation;
import dev.activa.backend.Backend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The activation kernels writing into caller-owned tensors give what the allocating calls give, in place too. */
class ActivationIntoTest {
    private final Backend cpu = new CpuBackend();

    private Tensor random(int n, long seed, DType dtype) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rng.nextDouble() * 12 - 6);
        return cpu.fromFloats(v, dtype, n);
    }

    @ParameterizedTest
    @ValueSource(strings = {"relu", "elu", "swish", "mish", "tanhrelu", "nami"})
    void intoEqualsAllocating(String name) {
        Activation act = Activation.of(name);
        double[] p = act.initialParameters();
        int n = 70_001; // several chunks, and a ragged last block
        Tensor x = random(n, 1, DType.F32), r = random(n, 2, DType.F32), dy = random(n, 3, DType.F32);

        Tensor out = cpu.zeros(DType.F32, n);
        assertSame(out, cpu.activationForwardInto(act, p, x, r, out));
        assertArrayEquals(cpu.activationForward(act, p, x, r).toFloats(), out.toFloats(), name + " forward");

        var expected = cpu.activationBackward(act, p, x, r, dy);
        Tensor dx = cpu.zeros(DType.F32, n);
        double[] grads = cpu.activationBackwardInto(act, p, x, r, dy, dx);
        assertArrayEquals(expected.dx().toFloats(), dx.toFloats(), name + " backward");
        assertArrayEquals(expected.paramGrads(), grads, name + " parameter gradients");

        // In place: dx over dy, y over x.
        Tensor dyCopy = cpu.cast(dy, DType.F32);
        assertArrayEquals(grads, cpu.activationBackwardInto(act, p, x, r, dyCopy, dyCopy), name + " in place");
        assertArrayEquals(expected.dx().toFloats(), dyCopy.toFloats(), name + " backward in place");
        Tensor xCopy = cpu.cast(x, DType.F32);
        cpu.activationForwardInto(act, p, xCopy, null, xCopy);
        assertArrayEquals(cpu.activationForward(act, p, x, null).toFloats(), xCopy.toFloats(), name + " forward in place");
    }

    @ParameterizedTest
    @ValueSource(strings = {"mish", "nami"})
    void otherDtypesTakeTheComputeAndCopyPath(String name) {
        Activation act = Activation.of(name);
        double[] p = act.initialParameters();
        Tensor x = random(1000, 4, DType.F16);
        Tensor out = cpu.zeros(DType.F16, 1000);
        cpu.activationForwardInto(act, p, x, null, out);
        assertArrayEquals(cpu.activationForward(act, p, x, null).toFloats(), out.toFloats());
    }

    @ParameterizedTest
    @ValueSource(strings = {"relu"})
    void aWrongShapedOutputIsRejected(String name) {
        Activation act = Activation.of(name);
        Tensor x = random(100, 5, DType.F32);
        var e = assertThrows(IllegalArgumentException.class,
                () -> cpu.activationForwardInto(act, new double[0], x, null, cpu.zeros(DType.F32, 99)));
        assertTrue(e.getMessage().contains("[100]") && e.getMessage().contains("[99]"), e.getMessage());
    }
}
