package dev.activa.autograd;

import dev.activa.activation.Activation;
import dev.activa.backend.Backend;
import dev.activa.backend.Conv2dSpec;
import dev.activa.tensor.DType;
import dev.activa.tensor.Shape;
import dev.activa.tensor.Tensor;

/**
 * The differentiable ops: each runs its backend kernel and records how to map the gradient of
 * its output to the gradients of its inputs.
 */
public final class Ops {
    private Ops() {}

    private static Backend backendOf(Tensor t) { return t.backend(); }

    /** Ends the op's forward time (see {@link Profiler}) and records it; start is {@link Profiler#begin}'s. */
    private static Tensor recorded(long start, String op, Tensor y, Node.Backward backward, Tensor... inputs) {
        Profiler.endForward(op, start);
        return Autograd.record(op, y, backward, inputs);
    }

    private static Tensor recorded(long start, String op, Tensor y, Node.OverwritingBackward backward, Tensor... inputs) {
        Profiler.endForward(op, start);
        return Autograd.record(op, y, backward, inputs);
    }

    public static Tensor reshape(Tensor x, int... shape) {
        long start = Profiler.begin();
        Shape.requireViewable("reshape", x, shape);
        int[] original = x.shape();
        Tensor y = backendOf(x).view(x, shape);
        return recorded(start, "reshape", y, g -> new Tensor[] {g.backend().view(g, original)}, x);
    }

    /** [N, ...] → [N, rest]. */
    public static Tensor flatten(Tensor x) {
        return reshape(x, x.dim(0), (int) (x.numel() / x.dim(0)));
    }

    public static Tensor cast(Tensor x, DType target) {
        long start = Profiler.begin();
        DType source = x.dtype();
        Tensor y = backendOf(x).cast(x, target);
        return recorded(start, "cast", y, g -> new Tensor[] {g.backend().cast(g, source)}, x);
    }

    public static Tensor add(Tensor a, Tensor b) {
        long start = Profiler.begin();
        Tensor y = backendOf(a).add(a, b);
        return recorded(start, "add", y, g -> new Tensor[] {g, g}, a, b);
    }

    public static Tensor scale(Tensor x, double factor) {
        long start = Profiler.begin();
        Tensor y = backendOf(x).scale(x, factor);
        return recorded(start, "scale", y, g -> new Tensor[] {g.backend().scale(g, factor)}, x);
    }

    public static Tensor sum(Tensor x) {
        long start = Profiler.begin();
        int[] shape = x.shape();
        Tensor y = backendOf(x).sum(x);
        return recorded(start, "sum", y, g -> new Tensor[] {g.backend().full(g.dtype(), g.item(), shape)}, x);
    }

    public static Tensor mean(Tensor x) {
        return scale(sum(x), 1.0 / x.numel());
    }

    /**
     * act(x), or act(x + residual) with the residual add fused in. {@code rawParams} holds the
     * activation's learnable scalars before clamping (null for activations without any).
     */
    public static Tensor activation(Activation act, Tensor rawParams, Tensor x, Tensor residual) {
        long start = Profiler.begin();
        int np = act.parameters().size();
        if (np > 0 && (rawParams == null || rawParams.numel() != np))
            throw new IllegalArgumentException(act.name() + ": needs " + np + " parameters "
                    + act.parameters().stream().map(Activation.Parameter::name).toList() + ", got "
                    + (rawParams == null ? "none" : Shape.str(rawParams.shape())));
        double[] raw = np == 0 ? new double[0] : rawParams.toDoubles();
        double[] p = act.effective(raw);
        Backend be = backendOf(x);
        Tensor y = be.activationForward(act, p, x, residual);
        String op = residual == null ? act.name() : "add+" + act.name();
        return recorded(start, op, y, (g, gIsFree) -> {
            // dx over dy where no one else reads dy: no new tensor, and the kernel's writes land on
            // cache lines its reads just brought in
            Tensor dx;
            double[] paramGrads;
            if (gIsFree) {
                dx = g;
                paramGrads = g.backend().activationBackwardInto(act, p, x, residual, g, dx);
            } else {
                var grad = g.backend().activationBackward(act, p, x, residual, g);
                dx = grad.dx();
                paramGrads = grad.paramGrads();
            }
            Tensor dParams = null;
            if (np > 0) {
                double[] masked = new double[np];
                for (int k = 0; k < np; k++)
                    masked[k] = act.parameters().get(k).passesGradient(raw[k]) ? paramGrads[k] : 0;
                dParams = g.backend().fromDoubles(masked, rawParams.dtype(), np);
            }
            return new Tensor[] {dx, residual == null ? null : dx, dParams};
        }, x, residual, rawParams);
    }

    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, Conv2dSpec spec) {
        long start = Profiler.begin();
        Backend be = backendOf(x);
        int[] xShape = x.shape(), wShape = weight.shape();
        Tensor y = be.conv2d(x, weight, spec);
        if (bias != null) y = be.addChannelBias(y, bias);
        // Profiled, each shape apart, as convolutions take most of a step: "conv2d 3×3 16→32 s2 28×28".
        String op = start == Profiler.OFF ? "conv2d" : "conv2d %d×%d %d→%d s%d %d×%d".formatted(wShape[2], wShape[3],
                wShape[1], wShape[0], spec.stride(), xShape[2], xShape[3]);
        return recorded(start, op, y, g -> new Tensor[] {
                x.requiresGrad() ? g.backend().conv2dBackwardInput(g, weight, xShape, spec) : null,
                weight.requiresGrad() ? g.backend().conv2dBackwardWeight(g, x, wShape, spec) : null,
                bias != null && bias.requiresGrad() ? g.backend().channelSum(g) : null}, x, weight, bias);
    }

    /**
     * Batch norm over [N, C, H, W]. In training mode it normalises with batch statistics and
     * updates the running ones in place; in eval mode it uses the running statistics.
     */
    public static Tensor batchNorm2d(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                     boolean training, double momentum, double eps) {
        long start = Profiler.begin();
        Backend be = backendOf(x);
        if (!training) {
            Tensor y = be.batchNormEval(x, gamma, beta, runningMean, runningVar, eps);
            return recorded(start, "batchnorm2d(eval)", y, g -> {
                throw new UnsupportedOperationException("batchnorm2d in eval mode has no backward here; "
                        + "switch the model to training mode, or run evaluation under Autograd.noGrad()");
            }, x, gamma, beta);
        }
        var out = be.batchNormTrain(x, gamma, beta, runningMean, runningVar, momentum, eps);
        return recorded(start, "batchnorm2d", out.y(), (g, gIsFree) -> {
            // dx over dy where no one else reads dy, as the activations do: no new tensor to fill
            var grad = gIsFree ? g.backend().batchNormBackwardOverDy(x, g, gamma, out.savedMean(), out.savedInvStd())
                    : g.backend().batchNormBackward(x, g, gamma, out.savedMean(), out.savedInvStd());
            return new Tensor[] {grad.dx(), grad.dgamma(), grad.dbeta()};
        }, x, gamma, beta);
    }

    public static Tensor globalAvgPool(Tensor x) {
        long start = Profiler.begin();
        int[] shape = x.shape();
        Tensor y = backendOf(x).globalAvgPool(x);
        return recorded(start, "global_avg_pool", y, g -> new Tensor[] {g.backend().globalAvgPoolBackward(g, shape)}, x);
    }

    public static Tensor maxPool2d(Tensor x, int kernel, Conv2dSpec spec) {
        long start = Profiler.begin();
        int[] shape = x.shape();
        var out = backendOf(x).maxPool(x, kernel, spec);
        return recorded(start, "max_pool2d", out.y(),
                g -> new Tensor[] {g.backend().maxPoolBackward(g, out.argmax(), shape)}, x);
    }

    public static Tensor matmul(Tensor a, Tensor b) {
        long start = Profiler.begin();
        Tensor y = backendOf(a).matmul(a, b, false, false);
        return recorded(start, "matmul", y, g -> new Tensor[] {
                g.backend().matmul(g, b, false, true), g.backend().matmul(a, g, true, false)}, a, b);
    }

    /** x [N, in] · weightᵀ [in, out] + bias [out], the weight stored [out, in] as PyTorch does. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        long start = Profiler.begin();
        Backend be = backendOf(x);
        if (x.rank() != 2 || weight.rank() != 2 || x.dim(1) != weight.dim(1))
            throw new IllegalArgumentException("linear: input " + Shape.str(x.shape()) + " does not match weight "
                    + Shape.str(weight.shape()) + " ([out, in])");
        Tensor y = be.matmul(x, weight, false, true);
        if (bias != null) y = be.addRowBias(y, bias);
        return recorded(start, "linear", y, g -> new Tensor[] {
                x.requiresGrad() ? g.backend().matmul(g, weight, false, false) : null,
                weight.requiresGrad() ? g.backend().matmul(g, x, true, false) : null,
                bias != null && bias.requiresGrad() ? g.backend().rowSum(g) : null}, x, weight, bias);
    }

    /** Mean softmax cross-entropy of logits [N, classes] against labels, with optional label smoothing. */
    public static Tensor crossEntropy(Tensor logits, int[] labels, double labelSmoothing) {
        long start = Profiler.begin();
        if (labelSmoothing < 0 || labelSmoothing >= 1)
            throw new IllegalArgumentException("cross-entropy: label smoothing must be in [0, 1), got " + labelSmoothing);
        DType logitsType = logits.dtype();
        var out = backendOf(logits).softmaxCrossEntropy(logits, labels, labelSmoothing);
        int[] labelsCopy = labels.clone();
        return recorded(start, "cross_entropy", out.loss(), g -> new Tensor[] {
                g.backend().softmaxCrossEntropyBackward(out.probabilities(), labelsCopy, labelSmoothing, g.item(), logitsType)},
                logits);
    }
}
