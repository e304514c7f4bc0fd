package dev.activa.backend.cuda;

import dev.activa.backend.cuda.CudnnDescriptor.TensorShape;
import dev.activa.backend.cuda.CudnnTypes.BatchNormMode;
import dev.activa.backend.cuda.CudnnTypes.TensorFormat;
import dev.activa.tensor.DType;

/**
 * Spatial batch normalization through cuDNN over NCHW data (FP32 or FP16). Scale, bias, running
 * and saved statistics are FP32 device buffers of C values whatever the data's dtype, as cuDNN
 * requires; the backend converts per-channel tensors of another dtype before calling in.
 *
 * <p>cuDNN's conventions match the Backend contract: {@code running = (1 − f)·running + f·batch}
 * with f the momentum, the running variance unbiased, and the saved statistics the batch mean and
 * 1/√(var + eps).
 */
final class CudaBatchNorm {
    /** CUDNN_BN_MIN_EPSILON (cudnn_ops.h): cuDNN rejects a smaller epsilon. */
    static final double MIN_EPSILON = 1e-5;
    /** Plain SPATIAL: SPATIAL_PERSISTENT is the fast path for NHWC, and this backend stores NCHW. */
    private static final BatchNormMode MODE = BatchNormMode.SPATIAL;

    private final Cudnn cudnn;
    private final DescriptorCache descriptors;

    CudaBatchNorm(Cudnn cudnn, DescriptorCache descriptors) {
        this.cudnn = cudnn;
        this.descriptors = descriptors;
    }

    static TensorShape shape(DType dtype, int[] nchw) {
        return new TensorShape(TensorFormat.NCHW, CudaConvolutions.dataType(dtype), nchw[0], nchw[1], nchw[2], nchw[3]);
    }

    static void checkEpsilon(double eps) {
        if (!(eps >= MIN_EPSILON))
            throw new IllegalArgumentException("batchnorm2d: cuDNN needs eps >= " + MIN_EPSILON + ", got " + eps
                    + "; use eps = 1e-5 (PyTorch's default) or the CPU backend");
    }

    /** y = BN(x) with batch statistics; updates the running statistics and saves mean and 1/std. */
    void train(DType dtype, int[] nchw, long x, long y, long gamma, long beta, double momentum, double eps,
               long runningMean, long runningVar, long savedMean, long savedInvStd) {
        checkEpsilon(eps);
        TensorShape shape = shape(dtype, nchw);
        CudnnDescriptor.Tensor data = descriptors.tensor(shape);
        cudnn.batchNormForwardTraining(MODE, data, x, data, y, parameters(shape), gamma, beta, momentum, runningMean,
                runningVar, eps, savedMean, savedInvStd);
    }

    /** y = BN(x) with the running statistics. */
    void eval(DType dtype, int[] nchw, long x, long y, long gamma, long beta, long mean, long var, double eps) {
        checkEpsilon(eps);
        TensorShape shape = shape(dtype, nchw);
        CudnnDescriptor.Tensor data = descriptors.tensor(shape);
        cudnn.batchNormForwardInference(MODE, data, x, data, y, parameters(shape), gamma, beta, mean, var, eps);
    }

    /** dx, dgamma, dbeta (all overwritten) from the statistics the forward pass saved with epsilon {@code eps}. */
    void backward(DType dtype, int[] nchw, long x, long dy, long dx, long gamma, long dgamma, long dbeta,
                  long savedMean, long savedInvStd, double eps) {
        TensorShape shape = shape(dtype, nchw);
        CudnnDescriptor.Tensor data = descriptors.tensor(shape);
        // cuDNN asks for the forward's epsilon; the Backend contract does not pass it, so the backend remembers it.
        cudnn.batchNormBackward(MODE, 1f, 0f, 1f, 0f, data, x, data, dy, data, dx, parameters(shape), gamma, dgamma,
                dbeta, Math.max(eps, MIN_EPSILON), savedMean, savedInvStd);
    }

    private CudnnDescriptor.Tensor parameters(TensorShape shape) {
        return descriptors.batchNormParameters(shape, data -> cudnn.batchNormParameters(data, MODE));
    }
}
