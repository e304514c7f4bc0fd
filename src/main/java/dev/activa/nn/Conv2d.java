package dev.activa.nn;

import dev.activa.autograd.Ops;
import dev.activa.backend.Backend;
import dev.activa.backend.Conv2dSpec;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.SplittableRandom;

/** 2-D convolution; the master weight stays FP32 and is cast to the input's dtype (FP16 in mixed precision). */
public final class Conv2d extends Module {
    private final Tensor weight;
    private final Tensor bias;
    private final Conv2dSpec spec;

    public Conv2d(Backend be, DType dtype, SplittableRandom rng, int in, int out, int kernel, int stride, int padding,
                  boolean withBias) {
        this.spec = new Conv2dSpec(stride, padding);
        int count = out * in * kernel * kernel;
        weight = parameter("weight",
                be.fromDoubles(Init.kaimingNormal(rng, count, out * kernel * kernel), dtype, out, in, kernel, kernel), true);
        bias = withBias ? parameter("bias", be.zeros(dtype, out), false) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Ops.conv2d(x, weight.to(x.dtype()), bias == null ? null : bias.to(x.dtype()), spec);
    }
}
