package dev.activa.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.activa.activation.Activation;
import dev.activa.tensor.DType;
import org.junit.jupiter.api.Test;

/** Kernel names and launch sizes: the README's ABI table, checked without a GPU. */
class CudaKernelsTest {
    @Test
    void activationKernelNamesFollowTheAbi() {
        Activation nami = Activation.of("nami"), relu = Activation.of("relu");
        assertEquals("activa_act_fwd_nami_f32", CudaKernels.activationKernel(nami, false, false, DType.F32));
        assertEquals("activa_act_bwd_relu_f16", CudaKernels.activationKernel(relu, false, true, DType.F16));
        assertEquals("activa_add_act_fwd_relu_f16", CudaKernels.activationKernel(relu, true, false, DType.F16));
        assertEquals("activa_add_act_bwd_nami_f32", CudaKernels.activationKernel(nami, true, true, DType.F32));
        assertThrows(IllegalArgumentException.class, () -> CudaKernels.suffix(DType.F64));
    }

    @Test
    void anActivationDefinedInJavaHasNoKernelAndTheErrorSaysWhatToDo() {
        Activation gelu = Activation.define("gelu", (x, p) -> x, (x, p) -> 1);
        var e = assertThrows(IllegalArgumentException.class, () -> CudaKernels.activationKernel(gelu, false, false, DType.F32));
        assertEquals("cuda backend: activation 'gelu' is defined in Java (Activation.define), and the GPU runs compiled "
                + "kernels only, for relu, elu, swish, mish, tanhrelu, nami; train it on the CPU backend, or add its functor "
                + "to kernels/activations.cuh", e.getMessage());
    }

    @Test
    void everyActivationKernelIsInTheExpectedSymbols() throws Exception {
        var symbols = java.nio.file.Files.readAllLines(java.nio.file.Path.of("native-tests/expected_symbols.txt"));
        for (String name : Activation.NAMES)
            for (DType dt : new DType[] {DType.F32, DType.F16})
                for (boolean fused : new boolean[] {false, true})
                    for (boolean backward : new boolean[] {false, true}) {
                        String kernel = CudaKernels.activationKernel(Activation.of(name), fused, backward, dt);
                        assertEquals(true, symbols.contains(kernel), kernel + " is not in expected_symbols.txt");
                    }
        for (String family : new String[] {"scale_copy", "bias_add", "channel_sum", "maxpool_fwd", "maxpool_bwd",
                "add", "softmax_xent_fwd", "softmax_xent_bwd", "global_avgpool_fwd", "global_avgpool_bwd"})
            for (String dt : new String[] {"f32", "f16"})
                assertEquals(true, symbols.contains("activa_" + family + "_" + dt), family + "_" + dt);
    }

    @Test
    void elementwiseGridsFollowTheReadme() {
        // grid = max(1, min(ceil(units / 256), 8 · SMs))
        assertEquals(1, CudaKernels.elementwiseGrid(0, 132));
        assertEquals(1, CudaKernels.elementwiseGrid(256, 132));
        assertEquals(2, CudaKernels.elementwiseGrid(257, 132));
        assertEquals(8 * 132, CudaKernels.elementwiseGrid(1L << 30, 132));
        assertEquals(8, CudaKernels.elementwiseGrid(1L << 30, 0), "an unknown SM count still launches");
    }

    @Test
    void vectorisedKernelsCountPacks() {
        assertEquals(0, CudaKernels.vectorUnits(0, DType.F32));
        assertEquals(1, CudaKernels.vectorUnits(3, DType.F32));
        assertEquals(2, CudaKernels.vectorUnits(5, DType.F32));
        assertEquals(1, CudaKernels.vectorUnits(8, DType.F16));
        assertEquals(2, CudaKernels.vectorUnits(9, DType.F16));
    }

    @Test
    void softmaxBlocksAreWarpMultiplesUpTo256() {
        assertEquals(32, CudaKernels.softmaxBlock(2));
        assertEquals(32, CudaKernels.softmaxBlock(10));
        assertEquals(128, CudaKernels.softmaxBlock(100));
        assertEquals(256, CudaKernels.softmaxBlock(1000));
        assertEquals(1, CudaKernels.perChannelGrid(0));
        assertEquals(512, CudaKernels.perChannelGrid(512));
        assertEquals(KernelModule.MAX_GRID, CudaKernels.perChannelGrid(1 << 20));
    }

    @Test
    void poolGeometryCountsInputsAndOutputs() {
        var g = new CudaKernels.PoolGeometry(6, 32, 32, 3, 2, 1, 16, 16, 3, true);
        assertEquals(6L * 16 * 16, g.outputs());
        assertEquals(6L * 32 * 32, g.inputs());
    }
}
