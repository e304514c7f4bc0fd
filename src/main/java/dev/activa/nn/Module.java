package dev.activa.nn;

import dev.activa.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A layer or a network: named parameters (leaves that require grad), named buffers (state such
 * as running statistics) and named child modules. Names compose with dots, as PyTorch's do
 * ("layer1.0.conv1.weight"), which is also how checkpoints name tensors.
 */
public abstract class Module {
    /** A learnable tensor and whether weight decay applies to it (not to norms, biases, activation scalars). */
    public record Parameter(String name, Tensor tensor, boolean decays) {}

    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Map<String, Boolean> decays = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    public abstract Tensor forward(Tensor x);

    protected Tensor parameter(String name, Tensor t, boolean decays) {
        params.put(name, t.requiresGrad(true));
        this.decays.put(name, decays);
        return t;
    }

    protected Tensor buffer(String name, Tensor t) {
        buffers.put(name, t);
        return t;
    }

    protected <M extends Module> M child(String name, M m) {
        children.put(name, m);
        return m;
    }

    /** Every parameter of this module and its descendants, in registration order. */
    public List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, List<Parameter> out) {
        params.forEach((n, t) -> out.add(new Parameter(prefix + n, t, decays.get(n))));
        children.forEach((n, m) -> m.collect(prefix + n + ".", out));
    }

    /** Every buffer of this module and its descendants. */
    public Map<String, Tensor> buffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collectBuffers("", out);
        return out;
    }

    private void collectBuffers(String prefix, Map<String, Tensor> out) {
        buffers.forEach((n, t) -> out.put(prefix + n, t));
        children.forEach((n, m) -> m.collectBuffers(prefix + n + ".", out));
    }

    /** Parameters and buffers by name: what a checkpoint holds of the model. */
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        parameters().forEach(p -> out.put(p.name(), p.tensor()));
        out.putAll(buffers());
        return out;
    }

    public long parameterCount() {
        return parameters().stream().mapToLong(p -> p.tensor().numel()).sum();
    }

    public boolean isTraining() { return training; }

    /** Every descendant module by its dotted name ("layer1.0.act1"), parents before their children. */
    public Map<String, Module> modules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String prefix, Map<String, Module> out) {
        children.forEach((n, m) -> {
            out.put(prefix + n, m);
            m.collectModules(prefix + n + ".", out);
        });
    }

    /** Training mode (batch statistics) or evaluation mode (running statistics), recursively. */
    public Module train(boolean on) {
        training = on;
        children.values().forEach(m -> m.train(on));
        return this;
    }

    public void zeroGrad() {
        parameters().forEach(p -> p.tensor().zeroGrad());
    }
}
