package dev.activa.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.backend.cpu.CpuBackend;
import dev.activa.nn.Module;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScheduleAndScalerTest {
    @Test
    void cosineFallsFromBaseToMinimumAlongHalfACosine() {
        var s = new CosineSchedule(0.1, 0.001, 100, 0);
        assertEquals(0.1, s.lr(0), 1e-12);
        assertEquals(0.001 + 0.099 * 0.5 * (1 + Math.cos(Math.PI * 0.25)), s.lr(25), 1e-12);
        assertEquals(0.0505, s.lr(50), 1e-12);
        assertEquals(0.001, s.lr(100), 1e-12);
        for (int i = 1; i <= 100; i++) assertTrue(s.lr(i) <= s.lr(i - 1));
    }

    @Test
    void warmupRisesLinearlyThenCosineTakesOver() {
        var s = new CosineSchedule(0.2, 0, 110, 10);
        assertEquals(0.02, s.lr(0), 1e-12);
        assertEquals(0.1, s.lr(4), 1e-12);
        assertEquals(0.2, s.lr(10), 1e-12);
        assertEquals(0.1, s.lr(60), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(0.1, 0, 10, 10));
    }

    @Test
    void scalerGrowsAfter2000CleanStepsAndHalvesOnOverflow() {
        var scaler = new LossScaler();
        for (int i = 0; i < 1999; i++) assertTrue(scaler.update(false));
        assertEquals(65536, scaler.scale());
        assertTrue(scaler.update(false));
        assertEquals(131072, scaler.scale());
        assertFalse(scaler.update(true));
        assertEquals(65536, scaler.scale());
        assertEquals(1, scaler.skippedSteps());
        assertEquals(0, scaler.cleanSteps());
    }

    @Test
    void theScalerUnscalesEveryGradientAndSkipsAStepWithInfOrNan() {
        var cpu = new CpuBackend();
        Tensor w1 = cpu.zeros(DType.F32, 3), w2 = cpu.zeros(DType.F32, 2), frozen = cpu.zeros(DType.F32, 2);
        w1.setGrad(cpu.fromFloats(new float[] {512, -1024, 0.5f}, DType.F32, 3));
        w2.setGrad(cpu.fromFloats(new float[] {256, 3}, DType.F32, 2));
        var params = List.of(new Module.Parameter("w1", w1, true), new Module.Parameter("w2", w2, true),
                new Module.Parameter("frozen", frozen, true));
        var scaler = new LossScaler(256, 0, 0);
        assertTrue(scaler.unscaleAndUpdate(params), "finite gradients: apply the step");
        assertArrayEquals(new float[] {2, -4, 0.5f / 256}, w1.grad().toFloats());
        assertArrayEquals(new float[] {1, 3f / 256}, w2.grad().toFloats());
        assertEquals(1, scaler.cleanSteps());

        w2.setGrad(cpu.fromFloats(new float[] {1, Float.NaN}, DType.F32, 2));
        assertFalse(scaler.unscaleAndUpdate(params), "a NaN in the last gradient skips the step");
        assertEquals(128, scaler.scale());
        assertEquals(1, scaler.skippedSteps());
    }
}
