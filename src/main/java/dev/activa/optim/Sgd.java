package dev.activa.optim;

import dev.activa.nn.Module;
import dev.activa.tensor.Tensor;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * SGD with momentum, weight decay and optional Nesterov, with PyTorch's semantics. Weight decay
 * can skip batch-norm, bias and activation parameters ({@link Module.Parameter#decays()}).
 */
public final class Sgd {
    public record Options(double lr, double momentum, double weightDecay, boolean nesterov, boolean decayNormAndBias) {
        public Options {
            if (!(lr > 0)) throw new IllegalArgumentException("sgd: learning rate must be positive, got " + lr);
            if (momentum < 0 || momentum >= 1) throw new IllegalArgumentException("sgd: momentum must be in [0, 1), got " + momentum);
            if (weightDecay < 0) throw new IllegalArgumentException("sgd: weight decay must be >= 0, got " + weightDecay);
            if (nesterov && momentum == 0) throw new IllegalArgumentException("sgd: Nesterov needs momentum > 0");
        }

        public static Options defaults(double lr) {
            return new Options(lr, 0.9, 5e-4, false, false);
        }
    }

    private final List<Module.Parameter> params;
    private final Options options;
    private final Map<Tensor, Tensor> momentum = new IdentityHashMap<>();
    private double lr;

    public Sgd(List<Module.Parameter> params, Options options) {
        this.params = List.copyOf(params);
        this.options = options;
        this.lr = options.lr();
    }

    public double lr() { return lr; }

    public void setLr(double lr) { this.lr = lr; }

    public Options options() { return options; }

    /** Applies one update from the parameters' gradients, multiplied by {@code gradScale} (1/loss scale). */
    public void step(double gradScale) {
        for (Module.Parameter p : params) {
            Tensor w = p.tensor();
            if (w.grad() == null) continue;
            Tensor buf = momentumBuffer(p);
            double wd = p.decays() || options.decayNormAndBias() ? options.weightDecay() : 0;
            w.backend().sgdStep(w, w.grad(), buf, lr, options.momentum(), wd, options.nesterov(), gradScale);
        }
    }

    /** The momentum buffer of a parameter (created at zero on first use): part of a checkpoint. */
    public Tensor momentumBuffer(Module.Parameter p) {
        return momentum.computeIfAbsent(p.tensor(), w -> w.backend().zeros(w.dtype(), w.shape()));
    }

    public List<Module.Parameter> parameters() { return params; }
}
