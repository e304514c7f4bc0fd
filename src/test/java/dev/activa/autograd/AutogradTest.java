package dev.activa.autograd;

import static dev.activa.autograd.GradCheck.CPU;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.activation.Activation;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.lang.ref.WeakReference;
import org.junit.jupiter.api.Test;

class AutogradTest {
    private Tensor leaf(double... v) {
        return CPU.fromDoubles(v, DType.F64, v.length).requiresGrad(true);
    }

    @Test
    void gradientsAccumulateIntoLeavesUntilZeroed() {
        Tensor x = leaf(1, 2, 3);
        Ops.sum(Ops.scale(x, 2)).backward();
        Ops.sum(Ops.scale(x, 3)).backward();
        assertArrayEquals(new double[] {5, 5, 5}, x.grad().toDoubles());
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test
    void aTensorUsedTwiceGetsBothContributionsAndLeavesOwnTheirGradients() {
        Tensor a = leaf(1, 2), b = leaf(3, 4);
        Tensor s = Ops.add(a, b);
        Ops.sum(Ops.add(s, s)).backward();
        assertArrayEquals(new double[] {2, 2}, a.grad().toDoubles());
        CPU.addInPlace(a.grad(), a.grad());
        assertArrayEquals(new double[] {2, 2}, b.grad().toDoubles(), "b's gradient is not a's");
    }

    @Test
    void noGradRecordsNothingAndDetachCutsTheGraph() {
        Tensor x = leaf(1, 2);
        try (var _ = Autograd.noGrad()) {
            Tensor y = Ops.scale(x, 2);
            assertNull(y.gradFn());
            var e = assertThrows(IllegalStateException.class, () -> Ops.sum(y).backward());
            assertTrue(e.getMessage().contains("does not require grad"), e.getMessage());
        }
        Tensor d = Ops.scale(x, 2).detach();
        var e = assertThrows(IllegalStateException.class, () -> Ops.sum(d).backward());
        assertTrue(e.getMessage().contains("detached"), e.getMessage());
    }

    @Test
    void backwardNeedsAScalar() {
        var e = assertThrows(IllegalStateException.class, () -> Ops.scale(leaf(1, 2), 2).backward());
        assertTrue(e.getMessage().contains("scalar loss") && e.getMessage().contains("[2]"), e.getMessage());
    }

    @Test
    void shapeMismatchNamesTheOpAndShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> Ops.add(leaf(1, 2), leaf(1, 2, 3)));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("[2]") && e.getMessage().contains("[3]"));
        var m = assertThrows(IllegalArgumentException.class, () -> Ops.matmul(
                CPU.zeros(DType.F64, 2, 3), CPU.zeros(DType.F64, 4, 5)));
        assertTrue(m.getMessage().contains("matmul") && m.getMessage().contains("[2, 3]"), m.getMessage());
        var d = assertThrows(IllegalArgumentException.class, () -> Ops.add(
                CPU.zeros(DType.F64, 2), CPU.zeros(DType.F32, 2)));
        assertTrue(d.getMessage().contains("F64") && d.getMessage().contains("F32"), d.getMessage());
        var r = assertThrows(IllegalArgumentException.class, () -> Ops.reshape(CPU.zeros(DType.F64, 2, 3), 4, 2));
        assertTrue(r.getMessage().contains("reshape: cannot view [2, 3] (6 elements) as [4, 2]"), r.getMessage());
        var v = assertThrows(IllegalArgumentException.class, () -> CPU.view(CPU.zeros(DType.F32, 10), 20));
        assertTrue(v.getMessage().contains("view: cannot view [10] (10 elements) as [20]"), v.getMessage());
    }

    @Test
    void theGraphAndItsSavedTensorsAreReleasedAfterBackward() {
        Tensor w = leaf(0.5, -0.25, 1);
        WeakReference<Tensor> saved = null;
        for (int step = 0; step < 200; step++) {
            Tensor input = CPU.fromDoubles(new double[] {step, 1, -1}, DType.F64, 3);
            Tensor hidden = Ops.activation(Activation.of("mish"), null, Ops.add(input, w), null);
            Tensor loss = Ops.sum(hidden);
            if (step == 0) saved = new WeakReference<>(hidden);
            loss.backward();
            assertNull(loss.gradFn(), "backward releases the graph");
            w.zeroGrad();
        }
        for (int i = 0; i < 20 && saved.get() != null; i++) {
            System.gc();
            Thread.onSpinWait();
        }
        assertNull(saved.get(), "an intermediate from step 0 is unreachable after its backward");
    }
}
