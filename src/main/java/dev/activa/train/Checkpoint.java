package dev.activa.train;

import dev.activa.checkpoint.Safetensors;
import dev.activa.checkpoint.TensorData;
import dev.activa.nn.Module;
import dev.activa.optim.Sgd;
import dev.activa.tensor.DType;
import dev.activa.tensor.Shape;
import dev.activa.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training checkpoint in the safetensors layout: the model's parameters and buffers under
 * their module names, each parameter's momentum under {@code optimizer.momentum.<name>}, and the
 * run's state (epoch, step, loss scale, config) as string metadata. Written atomically.
 */
public final class Checkpoint {
    static final String FORMAT = "activa-checkpoint/1";
    static final String MOMENTUM = "optimizer.momentum.";

    private Checkpoint() {}

    public static void save(Path file, Module model, Sgd sgd, Map<String, String> metadata) {
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        model.state().forEach((name, t) -> tensors.put(name, data(t)));
        if (sgd != null)
            for (var p : sgd.parameters()) tensors.put(MOMENTUM + p.name(), data(sgd.momentumBuffer(p)));
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put("format", FORMAT);
        try {
            Safetensors.write(file, tensors, meta);
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint: cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads a checkpoint's metadata only after checking that it is one of ours. */
    public static Safetensors.Loaded read(Path file) {
        Safetensors.Loaded loaded;
        try {
            loaded = Safetensors.read(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("checkpoint: cannot read " + file + ": " + e.getMessage(), e);
        }
        if (!FORMAT.equals(loaded.metadata().get("format")))
            throw new IllegalArgumentException("checkpoint: " + file + " is a safetensors file but not an Activa checkpoint "
                    + "(metadata format is " + loaded.metadata().get("format") + ", expected " + FORMAT + ")");
        return loaded;
    }

    /** Loads weights, buffers and (if sgd is given) momentum into existing tensors; returns the metadata. */
    public static Map<String, String> load(Path file, Module model, Sgd sgd) {
        return load(file, read(file), model, sgd);
    }

    /** As {@link #load(Path, Module, Sgd)}, from the file already {@link #read} (a large one is read once). */
    public static Map<String, String> load(Path file, Safetensors.Loaded loaded, Module model, Sgd sgd) {
        model.state().forEach((name, t) -> restore(file, name, t, loaded.tensors()));
        if (sgd != null)
            for (var p : sgd.parameters()) restore(file, MOMENTUM + p.name(), sgd.momentumBuffer(p), loaded.tensors());
        return loaded.metadata();
    }

    /**
     * The per-channel mean and std the run normalised its inputs by ({@code [mean, std]}), from a
     * checkpoint's metadata; null for a checkpoint that does not record them.
     */
    public static float[][] normalisation(Map<String, String> metadata) {
        String mean = metadata.get("normalisation_mean"), std = metadata.get("normalisation_std");
        if (mean == null || std == null) return null;
        try {
            return new float[][] {floats(mean), floats(std)};
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("checkpoint: unreadable normalisation metadata '" + mean + "' / '" + std
                    + "': " + e.getMessage());
        }
    }

    private static float[] floats(String commaSeparated) {
        String[] parts = commaSeparated.split(",");
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) out[i] = Float.parseFloat(parts[i].trim());
        return out;
    }

    private static TensorData data(Tensor t) {
        return TensorData.ofFloats(Arrays.stream(t.shape()).asLongStream().toArray(), t.toFloats());
    }

    private static final String OTHER_MODEL = "it was saved from a different model (check --depth, --width, --activation, dataset)";

    private static void restore(Path file, String name, Tensor into, Map<String, TensorData> tensors) {
        TensorData d = tensors.get(name);
        if (d == null)
            throw new IllegalArgumentException("checkpoint: " + file + " has no tensor '" + name + "': " + OTHER_MODEL);
        long[] expected = Arrays.stream(into.shape()).asLongStream().toArray();
        if (!Arrays.equals(expected, d.shape()))
            throw new IllegalArgumentException("checkpoint: " + file + " tensor '" + name + "' has shape "
                    + Arrays.toString(d.shape()) + " but the model expects " + Shape.str(into.shape()) + ": " + OTHER_MODEL);
        into.backend().copy(into, into.backend().fromFloats(d.toFloats(), DType.F32, into.shape()));
    }
}
