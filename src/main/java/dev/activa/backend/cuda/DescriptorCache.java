package dev.activa.backend.cuda;

import dev.activa.backend.cuda.CudnnDescriptor.ConvolutionShape;
import dev.activa.backend.cuda.CudnnDescriptor.FilterShape;
import dev.activa.backend.cuda.CudnnDescriptor.TensorShape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * cuDNN descriptors kept per shape: a training step sees the same few dozen shapes every time,
 * so each native descriptor is created once and destroyed on {@link #close()}. The shape records
 * are the keys; batch-norm parameter descriptors are keyed by the data's shape wrapped in
 * {@link BatchNormParameters} so they never collide with the data's own descriptor.
 */
final class DescriptorCache implements AutoCloseable {
    /** The key of the derived scale/bias/statistics descriptor for data of shape {@code x}. */
    record BatchNormParameters(TensorShape x) {}

    private final Map<Object, CudnnDescriptor> descriptors = new HashMap<>();

    CudnnDescriptor.Tensor tensor(TensorShape shape) {
        return (CudnnDescriptor.Tensor) descriptors.computeIfAbsent(shape, s -> CudnnDescriptor.Tensor.of(shape));
    }

    CudnnDescriptor.Filter filter(FilterShape shape) {
        return (CudnnDescriptor.Filter) descriptors.computeIfAbsent(shape, s -> CudnnDescriptor.Filter.of(shape));
    }

    CudnnDescriptor.Convolution convolution(ConvolutionShape shape) {
        return (CudnnDescriptor.Convolution) descriptors.computeIfAbsent(shape, s -> CudnnDescriptor.Convolution.of(shape));
    }

    CudnnDescriptor.Tensor batchNormParameters(TensorShape x, Function<CudnnDescriptor.Tensor, CudnnDescriptor.Tensor> derive) {
        CudnnDescriptor.Tensor data = tensor(x); // outside computeIfAbsent: a HashMap must not be modified from its own mapping function
        return (CudnnDescriptor.Tensor) descriptors.computeIfAbsent(new BatchNormParameters(x), k -> derive.apply(data));
    }

    int size() { return descriptors.size(); }

    @Override
    public void close() {
        List<RuntimeException> failures = new ArrayList<>();
        for (CudnnDescriptor d : descriptors.values()) {
            try {
                d.close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        descriptors.clear();
        if (!failures.isEmpty()) throw failures.getFirst();
    }
}
