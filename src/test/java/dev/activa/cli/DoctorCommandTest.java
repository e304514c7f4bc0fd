package dev.activa.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.activa.backend.cuda.CudaDriver;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DoctorCommandTest {
    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int exit = DoctorCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void withoutAGpuItSaysSoAndExitsOne() {
        assumeFalse(CudaDriver.isAvailable(), "this machine has a CUDA driver");
        Run r = run();
        assertEquals(1, r.exit());
        assertTrue(r.out().contains("FAIL  CUDA driver"), r.out());
        assertTrue(r.out().contains("libcuda.so.1"), r.out());
        assertTrue(r.out().contains("No GPU"), r.out());
        assertTrue(r.out().contains("ok    JVM"), r.out());
        assertTrue(r.out().contains("skip  Kernel proof"), r.out());
        assertFalse(r.out().contains("\tat "), "no stack trace: " + r.out());
        assertEquals("", r.err());
    }

    @Test
    void jsonCarriesTheSameChecks() throws Exception {
        assumeFalse(CudaDriver.isAvailable(), "this machine has a CUDA driver");
        Run r = run("--json");
        assertEquals(1, r.exit());
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertFalse(report.get("ok").asBoolean());
        assertEquals(1, report.get("exitCode").asInt());
        assertTrue(report.get("summary").asText().startsWith("No GPU"));
        List<String> ids = new ArrayList<>();
        for (JsonNode check : report.get("checks")) {
            ids.add(check.get("id").asText());
            for (String field : List.of("title", "status", "message", "searched", "data")) {
                assertTrue(check.has(field), field + " missing in " + check);
            }
        }
        assertArrayEquals(new String[] {"jvm", "driver", "gpus", "kernels", "cudnn", "cublas", "proof-activation",
                "proof-conv", "proof-gemm"}, ids.toArray());
        JsonNode driver = report.get("checks").get(1);
        assertEquals("fail", driver.get("status").asText());
        assertTrue(driver.get("message").asText().contains("libcuda.so.1"));
        assertTrue(driver.get("fix").asText().contains("NVIDIA driver"));
        assertTrue(driver.get("searched").size() > 0);
        assertEquals("ok", report.get("checks").get(0).get("status").asText());
        assertEquals("skip", report.get("checks").get(2).get("status").asText());
    }

    @Test
    void unknownFlagIsAUsageError() {
        Run r = run("--verbose");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("unknown option '--verbose'"), r.err());
        assertTrue(r.err().contains("usage: activa doctor"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void helpPrintsUsage() {
        Run r = run("--help");
        assertEquals(0, r.exit());
        assertTrue(r.out().startsWith("usage: activa doctor [--json]"), r.out());
    }

    @Test
    void cpuReferencesAreRight() {
        // 1×1×3×3 input, one 3×3 filter of ones, pad 1: each output is the sum of its 3×3 neighbourhood.
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        float[] w = new float[9];
        java.util.Arrays.fill(w, 1);
        float[] y = DoctorCommand.convolve(x, w, 1, 1, 3, 3, 1, 3, 1);
        assertArrayEquals(new float[] {12, 21, 16, 27, 45, 33, 24, 39, 28}, y);
        assertEquals(0.25, DoctorCommand.relativeError(new float[] {1, 2.5f}, new float[] {1, 2}), 1e-9, "0.5 off, scaled by the largest reference, 2");
    }
}
