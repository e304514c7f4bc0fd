package dev.activa.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How to train: schedule, precision, data handling and where files go. {@code runDir} null
 * writes nothing (for embedding); otherwise the JSON log, checkpoint and plots go there.
 */
public record TrainConfig(int epochs, int batchSize, long seed, double warmupEpochs, double minLr,
                          double labelSmoothing, boolean mixedPrecision, boolean augment, boolean progress,
                          Path runDir, String runSuffix) {
    public TrainConfig {
        if (epochs < 1) throw new IllegalArgumentException("train: epochs must be at least 1, got " + epochs);
        if (batchSize < 2) throw new IllegalArgumentException("train: batch size must be at least 2, got " + batchSize);
        if (warmupEpochs < 0 || warmupEpochs >= epochs)
            throw new IllegalArgumentException("train: warm-up (" + warmupEpochs + " epochs) must be shorter than training");
        if (minLr < 0) throw new IllegalArgumentException("train: minimum learning rate must be >= 0");
        if (labelSmoothing < 0 || labelSmoothing >= 1)
            throw new IllegalArgumentException("train: label smoothing must be in [0, 1), got " + labelSmoothing);
    }

    /** Batch 128, seed 0, no warm-up, FP32, augmentation on, no files. */
    public static TrainConfig defaults() {
        return new TrainConfig(10, 128, 0, 0, 0, 0, false, true, false, null, null);
    }

    public TrainConfig withEpochs(int e) { return new TrainConfig(e, batchSize, seed, warmupEpochs, minLr, labelSmoothing, mixedPrecision, augment, progress, runDir, runSuffix); }
    public TrainConfig withBatchSize(int b) { return new TrainConfig(epochs, b, seed, warmupEpochs, minLr, labelSmoothing, mixedPrecision, augment, progress, runDir, runSuffix); }
    public TrainConfig withSeed(long s) { return new TrainConfig(epochs, batchSize, s, warmupEpochs, minLr, labelSmoothing, mixedPrecision, augment, progress, runDir, runSuffix); }
    public TrainConfig withMixedPrecision(boolean m) { return new TrainConfig(epochs, batchSize, seed, warmupEpochs, minLr, labelSmoothing, m, augment, progress, runDir, runSuffix); }
    public TrainConfig withAugment(boolean a) { return new TrainConfig(epochs, batchSize, seed, warmupEpochs, minLr, labelSmoothing, mixedPrecision, a, progress, runDir, runSuffix); }
    public TrainConfig withProgress(boolean p) { return new TrainConfig(epochs, batchSize, seed, warmupEpochs, minLr, labelSmoothing, mixedPrecision, augment, p, runDir, runSuffix); }
    public TrainConfig withRunDir(Path dir) { return new TrainConfig(epochs, batchSize, seed, warmupEpochs, minLr, labelSmoothing, mixedPrecision, augment, progress, dir, runSuffix); }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epochs", epochs);
        m.put("batchSize", batchSize);
        m.put("warmupEpochs", warmupEpochs);
        m.put("minLr", minLr);
        m.put("labelSmoothing", labelSmoothing);
        m.put("precision", mixedPrecision ? "mixed (fp16 activations, fp32 master weights)" : "fp32");
        m.put("augment", augment ? "random crop (pad 4) + horizontal flip" : "none");
        m.put("schedule", "cosine, per step" + (warmupEpochs > 0 ? ", linear warm-up" : ""));
        return m;
    }
}
