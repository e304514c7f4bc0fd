package dev.activa.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
