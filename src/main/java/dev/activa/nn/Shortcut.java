package dev.activa.nn;

import dev.activa.backend.Backend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.SplittableRandom;

/** The projection shortcut where a block changes resolution or width: 1×1 convolution and batch norm. */
final class Shortcut extends Module {
    private final Conv2d conv;
    private final BatchNorm2d bn;

    Shortcut(Backend be, DType dtype, SplittableRandom rng, int in, int out, int stride) {
        conv = child("0", new Conv2d(be, dtype, rng, in, out, 1, stride, 0, false));
        bn = child("1", new BatchNorm2d(be, dtype, out));
    }

    @Override
    public Tensor forward(Tensor x) {
        return bn.forward(conv.forward(x));
    }
}
