package dev.activa.nn;

import dev.activa.activation.Activation;
import dev.activa.autograd.Ops;
import dev.activa.backend.Backend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;

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

    @Override
    public Tensor forward(Tensor x) {
        return Ops.activation(act, params, x, null);
    }

    /** act(x + residual). */
    public Tensor forward(Tensor x, Tensor residual) {
        return Ops.activation(act, params, x, residual);
    }
}
