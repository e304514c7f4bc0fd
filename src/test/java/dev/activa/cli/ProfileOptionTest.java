package dev.activa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.autograd.Profiler;
import dev.activa.data.DataFiles;
import dev.activa.report.RunLog;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --profile}: each op's time per training step, printed and kept in the run log. */
class ProfileOptionTest {
    /** Writes a small Fashion-MNIST (that many training images, 16 test images) into dir and runs the verb on it, width 4, batch 16. */
    private static ActivationsCommandTest.Result onData(Path dir, int trainImages, String... command) throws Exception {
        DataFiles.writeFashionMnist(dir, "train", trainImages, 28, 28, 1);
        DataFiles.writeFashionMnist(dir, "t10k", 16, 28, 28, 2);
        var argv = new java.util.ArrayList<>(java.util.List.of(command));
        argv.addAll(java.util.List.of("--data", dir.toString(), "--width", "4", "--batch", "16", "--quiet"));
        return ActivationsCommandTest.run(argv.toArray(String[]::new));
    }

    @Test
    void trainPrintsAndLogsWhereTheTrainingStepsTimeWent(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("runs");
        var r = onData(dir, 48, "train", "--epochs", "2", "--activation", "nami", "--profile", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("profile of the training steps:\nms per step (5 of 6)"), r.out());
        assertTrue(r.out().contains("(the first step not timed: warm-up"), r.out());
        for (String line : new String[] {"conv2d", "batchnorm2d", "add+nami", "[data wait]", "[input copy]", "[metrics]",
                "[sgd step]", "(between ops)"})
            assertTrue(r.out().contains(line), line + " missing:\n" + r.out());

        Path logFile = out.resolve("nami_fashion-mnist.json");
        Profiler.Report profile = RunLog.read(logFile).profile();
        assertEquals(5, profile.steps(), "3 batches of 16 in each of 2 epochs, the first a quarter of 6 (rounded down) left out");
        assertEquals(1, profile.warmupSteps());
        var nami = profile.entries().stream().filter(e -> e.name().equals("nami") && !e.phase()).findFirst().orElseThrow();
        assertTrue(nami.forwardCalls() > 0 && nami.forwardCalls() == nami.backwardCalls(), nami.toString());
        assertTrue(profile.coveredMillis() <= profile.activeMillis(), profile.toString());
        String json = Files.readString(logFile);
        assertTrue(json.contains("\"profile\"") && json.contains("\"backwardMillis\""), json);
        Path older = dir.resolve("older.json"); // a log written before warmupSteps existed still reads
        Files.writeString(older, json.replaceFirst("\"warmupSteps\"\\s*:\\s*1\\s*,", ""));
        assertTrue(!Files.readString(older).contains("warmupSteps"));
        assertEquals(0, RunLog.read(older).profile().warmupSteps());
    }

    @Test
    void compareReportsEachActivationsShareOfTheStep(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("cmp");
        var r = onData(dir, 32, "compare", "--activations", "relu,nami", "--epochs", "1", "--profile", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        String md = Files.readString(out.resolve("summary.md"));
        assertTrue(md.contains("Activation share of step"), md);
        var rows = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("summary.json").toFile()).get("rows");
        assertEquals(2, rows.size());
        for (var row : rows) {
            double share = row.get("activationShare").get("mean").asDouble();
            assertTrue(share > 0 && share < 1, row.toString());
        }
    }

    @Test
    void withoutTheFlagTheLogHasNoProfile(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("runs");
        var r = onData(dir, 16, "train", "--epochs", "1", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(!r.out().contains("profile"), r.out());
        assertNull(RunLog.read(out.resolve("relu_fashion-mnist.json")).profile());
        assertTrue(!Files.readString(out.resolve("relu_fashion-mnist.json")).contains("\"profile\""),
                "the field is absent, so that readers that predate it still read the log");
    }

    @Test
    void demoProfilesTheStepsAfterTheFirst() {
        var r = ActivationsCommandTest.run("demo", "--width", "4", "--batch", "4", "--size", "16", "--steps", "3",
                "--activation", "mish", "--profile");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("profile:\nms per step (2 of 3)"), r.out());
        assertTrue(r.out().contains("add+mish") && r.out().contains("[sgd step]"), r.out());
    }
}
