package dev.activa.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.activation.Activation;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.checkpoint.Safetensors;
import dev.activa.data.Dataset;
import dev.activa.nn.ResNet;
import dev.activa.optim.Sgd;
import dev.activa.tensor.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint loaded as a Classifier classifies as the run that wrote it did. */
class ClassifierTest {
    /** Two classes told apart by brightness, 28 × 28: a network learns them in an epoch. */
    private static Dataset data(int count, long seed) {
        var rng = new SplittableRandom(seed);
        byte[] pixels = new byte[count * 28 * 28];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            labels[i] = rng.nextInt(2);
            for (int j = 0; j < 784; j++) pixels[i * 784 + j] = (byte) (labels[i] * 100 + rng.nextInt(156));
        }
        return new Dataset("bright-dark", pixels, labels, count, 1, 28, 28, 2, List.of("dark", "bright"));
    }

    private static Trainer.Result train(Path dir, String activation, boolean mixed) {
        var model = new ResNet(new CpuBackend(), new ResNet.Config(18, 4, 1, 2, ResNet.Stem.CIFAR, activation), 3);
        var config = TrainConfig.defaults().withEpochs(1).withBatchSize(24).withRunDir(dir);
        if (mixed) config = config.withMixedPrecision(true);
        return new Trainer(model, new Sgd(model.parameters(), Sgd.Options.defaults(0.05)), data(96, 1), data(50, 2), config)
                .fit();
    }

    @Test
    void aLoadedCheckpointRepeatsTheRunsFinalFiguresInItsPrecision(@TempDir Path dir) {
        for (boolean mixed : new boolean[] {false, true}) {
            var run = train(dir.resolve(mixed ? "mixed" : "fp32"), "nami", mixed);
            var classifier = Classifier.load(run.checkpoint(), new CpuBackend());
            assertEquals(mixed ? DType.F16 : DType.F32, classifier.inputType());
            assertEquals(24, classifier.batchSize());
            var final_ = run.log().finalResult();
            var s = classifier.evaluate(data(50, 2));
            assertEquals(final_.loss(), s.loss(), "loss, mixed " + mixed);
            assertEquals(final_.top1(), s.top1(), "top-1, mixed " + mixed);
            assertEquals(final_.f1(), s.macroF1(), "macro F1, mixed " + mixed);
            // The precision matters: the same network fed FP32 inputs scores otherwise when it
            // trained in mixed precision (its FP16 rounding is part of what it computes).
            var inFp32 = new Classifier(classifier.model(), classifier.mean(), classifier.std(), DType.F32, 24);
            if (mixed) assertTrue(inFp32.evaluate(data(50, 2)).loss() != s.loss(), "FP32 inputs gave the FP16 loss");
            else assertEquals(s.loss(), inFp32.evaluate(data(50, 2)).loss());
        }
    }

    /** A loaded classifier stays in eval mode: threads classify with it at once, and it does not change. */
    @Test
    void severalThreadsClassifyWithOneLoadedClassifier(@TempDir Path dir) throws Exception {
        var run = train(dir, "nami", false);
        var classifier = Classifier.load(run.checkpoint(), new CpuBackend());
        Dataset test = data(50, 2);
        double alone = classifier.evaluate(test).loss();
        try (var threads = java.util.concurrent.Executors.newFixedThreadPool(4)) {
            var losses = new java.util.ArrayList<java.util.concurrent.Future<Double>>();
            for (int i = 0; i < 12; i++) losses.add(threads.submit(() -> classifier.evaluate(test).loss()));
            for (var loss : losses) assertEquals(alone, loss.get());
        }
        assertEquals(alone, classifier.evaluate(test).loss(), "the network changed");
        assertTrue(!classifier.model().isTraining());
    }

    @Test
    void itPredictsAsTheTrainerDoes(@TempDir Path dir) {
        var model = new ResNet(new CpuBackend(), new ResNet.Config(18, 4, 1, 2, ResNet.Stem.CIFAR, "relu"), 3);
        var trainer = new Trainer(model, new Sgd(model.parameters(), Sgd.Options.defaults(0.05)), data(96, 1), null,
                TrainConfig.defaults().withEpochs(6).withBatchSize(24).withAugment(false).withRunDir(dir));
        var run = trainer.fit();
        Dataset unseen = data(40, 9);
        int[] expected = trainer.predict(unseen);
        assertArrayEquals(expected, Classifier.load(run.checkpoint(), new CpuBackend()).predict(unseen));
        assertArrayEquals(expected, Classifier.load(run.checkpoint(), new CpuBackend()).withBatchSize(7).predict(unseen),
                "another batch size classified differently");
        var request = Dataset.unlabelled("request", unseen.pixels(), unseen.count(), 1, 28, 28);
        assertArrayEquals(expected, Classifier.load(run.checkpoint(), new CpuBackend()).predict(request),
                "the same images without labels classified differently");
        float[][] p = Classifier.load(run.checkpoint(), new CpuBackend()).probabilities(unseen);
        for (int i = 0; i < p.length; i++) {
            assertEquals(1, p[i][0] + p[i][1], 1e-6, "image " + i + "'s probabilities");
            assertEquals(expected[i], p[i][1] > p[i][0] ? 1 : 0, "image " + i + ": the likelier class is not the predicted one");
        }
        int right = 0;
        for (int i = 0; i < expected.length; i++) if (expected[i] == unseen.labels()[i]) right++;
        assertTrue(right > 30, "the network learnt little: " + right + " of 40 right");
    }

    @Test
    void anActivationDefinedInJavaIsPassedInAndMustMatch(@TempDir Path dir) {
        Activation softsign = Activation.define("softsign", (x, p) -> x / (1 + Math.abs(x)),
                (x, p) -> 1 / ((1 + Math.abs(x)) * (1 + Math.abs(x))));
        var model = new ResNet(new CpuBackend(), new ResNet.Config(18, 4, 1, 2, ResNet.Stem.CIFAR, softsign), 3);
        var run = new Trainer(model, new Sgd(model.parameters(), Sgd.Options.defaults(0.05)), data(48, 1), data(20, 2),
                TrainConfig.defaults().withEpochs(1).withBatchSize(24).withRunDir(dir)).fit();
        var s = Classifier.load(run.checkpoint(), new CpuBackend(), softsign).evaluate(data(20, 2));
        assertEquals(run.log().finalResult().loss(), s.loss());

        var none = assertThrows(IllegalArgumentException.class, () -> Classifier.load(run.checkpoint(), new CpuBackend()));
        assertTrue(none.getMessage().contains("'softsign', which is not one of the engine's")
                && none.getMessage().contains("Activation.define"), none.getMessage());
        var other = Activation.define("softplus", (x, p) -> Math.log1p(Math.exp(x)), (x, p) -> 1 / (1 + Math.exp(-x)));
        var wrong = assertThrows(IllegalArgumentException.class,
                () -> Classifier.load(run.checkpoint(), new CpuBackend(), other));
        assertTrue(wrong.getMessage().endsWith("holds a model with the activation 'softsign', not 'softplus'"),
                wrong.getMessage());
    }

    @Test
    void aCheckpointWithoutItsNormalisationSaysHowToBuildOne(@TempDir Path dir) throws Exception {
        var run = train(dir, "relu", false);
        var loaded = Safetensors.read(run.checkpoint());
        var metadata = new java.util.LinkedHashMap<>(loaded.metadata());
        metadata.remove("normalisation_mean");
        metadata.remove("normalisation_std");
        Path older = dir.resolve("older.safetensors");
        Safetensors.write(older, loaded.tensors(), metadata);
        var e = assertThrows(IllegalArgumentException.class, () -> Classifier.load(older, new CpuBackend()));
        assertTrue(e.getMessage().contains("does not record the mean and std") && e.getMessage().contains("network()"),
                e.getMessage());
        // the network itself still loads
        assertEquals(2, Classifier.network(older, new CpuBackend(), null).config().classes());
    }

    @Test
    void imagesWithAnotherChannelCountAreRefused(@TempDir Path dir) {
        var run = train(dir, "relu", false);
        var rgb = new Dataset("rgb", new byte[2 * 3 * 28 * 28], new int[2], 2, 3, 28, 28, 2, List.of("a", "b"));
        var e = assertThrows(IllegalArgumentException.class,
                () -> Classifier.load(run.checkpoint(), new CpuBackend()).predict(rgb));
        assertEquals("classifier: rgb has 3-channel images, but the network takes 1", e.getMessage());
    }
}
