package dev.activa.cli;

import dev.activa.autograd.Autograd;
import dev.activa.autograd.Ops;
import dev.activa.autograd.Profiler;
import dev.activa.backend.Backend;
import dev.activa.nn.ResNet;
import dev.activa.optim.Sgd;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.io.PrintStream;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/** {@code demo}: a few ResNet training steps on one random batch, printing loss and time per step. */
final class DemoCommand {
    static final String USAGE = """
            usage: activa demo [--depth 18] [--width 64] [--batch 128] [--size 32] [--channels 3] [--steps 5]
                               [--activation tanhrelu] [--dtype fp32|fp16] [--device cpu|cuda|auto] [--threads N]
                               [--profile]   (each op's time per step, over the steps after the first)
            """;

    private DemoCommand() {}

    static int run(List<String> argv, PrintStream out) {
        Args a = Args.parse("demo", argv, Set.of("depth", "width", "batch", "size", "channels", "steps", "activation",
                "dtype", "device", "threads"), Set.of("profile"));
        Backend be = Devices.open(a.string("device", "cpu"), a.string("threads", null), out);
        int batch = a.integer("batch", 128), size = a.integer("size", 32), channels = a.integer("channels", 3);
        DType dtype = ActivationsCommand.parseDType(a.string("dtype", "fp32"));
        var config = new ResNet.Config(a.integer("depth", 18), a.integer("width", 64), channels, 10, ResNet.Stem.CIFAR,
                a.string("activation", "tanhrelu"));
        var model = new ResNet(be, config, 1);
        var sgd = new Sgd(model.parameters(), Sgd.Options.defaults(0.05));
        SplittableRandom rng = new SplittableRandom(2);
        float[] images = new float[batch * channels * size * size];
        for (int i = 0; i < images.length; i++) images[i] = (float) (rng.nextDouble() * 2 - 1);
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = i % 10;
        Tensor x = be.fromFloats(images, dtype, batch, channels, size, size);
        out.printf("resnet-%d width %d, %,d parameters, batch %d×%d×%d×%d %s on %s%n", config.depth(), config.width(),
                model.parameterCount(), batch, channels, size, size, dtype, Devices.describe(be));
        int steps = a.integer("steps", 5);
        // The first step compiles the kernels: a profile of it would show the JIT, so it starts after.
        Profiler profiler = a.flag("profile") ? new Profiler(be) : null;
        if (profiler != null) profiler.leaveOut(steps > 1 ? 1 : 0);
        for (int step = 1; step <= steps; step++) {
            long t0 = System.nanoTime();
            Tensor loss;
            try (var _ = profiler == null ? Autograd.noScope() : profiler.activate()) {
                loss = Ops.crossEntropy(model.forward(x), labels, 0);
                Profiler.time("zero grad", model::zeroGrad);
                Autograd.backward(loss, null, true); // the graph's memory serves the next step
                Profiler.time("sgd step", () -> sgd.step(1));
                be.synchronize();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            out.printf("step %d  loss %.4f  %.3f s  %.0f images/s%n", step, loss.item(), seconds, batch / seconds);
        }
        if (profiler != null) out.print("profile:\n" + profiler.report().table());
        return 0;
    }
}
