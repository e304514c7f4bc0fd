package dev.activa.nn;

import dev.activa.autograd.Ops;
import dev.activa.backend.Backend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.SplittableRandom;

/** y = x·Wᵀ + b with W stored [out, in]. */
public final class Linear extends Module {
    private final Tensor weight, bias;

    public Linear(Backend be, DType dtype, SplittableRandom rng, int in, int out) {
        double bound = 1 / Math.sqrt(in);
        weight = parameter("weight", be.fromDoubles(Init.uniform(rng, out * in, bound), dtype, out, in), true);
        bias = parameter("bias", be.fromDoubles(Init.uniform(rng, out, bound), dtype, out), false);
    }

    @Override
    public Tensor forward(Tensor x) {
        return Ops.linear(x, weight.to(x.dtype()), bias.to(x.dtype()));
    }
}
