package dev.activa.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.autograd.Ops;
import dev.activa.backend.Backend;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.data.Dataset;
import dev.activa.nn.ActivationLayer;
import dev.activa.nn.Module;
import dev.activa.nn.ResNet;
import dev.activa.optim.LossScaler;
import dev.activa.optim.Sgd;
import dev.activa.report.RunLog;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    private final Backend cpu = new CpuBackend();

    private ResNet model(String activation) {
        return new ResNet(cpu, new ResNet.Config(18, 4, 1, 4, ResNet.Stem.CIFAR, activation), 11);
    }

    private static Sgd sgd(Module m, double lr) {
        return new Sgd(m.parameters(), new Sgd.Options(lr, 0.9, 5e-4, false, false));
    }

    @Test
    void overfitsASmallBatchToFullAccuracy() {
        Dataset data = TinyData.make(16, 1);
        var model = model("tanhrelu");
        var config = TrainConfig.defaults().withEpochs(40).withBatchSize(16).withAugment(false);
        var trainer = new Trainer(model, sgd(model, 0.05), data, data, config);
        var result = trainer.fit();
        assertEquals(1.0, result.log().finalResult().top1(), "every training image is classified right");
        assertEquals(RunLog.COMPLETED, result.log().status());
        assertEquals(40, result.log().epochs().size());
    }

    @Test
    void anInjectedOverflowSkipsExactlyOneStepAndHalvesTheScale() {
        Dataset data = TinyData.make(32, 2);
        var model = model("mish");
        var config = TrainConfig.defaults().withEpochs(2).withBatchSize(8).withMixedPrecision(true);
        // A modest initial scale, so that the only overflow is the injected one.
        var trainer = new Trainer(model, sgd(model, 0.01), data, null, config).useLossScaler(new LossScaler(256, 0, 0));
        long poisoned = 3;
        List<float[]> beforeStep = new ArrayList<>();
        List<Boolean> changed = new ArrayList<>();
        trainer.addCallback(new Callback() {
            @Override
            public void afterBackward(long step, List<Module.Parameter> params) {
                Tensor w = params.getFirst().tensor();
                beforeStep.add(w.toFloats());
                if (step == poisoned) {
                    float[] g = w.grad().toFloats();
                    g[0] = Float.POSITIVE_INFINITY;
                    w.setGrad(w.backend().fromFloats(g, DType.F32, w.shape()));
                }
            }

            @Override
            public void onStep(Step s, Control c) {
                float[] after = model.parameters().getFirst().tensor().toFloats();
                changed.add(!java.util.Arrays.equals(after, beforeStep.getLast()));
                assertEquals(s.step() == poisoned, s.skipped(), "step " + s.step());
            }
        });
        trainer.fit();
        LossScaler scaler = trainer.lossScaler();
        assertEquals(1, scaler.skippedSteps());
        assertEquals(128, scaler.scale());
        for (int s = 0; s < changed.size(); s++) assertEquals(s != poisoned, changed.get(s), "weights moved at step " + s);
    }

    /**
     * Nami too: its kernels (own exp and sine, ordered lane sums) give the same bits in every JIT
     * tier. And mixed precision, whose loss scale and clean-step count the checkpoint carries.
     */
    @ParameterizedTest
    @CsvSource({"relu, false", "nami, false", "nami, true"})
    void oneEpochPlusAResumedEpochEqualsTwoEpochsStraight(String activation, boolean mixed, @TempDir Path dir) throws Exception {
        Dataset data = TinyData.make(48, 3);
        var config = TrainConfig.defaults().withEpochs(2).withBatchSize(16).withSeed(5).withMixedPrecision(mixed);

        var straight = model(activation);
        new Trainer(straight, sgd(straight, 0.05), data, data, config.withRunDir(dir.resolve("a"))).fit();

        var first = model(activation);
        var interrupted = new Trainer(first, sgd(first, 0.05), data, data, config.withRunDir(dir.resolve("b")));
        interrupted.addCallback(new Callback() {
            @Override
            public void onEpoch(dev.activa.report.EpochRecord r, Control c) {
                c.stop("interrupted for the test");
            }
        });
        var stopped = interrupted.fit();
        assertTrue(stopped.log().status().startsWith("stopped"), stopped.log().status());
        assertEquals(1, stopped.log().epochs().size());

        var resumedModel = new ResNet(cpu, new ResNet.Config(18, 4, 1, 4, ResNet.Stem.CIFAR, activation), 999);
        var resumed = new Trainer(resumedModel, sgd(resumedModel, 0.05), data, data, config.withRunDir(dir.resolve("b")));
        var result = resumed.resumeFrom(stopped.checkpoint()).fit();
        assertEquals(2, result.log().epochs().size(), "the log carries on from the first epoch");
        assertEquals(1, ((Number) result.log().config().get("resumedAfterEpoch")).intValue());
        assertEquals(2, ((Number) result.log().config().get("epochs")).intValue());

        Map<String, Tensor> a = straight.state(), b = resumedModel.state();
        assertEquals(a.keySet(), b.keySet());
        for (String name : a.keySet()) assertArrayEquals(a.get(name).toFloats(), b.get(name).toFloats(), name);
    }

    /**
     * Nothing is global: two trainings running at once, in two threads (one backend each, and one
     * backend for both), end with the same weights as each alone. Caches, per-thread buffers and the
     * shared fork-join pool must not mix them.
     */
    @Test
    void twoTrainingsSideBySideEndAsEachAlone() throws Exception {
        // 28 × 28, so that the convolutions take their direct paths (with per-thread buffers) too
        Dataset data = TinyData.random28(32, 6);
        var config = TrainConfig.defaults().withEpochs(1).withBatchSize(16).withSeed(2);
        java.util.function.BiFunction<Backend, String, Map<String, Tensor>> train = (backend, activation) -> {
            var model = new ResNet(backend, new ResNet.Config(18, 4, 1, 4, ResNet.Stem.CIFAR, activation), 7);
            new Trainer(model, sgd(model, 0.05), data, null, config).fit();
            return model.state();
        };
        var aloneRelu = train.apply(new CpuBackend(), "relu");
        var aloneNami = train.apply(new CpuBackend(), "nami");
        Backend shared = new CpuBackend();
        for (Backend[] backends : new Backend[][] {{new CpuBackend(), new CpuBackend()}, {shared, shared}}) {
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(2)) {
                var relu = pool.submit(() -> train.apply(backends[0], "relu"));
                var nami = pool.submit(() -> train.apply(backends[1], "nami"));
                assertSameWeights(aloneRelu, relu.get());
                assertSameWeights(aloneNami, nami.get());
            }
        }
    }

    private static void assertSameWeights(Map<String, Tensor> expected, Map<String, Tensor> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet())
            assertArrayEquals(expected.get(name).toFloats(), actual.get(name).toFloats(), name);
    }

    /** cancel from another thread stops the run after the step in progress, and the log says why. */
    @Test
    void cancelFromAnotherThreadStopsTheRun(@TempDir Path dir) throws Exception {
        Dataset data = TinyData.make(64, 8);
        var model = model("relu");
        var trainer = new Trainer(model, sgd(model, 0.05), data, data,
                TrainConfig.defaults().withEpochs(50).withBatchSize(16).withRunDir(dir));
        var firstStep = new java.util.concurrent.CountDownLatch(1);
        var steps = new java.util.concurrent.atomic.AtomicLong();
        trainer.addCallback(new Callback() {
            @Override
            public void onStep(Step s, Control c) {
                steps.incrementAndGet();
                firstStep.countDown();
            }
        });
        try (var pool = java.util.concurrent.Executors.newSingleThreadExecutor()) {
            var run = pool.submit(trainer::fit);
            assertTrue(firstStep.await(60, java.util.concurrent.TimeUnit.SECONDS), "the run started");
            trainer.cancel("service shutting down");
            var result = run.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals("stopped: service shutting down", result.log().status());
            assertTrue(steps.get() < 50 * 4, steps.get() + " of " + 50 * 4 + " steps ran");
            assertEquals(result.log().status(), RunLog.read(result.logFile()).status(), "the log on disk says so too");
        }
    }

    /** Normalisation follows the checkpoint, not whatever training images the resumed run is given. */
    @Test
    void aResumedRunNormalisesAsTheCheckpointSays(@TempDir Path dir) {
        Dataset data = TinyData.make(48, 3), test = TinyData.make(16, 4), otherImages = TinyData.make(48, 9);
        var config = TrainConfig.defaults().withEpochs(2).withBatchSize(16).withRunDir(dir);
        var first = model("relu");
        var interrupted = new Trainer(first, sgd(first, 0.05), data, test, config);
        interrupted.addCallback(new Callback() {
            @Override
            public void onEpoch(dev.activa.report.EpochRecord r, Control c) {
                c.stop("interrupted for the test");
            }
        });
        var stopped = interrupted.fit();
        var expected = interrupted.evaluate(test);

        var resumedModel = new ResNet(cpu, new ResNet.Config(18, 4, 1, 4, ResNet.Stem.CIFAR, "relu"), 999);
        var resumed = new Trainer(resumedModel, sgd(resumedModel, 0.05), otherImages, test, config)
                .resumeFrom(stopped.checkpoint());
        var evaluated = resumed.evaluate(test);
        assertEquals(expected.loss(), evaluated.loss(), "the same weights and the same inputs give the same loss");
        assertEquals(expected.top1(), evaluated.top1());

        float[][] recorded = Checkpoint.normalisation(Checkpoint.read(stopped.checkpoint()).metadata());
        assertArrayEquals(data.mean(), recorded[0]);
        assertArrayEquals(data.std(), recorded[1]);
        assertEquals(null, Checkpoint.normalisation(Map.of("epoch", "1")), "older checkpoints record none");
        var e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoint.normalisation(Map.of("normalisation_mean", "0.5,x", "normalisation_std", "0.2")));
        assertTrue(e.getMessage().contains("0.5,x"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> resumed.normalisedBy(new float[3], new float[3]));
    }

    @Test
    void aNanLossWithoutScalingStopsAndKeepsTheLastGoodCheckpoint(@TempDir Path dir) throws Exception {
        Dataset data = TinyData.make(32, 4);
        var model = model("relu");
        var config = TrainConfig.defaults().withEpochs(3).withBatchSize(16).withRunDir(dir);
        var trainer = new Trainer(model, sgd(model, 0.05), data, null, config);
        trainer.addCallback(new Callback() {
            @Override
            public void afterBackward(long step, List<Module.Parameter> params) {
                if (step != 2) return; // the first step of the second epoch
                for (var p : params) {
                    float[] g = p.tensor().grad().toFloats();
                    java.util.Arrays.fill(g, Float.NaN);
                    p.tensor().setGrad(p.tensor().backend().fromFloats(g, DType.F32, p.tensor().shape()));
                }
            }
        });
        var e = assertThrows(TrainingStoppedException.class, trainer::fit);
        assertTrue(e.getMessage().contains("loss became NaN") && e.getMessage().contains("epoch 2"), e.getMessage());
        Path checkpoint = dir.resolve("relu_tiny.safetensors");
        assertEquals("1", Checkpoint.read(checkpoint).metadata().get("epoch"), "the checkpoint of epoch 1 is kept");
        RunLog log = RunLog.read(dir.resolve("relu_tiny.json"));
        assertTrue(log.status().startsWith("stopped") && log.status().contains("NaN"), log.status());
        assertTrue(Files.exists(checkpoint));
    }

    @Test
    void writesLogCheckpointAndPlotWithEveryMetric(@TempDir Path dir) throws Exception {
        Dataset data = TinyData.make(32, 5);
        var model = model("swish");
        var result = new Trainer(model, sgd(model, 0.05), data, data,
                TrainConfig.defaults().withEpochs(2).withBatchSize(16).withRunDir(dir).withSeed(9)).fit();
        RunLog log = RunLog.read(result.logFile());
        assertEquals("swish_tiny.json", result.logFile().getFileName().toString());
        assertEquals(9, log.seed());
        assertEquals("resnet18", log.config().get("model"));
        var epoch = log.epochs().getLast();
        assertTrue(epoch.valTop5() >= epoch.valTop1());
        assertEquals(4, epoch.perClass().size());
        assertTrue(epoch.imagesPerSecond() > 0 && epoch.epochSeconds() > 0);
        assertTrue(Files.size(result.curves()) > 1000);
        assertEquals("2", Checkpoint.read(result.checkpoint()).metadata().get("epoch"));
    }

    @Test
    void aCheckpointOfAnotherModelIsRefusedNamingTheTensorAndWhatToCheck(@TempDir Path dir) {
        var saved = model("relu");
        Path file = dir.resolve("relu.safetensors");
        Checkpoint.save(file, saved, sgd(saved, 0.1), Map.of("epoch", "1"));
        var wider = new ResNet(cpu, new ResNet.Config(18, 8, 1, 4, ResNet.Stem.CIFAR, "relu"), 11);
        var shape = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(file, wider, sgd(wider, 0.1)));
        assertTrue(shape.getMessage().contains("'conv1.weight' has shape [4, 1, 3, 3] but the model expects [8, 1, 3, 3]")
                && shape.getMessage().contains("check --depth, --width"), shape.getMessage());
        var done = assertThrows(IllegalArgumentException.class, () -> new Trainer(saved, sgd(saved, 0.1), TinyData.make(16, 2),
                null, TrainConfig.defaults().withEpochs(1)).resumeFrom(file));
        assertTrue(done.getMessage().contains("already holds 1 epoch(s), and this run has 1 in all"), done.getMessage());
        var nami = model("nami");
        var missing = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(file, nami, sgd(nami, 0.1)));
        assertTrue(missing.getMessage().contains("has no tensor 'act1.params'") && missing.getMessage().contains("--activation"),
                missing.getMessage());
    }

    @Test
    void aNamiRunLogsEachLayersLearnedScalarsEveryEpochAndPlotsThem(@TempDir Path dir) throws Exception {
        Dataset data = TinyData.make(32, 5);
        var model = model("nami");
        var result = new Trainer(model, sgd(model, 0.05), data, data,
                TrainConfig.defaults().withEpochs(2).withBatchSize(16).withRunDir(dir)).fit();
        RunLog log = RunLog.read(result.logFile());
        var layers = new java.util.LinkedHashMap<String, ActivationLayer>();
        model.modules().forEach((name, m) -> {
            if (m instanceof ActivationLayer a) layers.put(name, a);
        });
        assertEquals(17, layers.size(), "ResNet-18: the stem's, two per block, one after each residual add");
        for (var epoch : log.epochs()) {
            var values = epoch.activationParameters();
            assertEquals(List.copyOf(layers.keySet()), List.copyOf(values.keySet()), "every layer, in the network's order");
            values.forEach((layer, v) -> {
                assertEquals(List.of("w", "a", "b"), List.copyOf(v.keySet()), layer);
                assertTrue(v.get("w") >= 0.1 && v.get("w") <= 0.5 && v.get("a") >= 0.5 && v.get("a") <= 3
                        && v.get("b") >= 0.5 && v.get("b") <= 3, layer + ": " + v + " outside the clamps");
            });
        }
        var last = log.epochs().getLast().activationParameters();
        layers.forEach((name, layer) -> assertEquals(layer.parameterValues(), last.get(name), name + ": the model's own values"));
        var untrained = new java.util.HashMap<String, java.util.Map<String, Double>>();
        model("nami").modules().forEach((name, m) -> {
            if (m instanceof ActivationLayer a) untrained.put(name, a.parameterValues());
        });
        last.forEach((layer, v) -> v.forEach((p, value) -> assertTrue(value != untrained.get(layer).get(p).doubleValue(),
                layer + "." + p + " did not move from " + value)));
        assertTrue(Files.size(result.activationParameters()) > 1000);

        var relu = model("relu");
        var plain = new Trainer(relu, sgd(relu, 0.05), data, null,
                TrainConfig.defaults().withEpochs(1).withBatchSize(16).withRunDir(dir.resolve("relu"))).fit();
        assertNull(plain.log().epochs().getLast().activationParameters());
        assertNull(plain.activationParameters(), "no plot without learnable scalars");
        assertTrue(!Files.readString(plain.logFile()).contains("activationParameters"));
    }

    @Test
    void aProfiledTrainerRefusesToStartInsideAnotherProfilersScope() {
        Dataset data = TinyData.make(16, 1);
        var model = model("relu");
        var trainer = new Trainer(model, sgd(model, 0.05), data, null, TrainConfig.defaults().withEpochs(1).withBatchSize(16));
        trainer.profile();
        try (var _ = new dev.activa.autograd.Profiler(cpu).activate()) {
            var e = assertThrows(IllegalStateException.class, trainer::fit);
            assertTrue(e.getMessage().contains("a profiler is already active on this thread"), e.getMessage());
        }
        trainer.fit();
        assertEquals(1, trainer.profile().report().steps());
    }

    @Test
    void aProfileLeavesOutTheFirstStepsOfAFitAndNoMoreOnceItEnds() {
        Dataset data = TinyData.make(64, 8); // 4 steps an epoch
        var model = model("relu");
        var trainer = new Trainer(model, sgd(model, 0.05), data, null, TrainConfig.defaults().withEpochs(40).withBatchSize(16));
        trainer.addCallback(new Callback() {
            @Override
            public void onEpoch(dev.activa.report.EpochRecord r, Control c) {
                if (r.epoch() == 6) c.stop("stopped for the test");
            }
        });
        var profiler = trainer.profile();
        var log = trainer.fit().log();
        assertEquals(20, log.profile().warmupSteps(), "160 steps planned: the first 20 left out");
        assertEquals(4, log.profile().steps(), "6 epochs of 4 steps ran");
        // the planned warm-up was spent; had the run stopped inside it, the rest would not linger
        var early = new Trainer(model, sgd(model, 0.05), data, null, TrainConfig.defaults().withEpochs(40).withBatchSize(16));
        early.addCallback(new Callback() {
            @Override
            public void onEpoch(dev.activa.report.EpochRecord r, Control c) {
                c.stop("stopped for the test");
            }
        });
        var earlyProfiler = early.profile();
        assertEquals(0, early.fit().log().profile().steps(), "its 4 steps were all warm-up");
        try (var _ = earlyProfiler.activate()) {
            Ops.add(cpu.full(DType.F32, 1, 4), cpu.full(DType.F32, 2, 4));
        }
        assertEquals(1, earlyProfiler.report().steps(), "an activation after the fit is timed");
        assertEquals(4, earlyProfiler.report().warmupSteps());
        assertEquals(24, profiler.report().steps() + profiler.report().warmupSteps());
    }

    @Test
    void twoTrainingsRunSideBySideInOneJvm() throws Exception {
        Dataset data = TinyData.make(32, 6);
        var config = TrainConfig.defaults().withEpochs(2).withBatchSize(16).withAugment(false);
        var m1 = model("relu");
        var m2 = model("relu");
        var t1 = new Thread(() -> new Trainer(m1, sgd(m1, 0.05), data, null, config).fit());
        var t2 = new Thread(() -> new Trainer(m2, sgd(m2, 0.05), data, null, config).fit());
        t1.start();
        t2.start();
        t1.join();
        t2.join();
        var a = m1.state();
        var b = m2.state();
        for (String name : a.keySet()) assertArrayEquals(a.get(name).toFloats(), b.get(name).toFloats(), name);
    }
}
