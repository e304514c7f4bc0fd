package dev.activa.nn;

import dev.activa.autograd.Ops;
import dev.activa.backend.Backend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;

/** Batch norm over channels; its parameters and statistics stay in full precision whatever the input's dtype. */
public final class BatchNorm2d extends Module {
    private final Tensor gamma, beta, runningMean, runningVar;
    private final double momentum, eps;

    public BatchNorm2d(Backend be, DType dtype, int channels) {
        this(be, dtype, channels, 0.1, 1e-5);
    }

    public BatchNorm2d(Backend be, DType dtype, int channels, double momentum, double eps) {
        gamma = parameter("weight", be.full(dtype, 1, channels), false);
        beta = parameter("bias", be.zeros(dtype, channels), false);
        runningMean = buffer("running_mean", be.zeros(dtype, channels));
        runningVar = buffer("running_var", be.full(dtype, 1, channels));
        this.momentum = momentum;
        this.eps = eps;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Ops.batchNorm2d(x, gamma, beta, runningMean, runningVar, isTraining(), momentum, eps);
    }
}
