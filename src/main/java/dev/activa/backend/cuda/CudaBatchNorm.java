package dev.activa.backend.cuda;

import static dev.activa.backend.cuda.DeviceTensors.address;

import dev.activa.backend.Backend.BatchNormForward;
import dev.activa.backend.Backend.BatchNormGrad;
import dev.activa.backend.Storage;
import dev.activa.backend.cuda.CudnnDescriptor.TensorShape;
import dev.activa.backend.cuda.CudnnTypes.BatchNormMode;
import dev.activa.backend.cuda.CudnnTypes.TensorFormat;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Spatial batch normalization through cuDNN (FP32 or FP16) over data in the backend's
 * {@link ImageLayout}: with NHWC, training (forward and backward) in cuDNN's SPATIAL_PERSISTENT mode,
 * its fast path for channels-last data, as PyTorch does; plain SPATIAL for NCHW and for evaluation,
 * which the persistent mode is not documented for. Scale, bias, running and saved statistics are
 * FP32 for cuDNN whatever the data's dtype; per-channel tensors of another dtype go through FP32
 * copies (running statistics are written back).
 *
 * <p>cuDNN's conventions match the Backend contract: {@code running = (1 − f)·running + f·batch}
 * with f the momentum, the running variance unbiased, and the saved statistics the batch mean and
 * 1/√(var + eps). The caller has checked shapes and dtypes.
 */
final class CudaBatchNorm {
    /**
     * CUDNN_BN_MIN_EPSILON: cuDNN rejects a smaller epsilon. 0.0 in the headers of cuDNN 7.6 and
     * later (1e-5 in older ones), so any eps the CPU takes but a negative one or NaN.
     */
    static final double MIN_EPSILON = 0.0;

    /** For statistics no training forward of this backend saved (their epsilon unknown): PyTorch's default. */
    private static final double DEFAULT_EPSILON = 1e-5;

    private final Cudnn cudnn;
    private final DescriptorCache descriptors;
    private final DeviceTensors device;
    private final TensorFormat format;
    /** The mode of the training forward and of the backward, which must agree. */
    private final BatchNormMode trainingMode;
    /** The epsilon of each training forward, by its saved 1/std's storage: cuDNN wants the same in the backward. */
    private final Map<Storage, Double> epsilons = new WeakHashMap<>();

    CudaBatchNorm(Cudnn cudnn, DescriptorCache descriptors, DeviceTensors device, ImageLayout layout) {
        this.cudnn = cudnn;
        this.descriptors = descriptors;
        this.device = device;
        this.format = layout.cudnnFormat();
        this.trainingMode = BatchNormMode.forLayout(format);
    }

    static TensorShape shape(TensorFormat format, DType dtype, int[] nchw) {
        return new TensorShape(format, CudaConvolutions.dataType(dtype), nchw[0], nchw[1], nchw[2], nchw[3]);
    }

    static void checkEpsilon(double eps) {
        if (!(eps >= MIN_EPSILON))
            throw new IllegalArgumentException("batchnorm2d: cuDNN needs eps >= " + MIN_EPSILON + ", got " + eps
                    + "; use eps = 1e-5 (PyTorch's default)");
    }

    /** y = BN(x) with batch statistics; updates the running statistics and saves mean and 1/std. */
    BatchNormForward train(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, double momentum,
                           double eps) {
        checkEpsilon(eps);
        Tensor[] originals = {gamma, beta, runningMean, runningVar};
        Tensor[] p = fp32(originals);
        int c = x.dim(1);
        Tensor y = device.allocate("batchnorm2d", x.dtype(), x.shape());
        Tensor mean = device.allocate("batchnorm2d mean", DType.F32, c), invStd = device.allocate("batchnorm2d 1/std", DType.F32, c);
        TensorShape shape = shape(format, x.dtype(), x.shape());
        CudnnDescriptor.Tensor data = descriptors.tensor(shape);
        cudnn.batchNormForwardTraining(trainingMode, data, address(x), data, address(y), parameters(shape), address(p[0]),
                address(p[1]), momentum, address(p[2]), address(p[3]), eps, address(mean), address(invStd));
        epsilons.put(invStd.storage(), eps);
        for (int i = 2; i < 4; i++) if (p[i] != originals[i]) device.copyInto(originals[i], p[i]);
        release(p, originals);
        return new BatchNormForward(y, mean, invStd);
    }

    /** y = BN(x) with the running statistics. */
    Tensor eval(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, double eps) {
        checkEpsilon(eps);
        Tensor[] originals = {gamma, beta, runningMean, runningVar};
        Tensor[] p = fp32(originals);
        Tensor y = device.allocate("batchnorm2d", x.dtype(), x.shape());
        TensorShape shape = shape(format, x.dtype(), x.shape());
        CudnnDescriptor.Tensor data = descriptors.tensor(shape);
        cudnn.batchNormForwardInference(BatchNormMode.SPATIAL, data, address(x), data, address(y), parameters(shape), address(p[0]),
                address(p[1]), address(p[2]), address(p[3]), eps);
        release(p, originals);
        return y;
    }

    /**
     * dx (in dy's dtype), dgamma and dbeta (in gamma's) from the statistics the forward saved,
     * computed in {@link DeviceTensors#backwardType}.
     */
    BatchNormGrad backward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd) {
        Tensor[] originals = {gamma, savedMean, savedInvStd};
        Tensor[] p = fp32(originals);
        DType compute = DeviceTensors.backwardType(x, dy);
        Tensor xs = device.converted(x, compute), g = device.converted(dy, compute);
        int c = x.dim(1);
        Tensor dx = device.allocate("batchnorm2d backward", compute, x.shape());
        Tensor dgamma = device.allocate("batchnorm2d backward", DType.F32, c);
        Tensor dbeta = device.allocate("batchnorm2d backward", DType.F32, c);
        double eps = epsilons.getOrDefault(savedInvStd.storage(), DEFAULT_EPSILON);
        TensorShape shape = shape(format, compute, x.shape());
        CudnnDescriptor.Tensor data = descriptors.tensor(shape);
        cudnn.batchNormBackward(trainingMode, 1f, 0f, 1f, 0f, data, address(xs), data, address(g), data, address(dx),
                parameters(shape), address(p[0]), address(dgamma), address(dbeta), eps,
                address(p[1]), address(p[2]));
        DeviceTensors.release(xs, x);
        DeviceTensors.release(g, dy);
        release(p, originals);
        return new BatchNormGrad(device.converted(dx, dy.dtype()), device.converted(dgamma, gamma.dtype()),
                device.converted(dbeta, gamma.dtype()));
    }

    private Tensor[] fp32(Tensor[] tensors) {
        Tensor[] out = new Tensor[tensors.length];
        for (int i = 0; i < out.length; i++) out[i] = device.converted(tensors[i], DType.F32);
        return out;
    }

    private static void release(Tensor[] copies, Tensor[] originals) {
        for (int i = 0; i < copies.length; i++) DeviceTensors.release(copies[i], originals[i]);
    }

    private CudnnDescriptor.Tensor parameters(TensorShape shape) {
        // [1, C, 1, 1] in both spatial modes, so one descriptor per shape serves training and evaluation
        return descriptors.batchNormParameters(shape, data -> cudnn.batchNormParameters(data, trainingMode));
    }
}
