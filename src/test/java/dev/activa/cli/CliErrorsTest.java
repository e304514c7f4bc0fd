package dev.activa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** User mistakes: a clear message, a non-zero exit and no stack trace. */
class CliErrorsTest {
    private static ActivationsCommandTest.Result run(String... args) {
        return ActivationsCommandTest.run(args);
    }

    private static void noStackTrace(ActivationsCommandTest.Result r) {
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), r.err());
    }

    @Test
    void missingDataFolderNamesItAndHowToGetTheData(@TempDir Path dir) {
        var r = run("train", "--dataset", "cifar10", "--data", dir.resolve("nowhere").toString(), "--epochs", "1");
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("nowhere"), r.err());
        noStackTrace(r);
    }

    @Test
    void truncatedFileNamesFileAndSizes(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("test_batch.bin"), new byte[3073 * 10]);
        for (int i = 1; i <= 5; i++) Files.write(dir.resolve("data_batch_" + i + ".bin"), new byte[100]);
        var r = run("train", "--dataset", "cifar10", "--data", dir.toString());
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("data_batch_1.bin") && r.err().contains("100"), r.err());
        noStackTrace(r);
    }

    @Test
    void invalidFlagsAreUsageErrors() {
        var unknown = run("train", "--epochz", "3");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("unknown option --epochz") && unknown.err().contains("usage: activa train"));
        var badNumber = run("train", "--lr", "fast");
        assertEquals(2, badNumber.status());
        assertTrue(badNumber.err().contains("--lr must be a number"), badNumber.err());
        var badPreset = run("train", "--preset", "imagenet");
        assertEquals(2, badPreset.status());
        assertTrue(badPreset.err().contains("unknown --preset"), badPreset.err());
        assertEquals(2, run("frobnicate").status());
        noStackTrace(badNumber);
    }

    @Test
    void cudaWithoutTheBackendIsAClearError() {
        var r = run("demo", "--device", "cuda", "--steps", "1");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--device cuda"), r.err());
    }

    @Test
    void plotsAnActivationAndItsDerivative(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("nami.png");
        var r = run("plot", "--activation", "nami", "--range", "-4,4", "--out", png.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.size(png) > 1000);
        assertEquals(2, run("plot", "--activation", "nami", "--range", "4,-4").status());
    }
}
