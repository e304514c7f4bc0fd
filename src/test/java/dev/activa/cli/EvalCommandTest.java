package dev.activa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.checkpoint.Safetensors;
import dev.activa.data.DataFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCommandTest {
    /**
     * Training on the first 64 of 160 images (dark ones; the rest are bright), then evaluating the
     * checkpoint: eval must normalise as training did, by the 64 images' statistics that the
     * checkpoint records, not the whole training split's, and so print the training's own result.
     */
    @Test
    void evalOfACheckpointRepeatsTheTrainingsFinalResult(@TempDir Path dir) throws Exception {
        int count = 160, plane = 28 * 28;
        byte[] pixels = new byte[count * plane];
        var rng = new SplittableRandom(3);
        for (int i = 0; i < pixels.length; i++) pixels[i] = (byte) (i < 64 * plane ? rng.nextInt(100) : 150 + rng.nextInt(106));
        DataFiles.writeFashionMnist(dir, "train", count, 28, 28, pixels);
        DataFiles.writeFashionMnist(dir, "t10k", 40, 28, 28, 2);
        var train = ActivationsCommandTest.run("train", "--data", dir.toString(), "--epochs", "1", "--width", "4",
                "--train-limit", "64", "--batch", "16", "--quiet", "--out", dir.resolve("runs").toString());
        assertEquals(0, train.status(), train.err());
        var eval = ActivationsCommandTest.run("eval", "--checkpoint",
                dir.resolve("runs").resolve("relu_fashion-mnist.safetensors").toString(), "--data", dir.toString());
        assertEquals(0, eval.status(), eval.err());

        var trained = Pattern.compile("result: test top-1 ([0-9.]+)%, loss ([0-9.]+), macro F1 ([0-9.]+)").matcher(train.out());
        var evaluated = Pattern.compile("loss ([0-9.]+), top-1 ([0-9.]+)%.* F1 ([0-9.]+)").matcher(eval.out());
        assertTrue(trained.find(), train.out());
        assertTrue(evaluated.find(), eval.out());
        assertEquals(trained.group(2), evaluated.group(1), "loss\n" + train.out() + eval.out());
        assertEquals(trained.group(1), evaluated.group(2), "top-1");
        assertEquals(trained.group(3), evaluated.group(3), "macro F1");

        // A checkpoint without the normalisation (as older ones) still evaluates, by the whole
        // training split's statistics: here all 160 images, so other figures than the run's.
        Path checkpoint = dir.resolve("runs").resolve("relu_fashion-mnist.safetensors");
        var loaded = Safetensors.read(checkpoint);
        var metadata = new java.util.LinkedHashMap<>(loaded.metadata());
        metadata.remove("normalisation_mean");
        metadata.remove("normalisation_std");
        Path older = dir.resolve("older.safetensors");
        Safetensors.write(older, loaded.tensors(), metadata);
        var fallback = ActivationsCommandTest.run("eval", "--checkpoint", older.toString(), "--data", dir.toString());
        assertEquals(0, fallback.status(), fallback.err());
        var other = Pattern.compile("loss ([0-9.]+), top-1").matcher(fallback.out());
        assertTrue(other.find(), fallback.out());
        assertNotEquals(trained.group(2), other.group(1), "normalised by other statistics: " + fallback.out());
    }

    @Test
    void aDatasetOfAnotherShapeIsAUsageError(@TempDir Path dir) throws Exception {
        DataFiles.writeFashionMnist(dir, "train", 32, 28, 28, 1);
        DataFiles.writeFashionMnist(dir, "t10k", 20, 28, 28, 2);
        var train = ActivationsCommandTest.run("train", "--data", dir.toString(), "--epochs", "1", "--width", "4",
                "--batch", "16", "--quiet", "--out", dir.resolve("runs").toString());
        assertEquals(0, train.status(), train.err());
        Path cifar = Files.createDirectories(dir.resolve("cifar"));
        byte[] records = new byte[3073 * 10000];
        Files.write(cifar.resolve("test_batch.bin"), records);
        var eval = ActivationsCommandTest.run("eval", "--checkpoint",
                dir.resolve("runs").resolve("relu_fashion-mnist.safetensors").toString(), "--dataset", "cifar10",
                "--data", cifar.toString());
        assertEquals(2, eval.status(), eval.err());
        assertTrue(eval.err().contains("1-channel images and 10 classes (fashion-mnist); cifar10 has 3 channels"), eval.err());
    }
    /** A model trained through the API with an activation of its own: the CLI cannot rebuild it, and says so. */
    @Test
    void aCheckpointWithAnActivationDefinedInJavaIsAUsageErrorThatSaysSo(@TempDir Path dir) {
        DataFiles.writeFashionMnist(dir, "train", 32, 28, 28, 1);
        DataFiles.writeFashionMnist(dir, "t10k", 16, 28, 28, 2);
        var data = dev.activa.data.Datasets.open("fashion-mnist", dir, dev.activa.data.Split.TRAIN);
        var softsign = dev.activa.activation.Activation.define("softsign", (x, p) -> x / (1 + Math.abs(x)),
                (x, p) -> 1 / ((1 + Math.abs(x)) * (1 + Math.abs(x))));
        var model = new dev.activa.nn.ResNet(new dev.activa.backend.cpu.CpuBackend(),
                new dev.activa.nn.ResNet.Config(18, 4, 1, 10, dev.activa.nn.ResNet.Stem.CIFAR, softsign), 0);
        var result = new dev.activa.train.Trainer(model, new dev.activa.optim.Sgd(model.parameters(),
                dev.activa.optim.Sgd.Options.defaults(0.05)), data, null, dev.activa.train.TrainConfig.defaults()
                .withEpochs(1).withBatchSize(16).withRunDir(dir.resolve("runs"))).fit();
        assertTrue(result.checkpoint().getFileName().toString().startsWith("softsign_"), result.checkpoint().toString());
        var eval = ActivationsCommandTest.run("eval", "--checkpoint", result.checkpoint().toString(), "--data", dir.toString());
        assertEquals(2, eval.status(), eval.err());
        assertTrue(eval.err().contains("the activation 'softsign', which is not one of the engine's")
                && eval.err().contains("evaluated through the API"), eval.err());
    }

    /** Checkpoints before the activation's name was canonical hold it as typed (silu, Swish): they still evaluate. */
    @Test
    void aCheckpointNamingItsActivationByAnAliasEvaluates(@TempDir Path dir) throws Exception {
        DataFiles.writeFashionMnist(dir, "train", 32, 28, 28, 1);
        DataFiles.writeFashionMnist(dir, "t10k", 16, 28, 28, 2);
        var train = ActivationsCommandTest.run("train", "--data", dir.toString(), "--epochs", "1", "--width", "4",
                "--activation", "swish", "--batch", "16", "--quiet", "--out", dir.resolve("runs").toString());
        assertEquals(0, train.status(), train.err());
        Path checkpoint = dir.resolve("runs").resolve("swish_fashion-mnist.safetensors");
        var loaded = Safetensors.read(checkpoint);
        var metadata = new java.util.LinkedHashMap<>(loaded.metadata());
        assertTrue(metadata.get("model").endsWith(",swish"), metadata.get("model"));
        metadata.put("model", metadata.get("model").replace(",swish", ",silu"));
        Path older = dir.resolve("older.safetensors");
        Safetensors.write(older, loaded.tensors(), metadata);
        var eval = ActivationsCommandTest.run("eval", "--checkpoint", older.toString(), "--data", dir.toString());
        assertEquals(0, eval.status(), eval.err());
        var trained = Pattern.compile("loss ([0-9.]+), macro F1").matcher(train.out());
        assertTrue(trained.find() && eval.out().contains("loss " + trained.group(1)), train.out() + eval.out());
    }
}
