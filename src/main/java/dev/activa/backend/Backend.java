package dev.activa.backend;

import dev.activa.activation.Activation;
import dev.activa.tensor.DType;
import dev.activa.tensor.Shape;
import dev.activa.tensor.Tensor;
import java.util.List;

/**
 * The kernels a device must provide. Everything here works on whole tensors and returns new
 * ones (except the explicitly in-place methods); autograd lives above, in {@code Ops}.
 * Images are NCHW in logical order; a backend may store them in another physical layout.
 */
public interface Backend {
    String name();

    /** Waits until the work queued so far has finished: a no-op where ops run when called (the CPU). */
    default void synchronize() {}

    // --- memory -------------------------------------------------------------------------------
    Tensor zeros(DType dtype, int... shape);

    Tensor full(DType dtype, double value, int... shape);

    /**
     * Takes back the memory of an intermediate tensor that autograd no longer needs, for later
     * outputs; reading it or its views afterwards is an error. Autograd calls this only where asked
     * to ({@code Autograd.backward(root, seed, true)}, {@code Autograd.recyclingPass()}); a backend
     * that has nothing to gain ignores it.
     */
    default void recycle(Tensor t) {}

    Tensor fromFloats(float[] data, DType dtype, int... shape);

    Tensor fromDoubles(double[] data, DType dtype, int... shape);

    float[] toFloats(Tensor t);

    double[] toDoubles(Tensor t);

    /** A new tensor of the target dtype (a copy even when the dtype is the same). */
    Tensor cast(Tensor t, DType target);

    /** Overwrites dst's elements with src's, converting the dtype (same element count). */
    void copy(Tensor dst, Tensor src);

    /** A view with another shape over the same storage. */
    default Tensor view(Tensor t, int... shape) {
        Shape.requireViewable("view", t, shape);
        return new Tensor(this, t.dtype(), shape, t.storage());
    }

    // --- elementwise --------------------------------------------------------------------------
    Tensor add(Tensor a, Tensor b);

    /** acc += x, in place. */
    void addInPlace(Tensor acc, Tensor x);

    Tensor scale(Tensor a, double factor);

    /** y = act(x), or y = act(x + residual) when {@code residual} is not null. */
    Tensor activationForward(Activation act, double[] params, Tensor x, Tensor residual);

    /**
     * dx = dy · act'(x) (x is {@code x + residual} when a residual was fused in) and, for
     * activations with parameters, Σ dy · ∂act/∂p over all elements.
     */
    ActivationGrad activationBackward(Activation act, double[] params, Tensor x, Tensor residual, Tensor dy);

    record ActivationGrad(Tensor dx, double[] paramGrads) {}

    /**
     * {@link #activationForward} writing into {@code out} (x's shape and dtype; x itself for an
     * in-place activation), for callers that keep their buffers from step to step. Returns out.
     */
    default Tensor activationForwardInto(Activation act, double[] params, Tensor x, Tensor residual, Tensor out) {
        copy(out, activationForward(act, params, x, residual));
        return out;
    }

    /**
     * {@link #activationBackward} writing dx into {@code dx} (x's shape and dy's dtype; dy itself
     * to overwrite the upstream gradient). Returns the parameter gradients.
     */
    default double[] activationBackwardInto(Activation act, double[] params, Tensor x, Tensor residual, Tensor dy,
                                            Tensor dx) {
        ActivationGrad grad = activationBackward(act, params, x, residual, dy);
        copy(dx, grad.dx());
        return grad.paramGrads();
    }

    /** The sum of all elements, as a one-element tensor of the input's dtype. */
    Tensor sum(Tensor t);

    /**
     * The loss scaler's pass over the gradients: multiplies every element of each tensor by
     * {@code factor} in place (rounded to the tensor's dtype) and says whether any was Inf or NaN,
     * before or after. One pass over each tensor; on a GPU one synchronisation for all of them.
     */
    boolean unscaleAndCheck(List<Tensor> tensors, double factor);

    // --- convolution and normalisation ----------------------------------------------------------
    Tensor conv2d(Tensor x, Tensor weight, Conv2dSpec spec);

    Tensor conv2dBackwardInput(Tensor dy, Tensor weight, int[] inputShape, Conv2dSpec spec);

    Tensor conv2dBackwardWeight(Tensor dy, Tensor x, int[] weightShape, Conv2dSpec spec);

    /** Adds a per-channel bias to NCHW x; and its gradient, the sum of dy over N, H, W. */
    Tensor addChannelBias(Tensor x, Tensor bias);

    Tensor channelSum(Tensor dy);

    /**
     * Batch norm with batch statistics; updates the running statistics in place
     * (running = (1 − momentum)·running + momentum·batch, unbiased variance as PyTorch).
     */
    BatchNormForward batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                    double momentum, double eps);

    record BatchNormForward(Tensor y, Tensor savedMean, Tensor savedInvStd) {}

    Tensor batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, double eps);

    BatchNormGrad batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd);

    record BatchNormGrad(Tensor dx, Tensor dgamma, Tensor dbeta) {}

    /**
     * {@link #batchNormBackward}, allowed to write dx over {@code dy} where nothing else reads dy
     * (the caller says so): the result's dx is then dy itself. A backend that cannot returns a new
     * dx, as by default.
     */
    default BatchNormGrad batchNormBackwardOverDy(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd) {
        return batchNormBackward(x, dy, gamma, savedMean, savedInvStd);
    }

    // --- pooling ----------------------------------------------------------------------------
    /** [N, C, H, W] → [N, C]. */
    Tensor globalAvgPool(Tensor x);

    Tensor globalAvgPoolBackward(Tensor dy, int[] inputShape);

    MaxPoolForward maxPool(Tensor x, int kernel, Conv2dSpec spec);

    /** {@code argmax} holds, per output element, the flat index of the input element it took. */
    record MaxPoolForward(Tensor y, int[] argmax) {}

    Tensor maxPoolBackward(Tensor dy, int[] argmax, int[] inputShape);

    // --- linear algebra and loss ---------------------------------------------------------------
    /** op(a) · op(b) for 2-D tensors, op being an optional transpose. */
    Tensor matmul(Tensor a, Tensor b, boolean transposeA, boolean transposeB);

    /** x [rows, cols] + bias [cols] broadcast over rows. */
    Tensor addRowBias(Tensor x, Tensor bias);

    /** Σ over rows: [rows, cols] → [cols]. */
    Tensor rowSum(Tensor x);

    /**
     * Mean softmax cross-entropy of logits [rows, classes] against labels, with label smoothing;
     * returns the loss (a one-element FP32 tensor, or FP64 for FP64 logits) and the probabilities.
     */
    CrossEntropyForward softmaxCrossEntropy(Tensor logits, int[] labels, double smoothing);

    record CrossEntropyForward(Tensor loss, Tensor probabilities) {}

    /** dL/dlogits = (p − target) · upstream / rows, in the dtype of the logits. */
    Tensor softmaxCrossEntropyBackward(Tensor probabilities, int[] labels, double smoothing, double upstream,
                                       DType logitsType);

    // --- optimiser ----------------------------------------------------------------------------
    /**
     * One SGD step in place (PyTorch semantics): g = grad·gradScale + wd·w; buf = μ·buf + g;
     * g = nesterov ? g + μ·buf : buf; w −= lr·g. The momentum buffer starts at zero.
     */
    void sgdStep(Tensor weight, Tensor grad, Tensor momentumBuffer, double lr, double momentum,
                 double weightDecay, boolean nesterov, double gradScale);
}
