package dev.activa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.activa.backend.cuda.CudaStack;
import dev.activa.data.DataFiles;

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
        var r = run("train", "--dataset", "cifar10", "--data", dir.toString(), "--epochs", "1");
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
        // compare checks every run's names before the first run starts
        var typo = run("compare", "--activations", "relu,nmai", "--epochs", "1", "--data", "/nowhere");
        assertEquals(2, typo.status());
        assertTrue(typo.err().contains("unknown activation 'nmai'") && typo.out().isEmpty(), typo.err() + typo.out());
        var noEpochs = run("compare", "--activations", "relu", "--datasets", "fashion-mnist,cifar100");
        assertEquals(2, noEpochs.status());
        assertTrue(noEpochs.err().contains("compare: how many epochs?"), noEpochs.err());
        var badSet = run("compare", "--activations", "relu", "--datasets", "CIFAR-10,cifar1000", "--epochs", "1");
        assertEquals(1, badSet.status());
        assertTrue(badSet.err().contains("Unknown dataset 'cifar1000'") && badSet.out().isEmpty(), badSet.err() + badSet.out());
        noStackTrace(badNumber);
    }

    @Test
    void withoutAPresetTheEpochsMustBeGivenAndTheBatchIs128(@TempDir Path dir) throws Exception {
        var noEpochs = run("train", "--activation", "nami", "--data", dir.resolve("nowhere").toString());
        assertEquals(2, noEpochs.status(), noEpochs.err());
        assertTrue(noEpochs.err().contains("Give --epochs N, or a --preset (cifar100-resnet50, fashion-resnet18, quickstart)"),
                noEpochs.err());
        noStackTrace(noEpochs);
        DataFiles.writeFashionMnist(dir, "train", 130, 28, 28, 1);
        DataFiles.writeFashionMnist(dir, "t10k", 20, 28, 28, 2);
        var r = run("train", "--data", dir.toString(), "--epochs", "1", "--width", "4", "--quiet",
                "--out", dir.resolve("runs").toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("130 train / 20 test images, 1 epochs, batch 128,"), r.out());
        assertTrue(Files.exists(dir.resolve("runs").resolve("relu_fashion-mnist.json")), r.out());
    }

    @Test
    void cudaWithoutTheGpuStackIsAClearError() {
        assumeTrue(CudaStack.missing() != null, "the whole CUDA stack is present here");
        var r = run("demo", "--device", "cuda", "--steps", "1");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--device cuda") && r.err().contains("activa doctor"), r.err());
        assertTrue(r.err().contains(CudaStack.missing().missing()), r.err());
    }

    @Test
    void autoFallsBackToTheCpuWithOneLineNamingWhatIsMissing() {
        assumeTrue(CudaStack.missing() != null, "the whole CUDA stack is present here");
        var notes = new java.io.ByteArrayOutputStream();
        var backend = Devices.open("auto", new java.io.PrintStream(notes, true, java.nio.charset.StandardCharsets.UTF_8));
        assertEquals("cpu", backend.name());
        String text = notes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(1, text.lines().count(), text);
        assertTrue(text.startsWith("device: auto → cpu (CUDA unavailable: ") && text.contains(CudaStack.missing().missing()), text);
    }

    @Test
    void activationsOnTheGpuComputeInFp32OrFp16() {
        var cpu = new dev.activa.backend.cpu.CpuBackend();
        var gpu = (dev.activa.backend.Backend) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {dev.activa.backend.Backend.class}, (proxy, method, args) -> "cuda"); // only name() is asked
        assertEquals(dev.activa.tensor.DType.F64, ActivationsCommand.dtypeFor(cpu, null));
        assertEquals(dev.activa.tensor.DType.F32, ActivationsCommand.dtypeFor(gpu, null));
        assertEquals(dev.activa.tensor.DType.F16, ActivationsCommand.dtypeFor(gpu, "fp16"));
        var e = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class, () -> ActivationsCommand.dtypeFor(gpu, "fp64"));
        assertTrue(e.getMessage().contains("--device cpu for fp64"), e.getMessage());
    }

    @Test
    void plotsAnActivationAndItsDerivative(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("nami.png");
        var r = run("plot", "--activation", "nami", "--range", "-4,4", "--out", png.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.size(png) > 1000);
        assertEquals(2, run("plot", "--activation", "nami", "--range", "4,-4").status());
        var logsToAFile = run("plot", "--logs", dir.resolve("a.json").toString(), "--out", dir.resolve("chart.png").toString());
        assertEquals(2, logsToAFile.status());
        assertTrue(logsToAFile.err().contains("--out names a folder"), logsToAFile.err());
        assertFalse(Files.exists(dir.resolve("chart.png")));
    }

    /** A metric the logs lack, or misspell, is a usage error before any chart is written. */
    @Test
    void plotsOfAMetricTheLogsLackAreAUsageError(@TempDir Path dir) throws Exception {
        Path fp32 = dir.resolve("relu_tiny.json");
        dev.activa.report.RunLog.start("relu", "tiny", 0, "test", "cpu", java.util.Map.of(), java.time.Instant.EPOCH)
                .withEpoch(new dev.activa.report.EpochRecord(1, 1.2, 0.5, 1.3, 0.4, 0.9, 0.4, 0.4, 0.4,
                        java.util.List.of(), 0.1, 2, 100, null))
                .write(fp32);
        var lossScale = run("plot", "--logs", fp32.toString(), "--metric", "lossScale", "--out", dir.resolve("a").toString());
        assertEquals(2, lossScale.status(), lossScale.err());
        assertTrue(lossScale.err().contains("none of the logs has a value of lossScale (it is logged for mixed-precision runs only)"),
                lossScale.err());
        var typo = run("plot", "--logs", fp32.toString(), "--metric", "valAcc", "--out", dir.resolve("b").toString());
        assertEquals(2, typo.status(), typo.err());
        assertTrue(typo.err().contains("unknown metric 'valAcc'; choose one of [trainLoss"), typo.err());
        assertFalse(Files.exists(dir.resolve("a")) || Files.exists(dir.resolve("b")), "nothing written");
        var fine = run("plot", "--logs", fp32.toString(), "--metric", "valLoss", "--out", dir.resolve("c").toString());
        assertEquals(0, fine.status(), fine.err());
        assertTrue(Files.exists(dir.resolve("c").resolve("comparison_valLoss.png")));
    }
}
