package dev.activa.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.activa.backend.Checks;
import dev.activa.backend.Conv2dSpec;
import dev.activa.backend.cuda.ConvAlgorithmCache.Choice;
import dev.activa.backend.cuda.ConvAlgorithmCache.Direction;
import dev.activa.backend.cuda.CudnnTypes.DataType;
import dev.activa.backend.cuda.CudnnTypes.MathType;
import dev.activa.backend.cuda.CudnnTypes.TensorFormat;
import dev.activa.tensor.DType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The algorithm-cache keys, the layouts described to cuDNN and the FP32 math policy, which need no cuDNN to check. */
class CudaConvolutionsTest {
    private static final Conv2dSpec STRIDE_2 = new Conv2dSpec(2, 1);
    private static final Checks.ConvShape SHAPE =
            Checks.convShape("test", new int[] {8, 64, 32, 32}, new int[] {128, 64, 3, 3}, STRIDE_2);

    @Test
    void keysDescribeTensorsOfTheStorageTypeAndLayout() {
        var key = CudaConvolutions.key(Direction.FORWARD, DType.F16, ImageLayout.NHWC, SHAPE, STRIDE_2);
        assertEquals(new CudnnDescriptor.TensorShape(TensorFormat.NHWC, DataType.HALF, 8, 64, 32, 32), key.x());
        assertEquals(new CudnnDescriptor.FilterShape(TensorFormat.NHWC, DataType.HALF, 128, 64, 3, 3), key.w(),
                "NHWC data pairs with KRSC filters, cuDNN's NHWC filter format");
        assertEquals(new CudnnDescriptor.TensorShape(TensorFormat.NHWC, DataType.HALF, 8, 128, 16, 16), key.y());
        var nchw = CudaConvolutions.key(Direction.FORWARD, DType.F16, ImageLayout.NCHW, SHAPE, STRIDE_2);
        assertEquals(new CudnnDescriptor.TensorShape(TensorFormat.NCHW, DataType.HALF, 8, 64, 32, 32), nchw.x());
        assertEquals(new CudnnDescriptor.FilterShape(TensorFormat.NCHW, DataType.HALF, 128, 64, 3, 3), nchw.w());
        assertNotEquals(key, nchw, "each layout gets its own algorithm");
        assertEquals(1, key.convolution().padH());
        assertEquals(2, key.convolution().strideW());
        assertEquals(DataType.FLOAT, key.convolution().computeType(), "FP16 accumulates in FP32");
        assertEquals(MathType.TENSOR_OP_MATH, key.convolution().mathType());
        assertEquals(MathType.FMA_MATH, CudaConvolutions.key(Direction.FORWARD, DType.F32, ImageLayout.NHWC, SHAPE, STRIDE_2)
                .convolution().mathType(), "FP32 must not run in TF32");
    }

    @Test
    void keysAreEqualForEqualShapesAndDifferByDirectionAndType() {
        var a = CudaConvolutions.key(Direction.BACKWARD_DATA, DType.F32, ImageLayout.NHWC, SHAPE, STRIDE_2);
        var b = CudaConvolutions.key(Direction.BACKWARD_DATA, DType.F32, ImageLayout.NHWC,
                Checks.convShape("again", new int[] {8, 64, 32, 32}, new int[] {128, 64, 3, 3}, STRIDE_2), STRIDE_2);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, CudaConvolutions.key(Direction.BACKWARD_FILTER, DType.F32, ImageLayout.NHWC, SHAPE, STRIDE_2));
        assertNotEquals(a, CudaConvolutions.key(Direction.BACKWARD_DATA, DType.F16, ImageLayout.NHWC, SHAPE, STRIDE_2));
    }

    @Test
    void fp32KeepsFmaCandidatesAndRelabelsDefaultMath() {
        var fma = choice(1, MathType.FMA_MATH, 100);
        var tensorOp = choice(2, MathType.TENSOR_OP_MATH, 0);
        var byDefault = choice(3, MathType.DEFAULT_MATH, 0);
        var unsupported = choice(4, MathType.DEFAULT_MATH, 0);
        List<Choice> kept = CudaConvolutions.restrictToFma(List.of(tensorOp, byDefault, fma, unsupported), c -> {
            if (c.algorithm() == 4) throw new NativeCallException("cuDNN", "workspace", 9, "CUDNN_STATUS_NOT_SUPPORTED", null);
            return 4096;
        });
        assertEquals(2, kept.size());
        assertEquals(3, kept.get(0).algorithm());
        assertEquals(MathType.FMA_MATH, kept.get(0).mathType());
        assertEquals(4096, kept.get(0).workspaceBytes());
        assertSame(fma, kept.get(1));
    }

    @Test
    void withoutAnyFmaCandidateTheOfferStands() {
        List<Choice> offered = List.of(choice(1, MathType.TENSOR_OP_MATH, 0));
        assertSame(offered, CudaConvolutions.restrictToFma(offered, c -> 0));
    }

    @Test
    void batchNormRejectsAnEpsilonCudnnCannotTake() {
        for (double eps : new double[] {1e-5, 1e-3, 1e-8, 0}) CudaBatchNorm.checkEpsilon(eps);
        for (double eps : new double[] {-1e-5, Double.NaN}) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> CudaBatchNorm.checkEpsilon(eps));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("eps >= 0.0, got " + eps), e.getMessage());
        }
    }

    @Test
    void batchNormDescribesTheLayoutAndTakesCudnnsPersistentModeForNhwc() {
        assertEquals(new CudnnDescriptor.TensorShape(TensorFormat.NHWC, DataType.HALF, 2, 3, 4, 5),
                CudaBatchNorm.shape(ImageLayout.NHWC.cudnnFormat(), DType.F16, new int[] {2, 3, 4, 5}));
        assertEquals(new CudnnDescriptor.TensorShape(TensorFormat.NCHW, DataType.FLOAT, 2, 3, 4, 5),
                CudaBatchNorm.shape(ImageLayout.NCHW.cudnnFormat(), DType.F32, new int[] {2, 3, 4, 5}));
        assertEquals(CudnnTypes.BatchNormMode.SPATIAL_PERSISTENT,
                CudnnTypes.BatchNormMode.forLayout(ImageLayout.NHWC.cudnnFormat()));
        assertEquals(CudnnTypes.BatchNormMode.SPATIAL, CudnnTypes.BatchNormMode.forLayout(ImageLayout.NCHW.cudnnFormat()));
    }

    private static Choice choice(int algorithm, MathType math, long workspace) {
        return new Choice(Direction.FORWARD, algorithm, math, workspace, 1f, true);
    }
}
