package dev.activa.train;

import dev.activa.activation.Defined;
import dev.activa.autograd.Autograd;
import dev.activa.autograd.Ops;
import dev.activa.autograd.Profiler;
import dev.activa.backend.Backend;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.data.Batch;
import dev.activa.data.BatchLoader;
import dev.activa.data.Dataset;
import dev.activa.nn.ActivationLayer;
import dev.activa.nn.Module;
import dev.activa.nn.ResNet;
import dev.activa.optim.CosineSchedule;
import dev.activa.optim.LossScaler;
import dev.activa.optim.Sgd;
import dev.activa.report.ClassificationMetrics;
import dev.activa.report.EpochRecord;
import dev.activa.report.FinalResult;
import dev.activa.report.PlotSupport;
import dev.activa.report.Plots;
import dev.activa.report.ProgressBar;
import dev.activa.report.RunLog;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains a classifier: SGD under a cosine schedule, optional mixed precision with dynamic loss
 * scaling, per-epoch validation metrics, a JSON log, atomic checkpoints and plots. It holds no
 * global state, so one JVM can run several trainings side by side.
 */
public final class Trainer {
    public static final String ENGINE_VERSION = "0.1.0";
    /** Steps at the start of each fit() that a profile leaves out (warm-up). */
    static final int PROFILE_WARMUP_STEPS = 20;

    /**
     * What a finished (or stopped) run leaves behind; the paths are null when nothing was written
     * ({@code activationParameters}: the plot of the activation's learnable scalars, where it has any).
     */
    public record Result(RunLog log, Path logFile, Path checkpoint, Path curves, Path activationParameters) {
        /** Without a plot of activation parameters (as before there was one). */
        public Result(RunLog log, Path logFile, Path checkpoint, Path curves) {
            this(log, logFile, checkpoint, curves, null);
        }
    }

    private final Module model;
    private final Sgd sgd;
    private final Dataset train, validation;
    private final TrainConfig config;
    private final Backend backend;
    private final List<Callback> callbacks = new ArrayList<>();
    private float[] mean, std;
    private final String activation;
    private volatile String stopReason;
    private LossScaler scaler = new LossScaler();
    private long step;
    private int startEpoch;
    private RunLog log;
    private Profiler profiler; // null unless profile() was called

    public Trainer(Module model, Sgd sgd, Dataset train, Dataset validation, TrainConfig config) {
        if (model.parameters().isEmpty()) throw new IllegalArgumentException("trainer: the model has no parameters");
        this.model = model;
        this.sgd = sgd;
        this.train = train;
        this.validation = validation;
        this.config = config;
        this.backend = model.parameters().getFirst().tensor().backend();
        this.mean = train.mean();
        this.std = train.std();
        this.activation = model instanceof ResNet r ? r.config().activation().name() : "custom";
        if (model instanceof ResNet r && r.config().classes() < train.classes())
            throw new IllegalArgumentException("trainer: the model has " + r.config().classes() + " outputs but "
                    + train.name() + " has " + train.classes() + " classes");
    }

    public Trainer addCallback(Callback c) {
        callbacks.add(c);
        return this;
    }

    /** Asks the run to stop after the current step; safe from any thread. */
    public void cancel(String reason) {
        stopReason = reason;
    }

    public LossScaler lossScaler() { return scaler; }

    /** Starts from another loss scaler (a different initial scale, as PyTorch's GradScaler(init_scale)). */
    public Trainer useLossScaler(LossScaler s) {
        scaler = s;
        return this;
    }

    /**
     * Normalises inputs by this per-channel mean and std instead of the training set's own: a
     * checkpoint's ({@link Checkpoint#normalisation}), so that an evaluation sees the inputs the
     * model was trained on, whatever training images it has at hand. {@link #resumeFrom} does this.
     */
    public Trainer normalisedBy(float[] mean, float[] std) {
        if (mean.length != train.channels() || std.length != train.channels())
            throw new IllegalArgumentException("trainer: normalisation for " + mean.length + "/" + std.length
                    + " channels, but " + train.name() + " has " + train.channels());
        this.mean = mean.clone();
        this.std = std.clone();
        return this;
    }

    private String stem() {
        return RunLog.fileName(activation, train.name(), config.runSuffix()).replaceAll("\\.json$", "");
    }

    /** Where each epoch's checkpoint is written (null without a run folder). */
    public Path checkpointFile() {
        return file(".safetensors");
    }

    private Path file(String suffix) {
        return config.runDir() == null ? null : config.runDir().resolve(stem() + suffix);
    }

    /** Continues the run saved in {@code checkpoint}: weights, momentum, loss scale, schedule position and log. */
    public Trainer resumeFrom(Path checkpoint) {
        Map<String, String> meta = Checkpoint.load(checkpoint, model, sgd);
        float[][] normalisation = Checkpoint.normalisation(meta);
        if (normalisation != null) normalisedBy(normalisation[0], normalisation[1]);
        startEpoch = Integer.parseInt(meta.get("epoch"));
        if (startEpoch >= config.epochs())
            throw new IllegalArgumentException("resume: " + checkpoint + " already holds " + startEpoch
                    + " epoch(s), and this run has " + config.epochs() + " in all (--epochs): nothing is left to train;"
                    + " give " + (startEpoch + 1) + " or more epochs to go on");
        step = Long.parseLong(meta.get("step"));
        scaler = new LossScaler(Double.parseDouble(meta.get("loss_scale")), Integer.parseInt(meta.get("clean_steps")),
                Long.parseLong(meta.get("skipped_steps")));
        Path logFile = file(".json");
        if (logFile != null && Files.exists(logFile)) {
            try {
                RunLog previous = RunLog.read(logFile);
                // The earlier epochs, under the configuration the run now continues with (its --epochs, say).
                RunLog kept = RunLog.start(previous.activation(), previous.dataset(), previous.seed(),
                        previous.engineVersion(), previous.device(), logConfig(), java.time.Instant.parse(previous.startedAt()));
                for (EpochRecord e : previous.epochs()) if (e.epoch() <= startEpoch) kept = kept.withEpoch(e);
                log = kept;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return this;
    }

    private Map<String, Object> logConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        if (model instanceof ResNet r) {
            var m = r.config();
            c.put("model", "resnet" + m.depth());
            c.put("width", m.width());
            c.put("stem", m.stem().name().toLowerCase());
            c.put("inChannels", m.inChannels());
            c.put("classes", m.classes());
        }
        c.put("parameters", model.parameterCount());
        c.put("trainImages", train.count());
        c.put("validationImages", validation == null ? 0 : validation.count());
        var o = sgd.options();
        c.put("optimizer", Map.of("name", "sgd", "lr", o.lr(), "momentum", o.momentum(), "weightDecay", o.weightDecay(),
                "nesterov", o.nesterov(), "decayNormAndBias", o.decayNormAndBias()));
        c.putAll(config.toMap());
        // the loops' cut, which the weight gradients' rounding follows: the same count repeats a run elsewhere
        if (backend instanceof CpuBackend cpu) c.put("cpuThreads", cpu.threads());
        if (model instanceof ResNet r && r.config().activation() instanceof Defined d && d.source() != null)
            c.put("activationDefinition", d.source());
        if (startEpoch > 0) c.put("resumedAfterEpoch", startEpoch); // whether or not the earlier epochs' log was found
        return c;
    }

    /** Trains from the current epoch to the configured number; returns the log and the files written. */
    public Result fit() {
        if (profiler != null && Profiler.isActive())
            throw new IllegalStateException("trainer: a profiler is already active on this thread, and profile() asks "
                    + "the trainer to activate its own every step; close the other's scope before fit(), or use one");
        if (profiler != null && profiler.activeThread() != null)
            throw new IllegalStateException("trainer: its profiler is active on thread " + profiler.activeThread().getName()
                    + ", and the trainer activates it every step; close that scope before fit()");
        if (config.runDir() != null) {
            try {
                Files.createDirectories(config.runDir());
            } catch (IOException e) {
                throw new UncheckedIOException("trainer: cannot create run folder " + config.runDir(), e);
            }
        }
        if (log == null)
            log = RunLog.start(activation, train.name(), config.seed(), ENGINE_VERSION, backend.name(), logConfig());
        long runStart = System.nanoTime();
        Callback.Control control = reason -> stopReason = reason;
        ClassificationMetrics.Summary lastValidation = null;
        try (var loader = new BatchLoader(train, config.batchSize(), config.seed(), true, config.augment(), true, mean, std)) {
            int batches = loader.batchesPerEpoch();
            long totalSteps = (long) batches * config.epochs();
            var schedule = new CosineSchedule(sgd.options().lr(), config.minLr(), totalSteps,
                    Math.round(config.warmupEpochs() * batches));
            if (profiler != null)
                profiler.leaveOut(Math.min(PROFILE_WARMUP_STEPS, (long) batches * (config.epochs() - startEpoch) / 4));
            for (int epoch = startEpoch; epoch < config.epochs() && stopReason == null; epoch++) {
                long epochStart = System.nanoTime();
                var metrics = new ClassificationMetrics(train.classes());
                var progress = config.progress()
                        ? ProgressBar.onStdout("epoch " + (epoch + 1) + "/" + config.epochs(), batches) : null;
                model.train(true);
                int b = 0;
                long images = 0;
                var epochBatches = loader.epoch(epoch);
                while (epochBatches.hasNext()) {
                    Batch batch;
                    double loss;
                    try (var _ = profiling()) {
                        batch = Profiler.time("data wait", epochBatches::next);
                        sgd.setLr(schedule.lr(step));
                        loss = trainStep(batch, metrics);
                    }
                    if (!config.mixedPrecision() && !Double.isFinite(loss)) stopDiverged(epoch, b, loss);
                    images += batch.size();
                    b++;
                    if (progress != null) progress.update(b, images, loss);
                    var info = new Callback.Step(epoch, step, b, batches, loss, sgd.lr(),
                            config.mixedPrecision() ? scaler.scale() : 1, lastStepSkipped);
                    for (Callback c : callbacks) c.onStep(info, control);
                    step++;
                    if (stopReason != null) break;
                }
                if (progress != null) progress.finish();
                double trainSeconds = (System.nanoTime() - epochStart) / 1e9;
                if (stopReason != null && b < batches) break;
                var val = validation == null ? metrics.summary() : evaluate(validation);
                lastValidation = val;
                double epochSeconds = (System.nanoTime() - epochStart) / 1e9;
                var record = EpochRecord.of(epoch + 1, metrics.summary(), val, sgd.lr(), epochSeconds, images / trainSeconds,
                        config.mixedPrecision() ? scaler.scale() : null).withActivationParameters(activationParameters());
                log = log.withEpoch(record);
                saveCheckpoint(epoch + 1);
                writeLog();
                for (Callback c : callbacks) c.onEpoch(record, control);
            }
        } finally {
            // the steps' recycled arrays go to the collector, also when a run stops by an exception:
            // a service's backend may idle or serve other work next
            if (backend instanceof CpuBackend cpu) cpu.releasePooledArrays();
            // a run that stopped early leaves no warm-up behind for the profiler's next activations
            if (profiler != null) profiler.leaveOut(0);
        }
        double total = (System.nanoTime() - runStart) / 1e9;
        if (validation != null && lastValidation == null) lastValidation = evaluate(validation);
        FinalResult result = validation == null ? null : FinalResult.of("test", lastValidation, total);
        log = stopReason == null ? log.completed(result) : log.stopped(stopReason, result);
        writeLog();
        // no java.desktop, or no epoch: no chart
        Path curves = PlotSupport.available() && !log.epochs().isEmpty() ? file("_curves.png") : null;
        if (curves != null) {
            try {
                Plots.trainingCurves(log, curves, log.epochs().size() >= 6 ? 3 : 1); // smoothing needs epochs
            } catch (IOException e) {
                throw new UncheckedIOException("trainer: cannot write plot " + curves, e);
            }
        }
        Path parameters = curves == null ? null : file("_activation_params.png");
        try {
            if (parameters != null && !Plots.activationParameters(log, parameters)) parameters = null;
        } catch (IOException e) {
            throw new UncheckedIOException("trainer: cannot write plot " + parameters, e);
        }
        return new Result(log, file(".json"), file(".safetensors"), curves, parameters);
    }

    private boolean lastStepSkipped;

    /** Forward, backward and (unless the loss scaler skips it) the optimiser step; returns the loss. */
    private double trainStep(Batch batch, ClassificationMetrics metrics) {
        Tensor x = Profiler.time("input copy", () -> input(batch));
        Tensor logits = model.forward(x);
        Tensor loss = Ops.crossEntropy(logits, batch.labels(), config.labelSmoothing());
        double value = Profiler.time("metrics", () -> {
            double v = loss.item();
            metrics.add(logits.toFloats(), batch.labels(), batch.size(), logits.dim(1));
            metrics.addLoss(v * batch.size(), batch.size());
            return v;
        });
        Profiler.time("zero grad", model::zeroGrad);
        if (config.mixedPrecision()) {
            Autograd.backward(Ops.scale(loss, scaler.scale()), null, true); // recycling: the loss and metrics were read above
            afterBackward();
            lastStepSkipped = !Profiler.time("loss scaler", () -> scaler.unscaleAndUpdate(sgd.parameters()));
            if (!lastStepSkipped) Profiler.time("sgd step", () -> sgd.step(1));
        } else {
            Autograd.backward(loss, null, true);
            afterBackward();
            lastStepSkipped = false;
            Profiler.time("sgd step", () -> sgd.step(1));
        }
        return value;
    }

    /** The activation layers' learnable scalars by layer name, or null where the model's activations have none. */
    private Map<String, Map<String, Double>> activationParameters() {
        Map<String, Map<String, Double>> out = new LinkedHashMap<>();
        model.modules().forEach((name, m) -> {
            if (m instanceof ActivationLayer layer) {
                var values = layer.parameterValues();
                if (!values.isEmpty()) out.put(name, values);
            }
        });
        return out.isEmpty() ? null : out;
    }

    private void afterBackward() {
        if (!callbacks.isEmpty())
            Profiler.time("callbacks", () -> callbacks.forEach(c -> c.afterBackward(step, sgd.parameters())));
    }

    /**
     * Times every training step from now on, op by op ({@link Profiler}: forward and backward of
     * each op, and the data wait, input copy, metrics, zeroing and optimiser step around them);
     * the run log then records the profile, and {@link Profiler#report} gives it between steps.
     * Each {@link #fit} leaves its first {@value #PROFILE_WARMUP_STEPS} steps untimed (a quarter of
     * its steps where it runs fewer than 80): the JIT compiles the kernels in them, and the quick
     * start's first 20 steps, counted in, raised its average step by 14% and some ops' forward
     * passes two- to fivefold. Validation is not timed. On a GPU, profiled steps wait for the
     * device after each op.
     */
    public Profiler profile() {
        if (profiler == null) profiler = new Profiler(backend);
        return profiler;
    }

    private Autograd.Scope profiling() {
        return profiler == null ? Autograd.noScope() : profiler.activate();
    }

    private Tensor input(Batch batch) {
        Dataset d = train;
        return backend.fromFloats(batch.images(), config.mixedPrecision() ? DType.F16 : DType.F32,
                batch.size(), d.channels(), d.height(), d.width());
    }

    private void stopDiverged(int epoch, int batch, double loss) {
        String reason = "loss became " + loss + " at epoch " + (epoch + 1) + ", batch " + (batch + 1)
                + " without loss scaling; lower the learning rate or enable mixed precision's loss scaler";
        log = log.stopped(reason, null);
        writeLog();
        throw new TrainingStoppedException(reason + (config.runDir() == null ? ""
                : "; the last good checkpoint is kept in " + file(".safetensors")));
    }

    /**
     * The model as it classifies now: eval mode, inputs normalised as this run normalises them, in
     * its precision, in batches of its batch size.
     */
    public Classifier classifier() {
        return new Classifier(model, mean, std, config.mixedPrecision() ? DType.F16 : DType.F32, config.batchSize());
    }

    /** Loss, top-1/top-5 and per-class precision, recall and F1 on a dataset, in eval mode, without gradients. */
    public ClassificationMetrics.Summary evaluate(Dataset data) {
        return classifier().evaluate(data);
    }

    /** The predicted class of each image of a dataset. */
    public int[] predict(Dataset data) {
        return classifier().predict(data);
    }

    private void saveCheckpoint(int epochsDone) {
        Path file = file(".safetensors");
        if (file == null) return;
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("epoch", Integer.toString(epochsDone));
        meta.put("step", Long.toString(step));
        meta.put("loss_scale", Double.toString(scaler.scale()));
        meta.put("clean_steps", Integer.toString(scaler.cleanSteps()));
        meta.put("skipped_steps", Long.toString(scaler.skippedSteps()));
        meta.put("seed", Long.toString(config.seed()));
        meta.put("activation", activation);
        meta.put("dataset", train.name());
        meta.put("engine_version", ENGINE_VERSION);
        meta.put("normalisation_mean", join(mean));
        meta.put("normalisation_std", join(std));
        // what Classifier.load needs to evaluate as this run did
        meta.put("precision", config.mixedPrecision() ? "mixed" : "fp32");
        meta.put("batch_size", Integer.toString(config.batchSize()));
        if (model instanceof ResNet r) {
            var m = r.config();
            meta.put("model", m.depth() + "," + m.width() + "," + m.inChannels() + "," + m.classes() + "," + m.stem()
                    + "," + m.activation().name());
            // an activation from --define: its formula rebuilds it (one defined in Java cannot be stored)
            if (m.activation() instanceof Defined d && d.source() != null) meta.put("activation_definition", d.source());
        }
        Checkpoint.save(file, model, sgd, meta);
    }

    private static String join(float[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ",").append(v[i]);
        return sb.toString();
    }

    private void writeLog() {
        if (profiler != null) log = log.withProfile(profiler.report());
        Path file = file(".json");
        if (file == null) return;
        try {
            log.write(file);
        } catch (IOException e) {
            throw new UncheckedIOException("trainer: cannot write log " + file, e);
        }
    }
}
