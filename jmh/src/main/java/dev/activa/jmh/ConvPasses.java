package dev.activa.jmh;

import dev.activa.backend.Conv2dSpec;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/**
 * A layer's three convolution passes through the public backend API: {@link Conv2dBench}'s work,
 * and {@link InTurn}'s, which loads this class once per build so that it links against that
 * build's engine. {@code layer} is "N,C,H,K,R,stride,pad" or the same with colons (square images
 * and kernels).
 */
public final class ConvPasses implements IntFunction<double[]> {
    private final CpuBackend cpu = new CpuBackend();
    private final Tensor x, w, dy;
    private final Conv2dSpec spec;
    private final int[] xShape, wShape;

    public ConvPasses(String layer) {
        String[] f = layer.split("[,:]");
        int n = Integer.parseInt(f[0]), c = Integer.parseInt(f[1]), h = Integer.parseInt(f[2]);
        int k = Integer.parseInt(f[3]), r = Integer.parseInt(f[4]);
        spec = new Conv2dSpec(Integer.parseInt(f[5]), Integer.parseInt(f[6]));
        int ho = spec.outputSize(h, r);
        var rng = new SplittableRandom(2);
        xShape = new int[] {n, c, h, h};
        wShape = new int[] {k, c, r, r};
        x = cpu.fromFloats(Data.random(rng, n * c * h * h), DType.F32, xShape);
        w = cpu.fromFloats(Data.random(rng, k * c * r * r, 0.1f), DType.F32, wShape);
        dy = cpu.fromFloats(Data.random(rng, n * k * ho * ho), DType.F32, n, k, ho, ho);
    }

    public Tensor forward() { return cpu.conv2d(x, w, spec); }

    public Tensor inputGradient() { return cpu.conv2dBackwardInput(dy, w, xShape, spec); }

    public Tensor weightGradient() { return cpu.conv2dBackwardWeight(dy, x, wShape, spec); }

    /** Milliseconds of the forward pass, the input gradient and the weight gradient: each the best of {@code calls}. */
    @Override
    public double[] apply(int calls) {
        double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
        for (int i = 0; i < calls; i++)
            for (int pass = 0; pass < 3; pass++) {
                long t0 = System.nanoTime();
                Tensor out = switch (pass) {
                    case 0 -> forward();
                    case 1 -> inputGradient();
                    default -> weightGradient();
                };
                best[pass] = Math.min(best[pass], (System.nanoTime() - t0) / 1e6);
                if (out.numel() == 0) throw new IllegalStateException("empty result");
            }
        return best;
    }
}
