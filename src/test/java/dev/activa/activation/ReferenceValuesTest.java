package dev.activa.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.backend.cpu.CpuBackend;
import dev.activa.cli.ActivationsCommand;
import dev.activa.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Golden values: every activation, its derivative and Nami's parameter gradients, computed
 * through the engine's ops and autograd, against the 50-digit reference in ../shared/reference.
 */
class ReferenceValuesTest {
    static final Path REFERENCE = Path.of("..", "shared", "reference");

    static List<String[]> rows(String file) throws IOException {
        Path p = REFERENCE.resolve(file);
        Assumptions.assumeTrue(Files.exists(p), () -> {
            System.out.println("SKIP golden values: " + p.toAbsolutePath() + " not found (shared/ is beside the checkout in CI)");
            return "reference file missing";
        });
        return Files.readAllLines(p).stream().skip(1).filter(l -> !l.isBlank()).map(l -> l.split(",", -1)).toList();
    }

    @ParameterizedTest(name = "{0} in {1}")
    @CsvSource({
        "activations_default.csv, F64, 0.3, 1.0, 1.5",
        "activations_default.csv, F32, 0.3, 1.0, 1.5",
        "activations_clamped.csv, F64, 0.05, 3.5, 0.8",
        "activations_clamped.csv, F32, 0.05, 3.5, 0.8"})
    void matchesReference(String file, DType dtype, double w, double a, double b) throws IOException {
        var backend = new CpuBackend();
        List<String[]> expected = rows(file);
        int checked = 0;
        for (String name : Activation.NAMES) {
            List<String[]> mine = expected.stream().filter(r -> r[0].equals(name)).toList();
            double[] xs = mine.stream().mapToDouble(r -> Double.parseDouble(r[1])).toArray();
            Activation act = Activation.of(name);
            double[] raw = act.parameters().isEmpty() ? new double[0] : new double[] {w, a, b};
            var got = ActivationsCommand.compute(act, raw, xs, backend, dtype);
            // FP32's budget: 1e-5 relative (1e-6 absolute) plus what rounding the inputs to FP32 alone
            // moves the exact value by (Nami's sin(w·x) at x = ±100, where w = 0.3 is not a float).
            var atFloatInputs = dtype == DType.F64 ? got : ActivationsCommand.compute(act, roundToFloat(raw),
                    roundToFloat(xs), backend, DType.F64);
            for (int i = 0; i < xs.length; i++) {
                String[] r = mine.get(i);
                String where = name + " x=" + xs[i] + " (" + dtype + ", " + file + ")";
                var f = atFloatInputs.get(i);
                close(Double.parseDouble(r[2]), got.get(i).y(), f.y(), dtype, where + " y");
                close(Double.parseDouble(r[3]), got.get(i).dydx(), f.dydx(), dtype, where + " dy/dx");
                for (int k = 0; k < 3; k++) {
                    if (r[4 + k].isEmpty()) {
                        assertEquals(0, got.get(i).dydp().length, where);
                    } else {
                        close(Double.parseDouble(r[4 + k]), got.get(i).dydp()[k], f.dydp()[k], dtype, where + " dy/dp" + k);
                    }
                }
                checked++;
            }
        }
        assertEquals(expected.size(), checked, "every reference row is checked");
    }

    static double[] roundToFloat(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (float) v[i];
        return out;
    }

    /** {@code exactAtRoundedInputs} is the FP64 value at the FP32-rounded inputs (unused for FP64). */
    static void close(double expected, double actual, double exactAtRoundedInputs, DType dtype, String where) {
        double err = Math.abs(expected - actual);
        boolean ok = dtype == DType.F64
                ? err <= 1e-12 * Math.abs(expected) || err <= 1e-15
                : err <= 1e-5 * Math.abs(expected) + 1e-6 + Math.abs(exactAtRoundedInputs - expected);
        assertTrue(ok, where + ": expected " + expected + " got " + actual + " (error " + err + ")");
    }
}
