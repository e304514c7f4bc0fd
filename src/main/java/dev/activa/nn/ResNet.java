package dev.activa.nn;

import dev.activa.activation.Activation;
import dev.activa.autograd.Ops;
import dev.activa.backend.Backend;
import dev.activa.backend.Conv2dSpec;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;

/**
 * ResNet-18/34 (basic blocks) and ResNet-50 (bottlenecks) with one activation at every site.
 * The CIFAR stem (3×3 convolution, stride 1, no max-pool) is the default; the ImageNet stem
 * (7×7, stride 2, then 3×3 max-pool) is an option. The classifier runs in FP32 so the loss does.
 */
public final class ResNet extends Module {
    public enum Stem { CIFAR, IMAGENET }

    /** {@code width} is the first stage's channel count (64 in the papers). */
    public record Config(int depth, int width, int inChannels, int classes, Stem stem, Activation activation) {
        public Config {
            if (!List.of(18, 34, 50).contains(depth))
                throw new IllegalArgumentException("resnet: depth must be 18, 34 or 50, got " + depth);
            if (width < 1) throw new IllegalArgumentException("resnet: width must be positive, got " + width);
            if (inChannels < 1) throw new IllegalArgumentException("resnet: input channels must be positive");
            if (classes < 2) throw new IllegalArgumentException("resnet: needs at least 2 classes, got " + classes);
            java.util.Objects.requireNonNull(activation, "activation");
        }

        /** With one of the engine's activations, by name ({@link Activation#NAMES}). */
        public Config(int depth, int width, int inChannels, int classes, Stem stem, String activation) {
            this(depth, width, inChannels, classes, stem, Activation.of(activation));
        }

        public static Config of(int depth, int inChannels, int classes, String activation) {
            return new Config(depth, 64, inChannels, classes, Stem.CIFAR, activation);
        }

        int[] blocks() {
            return depth == 18 ? new int[] {2, 2, 2, 2} : new int[] {3, 4, 6, 3};
        }

        boolean bottleneck() { return depth == 50; }
    }

    private final Config config;
    private final Conv2d stemConv;
    private final BatchNorm2d stemBn;
    private final ActivationLayer stemAct;
    private final List<Module> blocks;
    private final Linear fc;

    public ResNet(Backend be, Config config, long seed) {
        this.config = config;
        DType master = DType.F32;
        SplittableRandom rng = new SplittableRandom(seed);
        Activation act = config.activation();
        boolean cifar = config.stem() == Stem.CIFAR;
        stemConv = child("conv1", new Conv2d(be, master, rng, config.inChannels(), config.width(),
                cifar ? 3 : 7, cifar ? 1 : 2, cifar ? 1 : 3, false));
        stemBn = child("bn1", new BatchNorm2d(be, master, config.width()));
        stemAct = child("act1", new ActivationLayer(be, master, act));
        int expansion = config.bottleneck() ? Bottleneck.EXPANSION : BasicBlock.EXPANSION;
        int in = config.width();
        var list = new java.util.ArrayList<Module>();
        for (int stage = 0; stage < 4; stage++) {
            int planes = config.width() << stage;
            for (int b = 0; b < config.blocks()[stage]; b++) {
                int stride = stage > 0 && b == 0 ? 2 : 1;
                Module block = config.bottleneck()
                        ? new Bottleneck(be, master, rng, act, in, planes, stride)
                        : new BasicBlock(be, master, rng, act, in, planes, stride);
                list.add(child("layer" + (stage + 1) + "." + b, block));
                in = planes * expansion;
            }
        }
        blocks = List.copyOf(list);
        fc = child("fc", new Linear(be, master, rng, in, config.classes()));
    }

    public Config config() { return config; }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != config.inChannels())
            throw new IllegalArgumentException("resnet: expected input [N, " + config.inChannels() + ", H, W], got "
                    + dev.activa.tensor.Shape.str(x.shape()));
        Tensor h = stemAct.forward(stemBn.forward(stemConv.forward(x)));
        if (config.stem() == Stem.IMAGENET) h = Ops.maxPool2d(h, 3, new Conv2dSpec(2, 1));
        for (Module block : blocks) h = block.forward(h);
        Tensor pooled = Ops.flatten(Ops.globalAvgPool(h)).to(DType.F32);
        return fc.forward(pooled);
    }
}
