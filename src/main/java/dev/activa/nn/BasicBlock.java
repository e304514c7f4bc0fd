package dev.activa.nn;

import dev.activa.activation.Activation;
import dev.activa.backend.Backend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.SplittableRandom;

/** Two 3×3 convolutions and a shortcut (ResNet-18/34); the last activation takes the residual add fused in. */
final class BasicBlock extends Module {
    static final int EXPANSION = 1;
    private final Conv2d conv1, conv2;
    private final BatchNorm2d bn1, bn2;
    private final ActivationLayer act1, act2;
    private final Shortcut shortcut;

    BasicBlock(Backend be, DType dtype, SplittableRandom rng, Activation act, int in, int planes, int stride) {
        conv1 = child("conv1", new Conv2d(be, dtype, rng, in, planes, 3, stride, 1, false));
        bn1 = child("bn1", new BatchNorm2d(be, dtype, planes));
        act1 = child("act1", new ActivationLayer(be, dtype, act));
        conv2 = child("conv2", new Conv2d(be, dtype, rng, planes, planes, 3, 1, 1, false));
        bn2 = child("bn2", new BatchNorm2d(be, dtype, planes));
        act2 = child("act2", new ActivationLayer(be, dtype, act));
        shortcut = stride != 1 || in != planes ? child("downsample", new Shortcut(be, dtype, rng, in, planes, stride)) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = act1.forward(bn1.forward(conv1.forward(x)));
        h = bn2.forward(conv2.forward(h));
        return act2.forward(h, shortcut == null ? x : shortcut.forward(x));
    }
}
