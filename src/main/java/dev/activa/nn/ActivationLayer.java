package dev.activa.nn;

import dev.activa.activation.Activation;
import dev.activa.autograd.Ops;
import dev.activa.backend.Backend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One activation site. Activations with learnable scalars (Nami) get their own per layer;
 * {@link #forward(Tensor, Tensor)} fuses a residual add into the activation.
 */
public final class ActivationLayer extends Module {
    private final Activation act;
    private final Tensor params;

    public ActivationLayer(Backend be, DType dtype, Activation act) {
        this.act = act;
        int np = act.parameters().size();
        params = np == 0 ? null : parameter("params", be.fromDoubles(act.initialParameters(), dtype, np), false);
    }

    public Activation activation() { return act; }

    /**
     * The learnable scalars' values as the activation uses them (clamped to their ranges), by
     * name, e.g. {w=0.31, a=1.02, b=1.49} for Nami; empty for an activation without any.
     */
    public Map<String, Double> parameterValues() {
        Map<String, Double> out = new LinkedHashMap<>();
        if (params == null) return out;
        double[] effective = act.effective(params.toDoubles());
        for (int k = 0; k < effective.length; k++) out.put(act.parameters().get(k).name(), effective[k]);
        return out;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Ops.activation(act, params, x, null);
    }

    /** act(x + residual). */
    public Tensor forward(Tensor x, Tensor residual) {
        return Ops.activation(act, params, x, residual);
    }
}
