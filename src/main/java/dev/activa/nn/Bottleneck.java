package dev.activa.nn;

import dev.activa.activation.Activation;
import dev.activa.backend.Backend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.SplittableRandom;

/** 1×1 reduce, 3×3 (carrying the stride, as torchvision's v1.5), 1×1 expand by 4, and a shortcut (ResNet-50). */
final class Bottleneck extends Module {
    static final int EXPANSION = 4;
    private final Conv2d conv1, conv2, conv3;
    private final BatchNorm2d bn1, bn2, bn3;
    private final ActivationLayer act1, act2, act3;
    private final Shortcut shortcut;

    Bottleneck(Backend be, DType dtype, SplittableRandom rng, Activation act, int in, int planes, int stride) {
        int out = planes * EXPANSION;
        conv1 = child("conv1", new Conv2d(be, dtype, rng, in, planes, 1, 1, 0, false));
        bn1 = child("bn1", new BatchNorm2d(be, dtype, planes));
        act1 = child("act1", new ActivationLayer(be, dtype, act));
        conv2 = child("conv2", new Conv2d(be, dtype, rng, planes, planes, 3, stride, 1, false));
        bn2 = child("bn2", new BatchNorm2d(be, dtype, planes));
        act2 = child("act2", new ActivationLayer(be, dtype, act));
        conv3 = child("conv3", new Conv2d(be, dtype, rng, planes, out, 1, 1, 0, false));
        bn3 = child("bn3", new BatchNorm2d(be, dtype, out));
        act3 = child("act3", new ActivationLayer(be, dtype, act));
        shortcut = stride != 1 || in != out ? child("downsample", new Shortcut(be, dtype, rng, in, out, stride)) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = act1.forward(bn1.forward(conv1.forward(x)));
        h = act2.forward(bn2.forward(conv2.forward(h)));
        h = bn3.forward(conv3.forward(h));
        return act3.forward(h, shortcut == null ? x : shortcut.forward(x));
    }
}
