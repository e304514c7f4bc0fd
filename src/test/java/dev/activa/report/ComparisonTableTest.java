package dev.activa.report;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.activa.autograd.Profiler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ComparisonTableTest {
    @TempDir Path dir;

    @Test
    void statsOnKnownNumbers() {
        var s = Stats.of(2, 4, 4, 4, 5, 5, 7, 9);
        assertEquals(5, s.mean(), 1e-12);
        assertEquals(Math.sqrt(32.0 / 7), s.std(), 1e-12, "sample std, n - 1");
        assertEquals(8, s.n());
        assertEquals(new Stats(3, 0, 1), Stats.of(3));
        assertTrue(Double.isNaN(Stats.of().mean()));
        assertEquals(0, Stats.of(1e9 + 0.1, 1e9 + 0.1, 1e9 + 0.1).std(), 1e-12, "no cancellation");
    }

    /** A run whose last epoch has the given validation top-1 (earlier epochs must not count). */
    private static RunLog run(String activation, String dataset, long seed, double finalTop1) {
        var log = RunLog.start(activation, dataset, seed, "test", "cpu", Map.of(), Instant.EPOCH);
        log = log.withEpoch(new EpochRecord(1, 9, 0, 9, 0.1, 0.2, 0.1, 0.1, 0.1, List.of(), 0.1, 1, 1, null));
        return log.withEpoch(new EpochRecord(2, 0.3, 0.9, 1 - finalTop1, finalTop1, 1, finalTop1 - 0.01,
                finalTop1 - 0.02, finalTop1 - 0.03, List.of(), 0.1, 1, 1, null));
    }

    private static ComparisonTable table() {
        return ComparisonTable.of(List.of(
                run("relu", "mnist", 1, 0.90), run("relu", "mnist", 2, 0.92), run("relu", "mnist", 3, 0.94),
                run("nami", "mnist", 1, 0.95),
                run("relu", "cifar10", 1, 0.5), run("relu", "cifar10", 2, 0.6),
                RunLog.start("elu", "mnist", 1, "test", "cpu", Map.of(), Instant.EPOCH))); // no epochs: left out
    }

    @Test
    void groupsBySeedAndComputesMeanAndSampleStd() {
        var rows = table().rows();
        assertEquals(3, rows.size());
        var cifar = rows.get(0);
        assertEquals(List.of("relu", "cifar10", 2), List.of(cifar.activation(), cifar.dataset(), cifar.n()));
        assertEquals(0.55, cifar.valTop1().mean(), 1e-12);
        assertEquals(Math.sqrt(0.005), cifar.valTop1().std(), 1e-12);
        var nami = rows.get(1);
        assertEquals("nami", nami.activation());
        assertEquals(new Stats(0.95, 0, 1), nami.valTop1());
        var relu = rows.get(2);
        assertEquals(List.of(1L, 2L, 3L), relu.seeds());
        assertEquals(0.92, relu.valTop1().mean(), 1e-12);
        assertEquals(0.02, relu.valTop1().std(), 1e-12);
        assertEquals(0.08, relu.valLoss().mean(), 1e-12);
        assertEquals(0.89, relu.valF1().mean(), 1e-12);
    }

    /** A peak before the last epoch: the best top-1 and its epoch per run, the first of ties, NaN skipped. */
    @Test
    void eachRunsBestEpochIsReportedBesideTheFinalOne() {
        var peaked = RunLog.start("swish", "cifar100", 0, "test", "cpu", Map.of(), Instant.EPOCH);
        var flat = RunLog.start("swish", "cifar100", 1, "test", "cpu", Map.of(), Instant.EPOCH);
        double[][] top1 = {{0.6, 0.8, 0.7, 0.8}, {Double.NaN, 0.5, 0.5, Double.NaN}};
        for (int e = 0; e < 4; e++) {
            peaked = peaked.withEpoch(epoch(e + 1, top1[0][e]));
            flat = flat.withEpoch(epoch(e + 1, top1[1][e]));
        }
        var row = ComparisonTable.of(List.of(peaked, flat)).rows().getFirst();
        assertEquals(0.65, row.bestValTop1().mean(), 1e-12, "0.8 and 0.5");
        assertEquals(2, row.bestEpoch().mean(), 1e-12, "epoch 2 both: the first of the tied 0.8s, and NaN skipped");
        assertTrue(Double.isNaN(row.valTop1().mean()), "the final epochs: 0.8 and NaN");
    }

    private static EpochRecord epoch(int epoch, double valTop1) {
        return new EpochRecord(epoch, 1, 0.5, 1, valTop1, 1, 0.5, 0.5, 0.5, List.of(), 0.1, 1, 1, null);
    }

    @Test
    void markdown() throws IOException {
        String expected = """
                Final-epoch validation metrics: mean ± sample standard deviation over seeds (n − 1 denominator; with n = 1 the std shows as 0); then each run's best validation top-1 over its epochs, and the epoch it came in.

                ## cifar10

                | Activation | n | Val top-1 | Val loss | Val precision | Val recall | Val F1 | Best val top-1 | at epoch |
                |---|---:|---:|---:|---:|---:|---:|---:|---:|
                | relu | 2 | 0.5500 ± 0.0707 | 0.4500 ± 0.0707 | 0.5400 ± 0.0707 | 0.5300 ± 0.0707 | 0.5200 ± 0.0707 | 0.5500 ± 0.0707 | 2.0 ± 0.0 |

                ## mnist

                | Activation | n | Val top-1 | Val loss | Val precision | Val recall | Val F1 | Best val top-1 | at epoch |
                |---|---:|---:|---:|---:|---:|---:|---:|---:|
                | nami | 1 | 0.9500 ± 0.0000 | 0.0500 ± 0.0000 | 0.9400 ± 0.0000 | 0.9300 ± 0.0000 | 0.9200 ± 0.0000 | 0.9500 ± 0.0000 | 2.0 ± 0.0 |
                | relu | 3 | 0.9200 ± 0.0200 | 0.0800 ± 0.0200 | 0.9100 ± 0.0200 | 0.9000 ± 0.0200 | 0.8900 ± 0.0200 | 0.9200 ± 0.0200 | 2.0 ± 0.0 |
                """;
        assertEquals(expected, table().toMarkdown());
        Path file = dir.resolve("summary.md");
        table().writeMarkdown(file);
        assertEquals(expected, Files.readString(file));
    }

    @Test
    void json() throws IOException {
        Path file = dir.resolve("summary.json");
        table().writeJson(file);
        var root = new ObjectMapper().readTree(file.toFile());
        var relu = root.get("rows").get(2);
        assertEquals("relu", relu.get("activation").asText());
        assertEquals("mnist", relu.get("dataset").asText());
        assertEquals(3, relu.get("n").asInt());
        assertEquals(0.92, relu.get("valTop1").get("mean").asDouble(), 1e-12);
        assertEquals(0.02, relu.get("valTop1").get("std").asDouble(), 1e-12);
        assertEquals(3, relu.get("seeds").size());
        assertEquals(root, new ObjectMapper().readTree(table().toJson()));
    }

    @Test
    void aDivergedRunShowsAsNaN() {
        var t = ComparisonTable.of(List.of(run("relu", "mnist", 1, 0.9), run("relu", "mnist", 2, Double.NaN)));
        assertTrue(Double.isNaN(t.rows().getFirst().valTop1().mean()));
        assertTrue(t.toMarkdown().contains("| relu | 2 | NaN ± NaN |"), t.toMarkdown());
    }

    private static RunLog profiled(String activation, long seed, double activationMillis, double addActivationMillis) {
        var entries = List.of(
                new Profiler.Entry("conv2d", false, 50, 20, 40, 20),
                new Profiler.Entry(activation, false, activationMillis / 2, 5, activationMillis / 2, 5),
                new Profiler.Entry("add+" + activation, false, addActivationMillis, 3, 0, 3),
                new Profiler.Entry(activation, true, 7, 1, 0, 0), // a phase of that name is not the activation
                new Profiler.Entry("sgd step", true, 5, 1, 0, 0));
        return run(activation, "mnist", seed, 0.9).withProfile(new Profiler.Report(1, 0, 200, 0.0, entries));
    }

    @Test
    void theActivationsShareOfTheStepComesFromProfiledRunsOnly() throws IOException {
        var table = ComparisonTable.of(List.of(profiled("nami", 1, 30, 10), profiled("nami", 2, 50, 10),
                profiled("relu", 1, 4, 2), run("mish", "mnist", 1, 0.9), profiled("mish", 2, 4, 4)));
        var byActivation = new java.util.HashMap<String, ComparisonTable.Row>();
        for (var row : table.rows()) byActivation.put(row.activation(), row);
        var nami = byActivation.get("nami").activationShare();
        assertEquals(0.25, nami.mean(), 1e-12, "(40 + 60) / 2 / 200");
        assertEquals(Math.sqrt(2 * 0.05 * 0.05), nami.std(), 1e-12);
        assertEquals(0.03, byActivation.get("relu").activationShare().mean(), 1e-12);
        assertNull(byActivation.get("mish").activationShare(), "one of its runs has no profile");
        String md = table.toMarkdown();
        assertTrue(md.contains("| Activation share of step |"), md);
        assertTrue(md.contains("| 25.0% ± 7.1% |") && md.contains("| not profiled |"), md);
        for (var row : new ObjectMapper().readTree(table.toJson()).get("rows"))
            assertEquals(!row.get("activation").asText().equals("mish"), row.get("activationShare").isObject(), row.toString());
        assertFalse(table().toMarkdown().contains("share"), "no column without profiles");
    }
}
