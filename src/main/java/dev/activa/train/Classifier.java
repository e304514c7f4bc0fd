package dev.activa.train;

import dev.activa.activation.Activation;
import dev.activa.activation.Expression;
import dev.activa.autograd.Autograd;
import dev.activa.autograd.Ops;
import dev.activa.backend.Backend;
import dev.activa.checkpoint.Safetensors;
import dev.activa.data.Batch;
import dev.activa.data.BatchLoader;
import dev.activa.data.Dataset;
import dev.activa.nn.Module;
import dev.activa.nn.ResNet;
import dev.activa.report.ClassificationMetrics;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;

/**
 * A trained network as it classifies: in eval mode, without gradients, its inputs normalised by
 * the per-channel mean and std its training used, in the precision it trained in (FP16 inputs for
 * a mixed-precision run) and in batches of the size it was evaluated in. {@link Trainer#evaluate}
 * and {@link Trainer#predict} run through one; {@link #load} makes one from a checkpoint, for a
 * service that only classifies, and repeats the figures of the run that wrote it.
 *
 * <p>A loaded Classifier keeps its network in eval mode: several threads may classify with it at
 * once. One from {@link Trainer#classifier} shares the trainer's live network, which it switches
 * to eval mode for each call: use it between epochs, not while {@code fit} runs.
 */
public final class Classifier {
    /** Images per forward pass where a checkpoint does not say: eval mode classifies each image alone. */
    public static final int DEFAULT_BATCH = 256;

    private final Module model;
    private final float[] mean, std;
    private final DType inputType;
    private final int batchSize;

    public Classifier(Module model, float[] mean, float[] std, DType inputType, int batchSize) {
        if (mean.length != std.length)
            throw new IllegalArgumentException("classifier: " + mean.length + " means but " + std.length + " stds");
        if (inputType == DType.F64) throw new IllegalArgumentException("classifier: inputs are FP32 or FP16");
        if (batchSize < 1) throw new IllegalArgumentException("classifier: batch size must be positive, got " + batchSize);
        this.model = model;
        this.mean = mean.clone();
        this.std = std.clone();
        this.inputType = inputType;
        this.batchSize = batchSize;
    }

    /** The network of a checkpoint written by a run with one of the engine's activations. */
    public static Classifier load(Path checkpoint, Backend backend) {
        return load(checkpoint, backend, null);
    }

    /**
     * The network of a checkpoint; {@code activation} is the one the run trained with, for an
     * activation defined in Java ({@link Activation#define}), whose formulas a checkpoint cannot
     * hold; null for the engine's own, which the checkpoint names.
     */
    public static Classifier load(Path checkpoint, Backend backend, Activation activation) {
        return load(checkpoint, Checkpoint.read(checkpoint), backend, activation);
    }

    /** As {@link #load(Path, Backend, Activation)}, from the file already read ({@link Checkpoint#read}). */
    public static Classifier load(Path checkpoint, Safetensors.Loaded loaded, Backend backend, Activation activation) {
        Map<String, String> meta = loaded.metadata();
        float[][] normalisation = Checkpoint.normalisation(meta);
        if (normalisation == null)
            throw new IllegalArgumentException("classifier: " + checkpoint + " does not record the mean and std its run "
                    + "normalised inputs by (it was written before checkpoints did); build a Classifier from network() "
                    + "and the training set's mean() and std()");
        String precision = meta.getOrDefault("precision", "fp32");
        if (!precision.equals("fp32") && !precision.equals("mixed"))
            throw new IllegalArgumentException("classifier: " + checkpoint + " has precision '" + precision
                    + "'; expected fp32 or mixed");
        int batch;
        try {
            batch = Integer.parseInt(meta.getOrDefault("batch_size", Integer.toString(DEFAULT_BATCH)));
        } catch (NumberFormatException e) {
            batch = 0;
        }
        if (batch < 1)
            throw new IllegalArgumentException("classifier: " + checkpoint + " has batch_size '" + meta.get("batch_size")
                    + "'; expected a positive integer");
        ResNet model = network(checkpoint, loaded, backend, activation);
        if (normalisation[0].length != model.config().inChannels())
            throw new IllegalArgumentException("classifier: " + checkpoint + " records a normalisation for "
                    + normalisation[0].length + " channels, but its model takes " + model.config().inChannels());
        model.train(false);
        return new Classifier(model, normalisation[0], normalisation[1], precision.equals("mixed") ? DType.F16 : DType.F32,
                batch);
    }

    /**
     * The ResNet a checkpoint describes, with its weights and batch-norm statistics, in training
     * mode: to fine-tune or inspect. {@code activation} as in {@link #load(Path, Backend, Activation)}.
     */
    public static ResNet network(Path checkpoint, Backend backend, Activation activation) {
        return network(checkpoint, Checkpoint.read(checkpoint), backend, activation);
    }

    /** As {@link #network(Path, Backend, Activation)}, from the file already read ({@link Checkpoint#read}). */
    public static ResNet network(Path checkpoint, Safetensors.Loaded loaded, Backend backend, Activation activation) {
        Map<String, String> meta = loaded.metadata();
        String[] m = meta.getOrDefault("model", "").split(",");
        if (m.length != 6)
            throw new IllegalArgumentException("classifier: " + checkpoint + " does not describe its model (no 'model' metadata)");
        String name = m[5];
        Activation act = activation;
        String definition = meta.get("activation_definition");
        if (act == null && definition != null) act = Expression.define(definition); // from --define
        if (act == null)
            act = Activation.find(name).orElseThrow(() -> new UnknownActivationException(checkpoint, name));
        else if (!act.name().equals(name))
            throw new IllegalArgumentException("classifier: " + checkpoint.getFileName() + " holds a model with the "
                    + "activation '" + name + "', not '" + act.name() + "'");
        ResNet.Config config;
        try {
            config = new ResNet.Config(Integer.parseInt(m[0]), Integer.parseInt(m[1]), Integer.parseInt(m[2]),
                    Integer.parseInt(m[3]), ResNet.Stem.valueOf(m[4]), act);
        } catch (IllegalArgumentException e) { // NumberFormatException included
            throw new IllegalArgumentException("classifier: " + checkpoint + " has unreadable model metadata '"
                    + meta.get("model") + "': " + e.getMessage(), e);
        }
        var model = new ResNet(backend, config, 0);
        Checkpoint.load(checkpoint, loaded, model, null);
        return model;
    }

    /**
     * A checkpoint whose activation is neither the engine's nor from {@code --define}: one defined
     * in Java, whose formulas a checkpoint cannot hold, so the caller must pass it.
     */
    public static final class UnknownActivationException extends IllegalArgumentException {
        private final String what;

        UnknownActivationException(Path checkpoint, String activation) {
            this(checkpoint.getFileName() + " holds a model with the activation '" + activation
                    + "', which is not one of the engine's (" + String.join(", ", Activation.NAMES) + ")");
        }

        private UnknownActivationException(String what) {
            super("classifier: " + what + "; pass the definition it trained with (Activation.define)");
            this.what = what;
        }

        /** Which checkpoint and activation, without the advice. */
        public String what() { return what; }
    }

    /** The same network with another batch size (memory against calls; the loss's last bits follow it). */
    public Classifier withBatchSize(int images) {
        return new Classifier(model, mean, std, inputType, images);
    }

    public Module model() { return model; }

    public float[] mean() { return mean.clone(); }

    public float[] std() { return std.clone(); }

    public DType inputType() { return inputType; }

    public int batchSize() { return batchSize; }

    /** Loss (without label smoothing), top-1/top-5 and per-class precision, recall and F1 on a labelled dataset. */
    public ClassificationMetrics.Summary evaluate(Dataset data) {
        var metrics = new ClassificationMetrics(data.classes());
        forEachBatch(data, (batch, logits) -> {
            double loss = Ops.crossEntropy(logits, batch.labels(), 0).item();
            metrics.add(logits.toFloats(), batch.labels(), batch.size(), logits.dim(1));
            metrics.addLoss(loss * batch.size(), batch.size());
        });
        return metrics.summary();
    }

    /** The predicted class of each image of a dataset (its labels are not read). */
    public int[] predict(Dataset data) {
        int[] out = new int[data.count()];
        int[] next = {0};
        forEachBatch(data, (batch, logits) -> {
            float[] l = logits.toFloats();
            int classes = logits.dim(1);
            for (int r = 0; r < batch.size(); r++) {
                int best = 0;
                for (int c = 1; c < classes; c++) if (l[r * classes + c] > l[r * classes + best]) best = c;
                out[next[0]++] = best;
            }
        });
        return out;
    }

    /** Each image's class probabilities, the softmax of the network's outputs: [image][class]. */
    public float[][] probabilities(Dataset data) {
        float[][] out = new float[data.count()][];
        int[] next = {0};
        forEachBatch(data, (batch, logits) -> {
            float[] l = logits.toFloats();
            int classes = logits.dim(1);
            for (int r = 0; r < batch.size(); r++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int c = 0; c < classes; c++) max = Math.max(max, l[r * classes + c]);
                double[] e = new double[classes];
                for (int c = 0; c < classes; c++) sum += e[c] = Math.exp(l[r * classes + c] - max);
                float[] p = new float[classes];
                for (int c = 0; c < classes; c++) p[c] = (float) (e[c] / sum);
                out[next[0]++] = p;
            }
        });
        return out;
    }

    private interface BatchLogits {
        void accept(Batch batch, Tensor logits);
    }

    /** Runs the network over the data in order, in eval mode, without gradients; restores the model's mode. */
    private void forEachBatch(Dataset data, BatchLogits each) {
        if (data.channels() != mean.length)
            throw new IllegalArgumentException("classifier: " + data.name() + " has " + data.channels()
                    + "-channel images, but the network takes " + mean.length);
        Backend backend = model.parameters().getFirst().tensor().backend();
        // A loaded network stays in eval mode, so several threads can classify with it at once; a
        // trainer's is switched for the call and back (not thread-safe: not while it trains).
        boolean wasTraining = model.isTraining();
        if (wasTraining) model.train(false);
        try (var loader = new BatchLoader(data, batchSize, 0, false, false, false, mean, std)) {
            for (Batch batch : loader.epoch(0)) {
                Tensor x = backend.fromFloats(batch.images(), inputType, batch.size(), data.channels(), data.height(),
                        data.width());
                // each batch's tensors serve the next batch: what each reads, it reads within the pass
                try (var _ = Autograd.recyclingPass()) {
                    each.accept(batch, model.forward(x));
                }
            }
        } finally {
            if (wasTraining) model.train(true);
        }
    }
}
