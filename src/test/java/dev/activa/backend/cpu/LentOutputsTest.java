package dev.activa.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.activa.RandomArrays;
import dev.activa.activation.Activation;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Kernels given an array the pool lends (old contents; NaN in the tests, {@code activa.cpu.poisonOutputs})
 * write every element of it: each activation's backward into a new dx against the same backward written
 * over a copy of dy, with and without a residual, on one and two threads, at a length with a ragged end.
 */
class LentOutputsTest {
    /** activationBackward's lent (poisoned) dx against the in-place path over a copy of dy. */
    @Test
    void everyActivationsBackwardWritesEveryElementOfALentDx() {
        List<Activation> acts = new ArrayList<>();
        for (String name : new String[] {"relu", "elu", "swish", "mish", "tanhrelu", "nami"}) acts.add(Activation.of(name));
        acts.add(Activation.define("softsign", (x, p) -> x / (1 + Math.abs(x)), (x, p) -> 1 / ((1 + Math.abs(x)) * (1 + Math.abs(x)))));
        for (int threads : new int[] {1, 2})
            for (Activation act : acts)
                for (boolean residual : new boolean[] {false, true}) {
                    var cpu = new CpuBackend(threads);
                    int n = 16_384 + 13;
                    Tensor x = cpu.fromFloats(RandomArrays.gaussian(n, 1, 3), DType.F32, n);
                    Tensor r = residual ? cpu.fromFloats(RandomArrays.gaussian(n, 2, 3), DType.F32, n) : null;
                    Tensor dy = cpu.fromFloats(RandomArrays.gaussian(n, 3, 3), DType.F32, n);
                    double[] p = act.effective(act.initialParameters());
                    float[] lent = cpu.activationBackward(act, p, x, r, dy).dx().toFloats();
                    Tensor over = cpu.fromFloats(dy.toFloats(), DType.F32, n);
                    cpu.activationBackwardInto(act, p, x, r, over, over);
                    assertArrayEquals(over.toFloats(), lent, act.name() + " residual " + residual + " threads " + threads);
                    float[] fwd = cpu.activationForward(act, p, x, r).toFloats();
                    for (int i = 0; i < n; i++)
                        if (Float.isNaN(fwd[i])) throw new AssertionError(act.name() + " forward left element " + i);
                }
    }
}
