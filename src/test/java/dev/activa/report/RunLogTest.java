package dev.activa.report;

import static org.junit.jupiter.api.Assertions.*;

import dev.activa.report.ClassificationMetrics.ClassStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunLogTest {
    @TempDir Path dir;

    static EpochRecord epoch(int n, double valTop1, double valLoss) {
        return new EpochRecord(n, 1.0 / n, 0.5 + 0.01 * n, valLoss, valTop1, 0.99, 0.8, 0.7, 0.75,
                List.of(new ClassStats(0, 0.9, 0.8, 0.847, 60), new ClassStats(1, 0.1, 0.2, 0.133, 40)),
                0.1 / n, 12.5, 4800.0, n % 2 == 0 ? null : 65536.0);
    }

    static RunLog sampleLog() {
        var config = new LinkedHashMap<String, Object>();
        config.put("model", "mlp");
        config.put("width", 256);
        config.put("epochs", 3);
        config.put("lr", 0.05);
        config.put("batch", 128);
        config.put("optimizer", "sgd-momentum");
        config.put("schedule", Map.of("kind", "cosine", "warmup", 1));
        config.put("precision", "fp16");
        config.put("layers", List.of(784, 256, 10));
        return RunLog.start("tanhrelu", "fashion-mnist", 42, "0.1.0", "NVIDIA H100", config,
                        Instant.parse("2025-01-02T03:04:05.123Z"))
                .withEpoch(epoch(1, 0.80, 0.55))
                .withEpoch(epoch(2, 0.85, Double.NaN))
                .withEpoch(epoch(3, 0.87, 0.40));
    }

    @Test
    void fileNames() {
        assertEquals("tanhrelu_fashion-mnist.json", RunLog.fileName("tanhrelu", "fashion-mnist", null));
        assertEquals("relu_cifar10_seed2.json", RunLog.fileName("relu", "cifar10", "seed2"));
        assertEquals("relu_cifar10.json", RunLog.fileName("ReLU", "CIFAR10", ""));
        assertEquals("a-b_-.-c.json", RunLog.fileName("a/b", "..\\c", null), "never a path");
    }

    @Test
    void roundTripsThroughJson() throws IOException {
        var log = sampleLog().completed(new FinalResult("test", 0.41, 0.86, 0.99, 0.85, 0.86, 0.855, 97.5));
        Path file = dir.resolve(RunLog.fileName(log.activation(), log.dataset(), null));
        log.write(file);
        var back = RunLog.read(file);
        assertEquals(log, back);
        assertTrue(Double.isNaN(back.epochs().get(1).valLoss()), "NaN survives");
        assertNull(back.epochs().get(1).lossScale());
        assertEquals(65536.0, back.epochs().get(0).lossScale());
        assertEquals(List.of("model", "width", "epochs", "lr", "batch", "optimizer", "schedule", "precision", "layers"),
                List.copyOf(back.config().keySet()), "config keeps its order");
        assertEquals("completed", back.status());

        String json = Files.readString(file);
        assertTrue(json.contains("\n  \"activation\" : \"tanhrelu\""), "pretty-printed:\n" + json);
        assertTrue(json.contains("\"class\" : 1"), json);
        assertTrue(json.contains("\"startedAt\" : \"2025-01-02T03:04:05.123Z\""), json);
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temp file left");
        }
    }

    @Test
    void runningAndStoppedLogsRoundTrip() throws IOException {
        Path file = dir.resolve("x.json");
        var running = sampleLog();
        running.write(file);
        assertEquals(running, RunLog.read(file));
        assertEquals("running", RunLog.read(file).status());
        assertNull(RunLog.read(file).finalResult());

        var stopped = running.stopped("loss is NaN at epoch 2", null);
        stopped.write(file);
        assertEquals("stopped: loss is NaN at epoch 2", RunLog.read(file).status());
    }

    @Test
    void epochsMustIncrease() {
        var log = sampleLog();
        var e = assertThrows(IllegalArgumentException.class, () -> log.withEpoch(epoch(3, 0.9, 0.3)));
        assertTrue(e.getMessage().contains("epoch 3 follows epoch 3"), e.getMessage());
    }

    @Test
    void metricByName() {
        var e = epoch(2, 0.85, 0.3);
        assertEquals(0.85, e.metric("valTop1"));
        assertEquals(0.3, e.metric("valLoss"));
        assertTrue(Double.isNaN(e.metric("lossScale")));
        assertThrows(IllegalArgumentException.class, () -> e.metric("accuracy"));
    }

    // --- malformed logs name the file and the problem ---

    private String goodJson() throws IOException {
        Path file = dir.resolve("good.json");
        sampleLog().write(file);
        return Files.readString(file);
    }

    private void assertMalformed(String json, String... expected) throws IOException {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, json);
        var e = assertThrows(IOException.class, () -> RunLog.read(file));
        assertTrue(e.getMessage().startsWith(file + ": malformed run log: "), e.getMessage());
        for (String part : expected) assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
    }

    @Test
    void truncatedFile() throws IOException {
        String json = goodJson();
        assertMalformed(json.substring(0, json.length() / 2), "line");
        assertMalformed("", "No content");
    }

    @Test
    void missingField() throws IOException {
        assertMalformed(goodJson().replaceFirst("\"valTop1\" : [^,]*,", ""), "valTop1");
        assertMalformed(goodJson().replace("\"seed\" : 42,", ""), "seed");
    }

    @Test
    void wrongTypesAndNulls() throws IOException {
        assertMalformed(goodJson().replaceFirst("\"valTop1\" : [^,]*,", "\"valTop1\" : \"high\","),
                "epochs[0].valTop1", "high");
        assertMalformed(goodJson().replaceFirst("\"trainLoss\" : [^,]*,", "\"trainLoss\" : null,"), "epochs[0].trainLoss");
        assertMalformed(goodJson().replace("\"fashion-mnist\"", "null"), "dataset");
    }

    @Test
    void unknownFieldBadDateAndOrder() throws IOException {
        assertMalformed(goodJson().replace("\"seed\" : 42,", "\"seed\" : 42, \"sed\" : 1,"), "sed");
        assertMalformed(goodJson().replace("2025-01-02T03:04:05.123Z", "yesterday"), "not an ISO-8601 instant");
        assertMalformed(goodJson().replace("\"epoch\" : 3", "\"epoch\" : 1"), "epochs must increase");
        assertMalformed(goodJson() + "{}", "Trailing token");
    }
}
