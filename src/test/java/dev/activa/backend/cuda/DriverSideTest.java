package dev.activa.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.Test;

/** What can be checked of the JCuda side without a GPU, and the no-GPU behaviour itself. */
class DriverSideTest {
    @Test
    void devicePointerCarriesARawAddressThroughJCuda() {
        long address = 0x7f12_3456_7800L;
        DevicePointer p = DevicePointer.of(address);
        assertEquals(address, p.address());
        assertTrue(p.toString().contains("byteOffset=" + address), p.toString());
        assertEquals(0, new DevicePointer().address());
        assertTrue(p.withByteOffset(64).toString().contains("byteOffset=" + (address + 64)), "offsets add up");
        assertEquals(0, new CudaStream().address());
    }

    @Test
    void kernelParametersAcceptTheSupportedTypes() {
        var params = KernelModule.parameters(0x1000L, 7, 1.5f, 2.5, DevicePointer.of(0x2000));
        assertTrue(params.toString().startsWith("Pointer["), params.toString());
        var e = assertThrows(IllegalArgumentException.class, () -> KernelModule.parameters("nope"));
        assertTrue(e.getMessage().contains("kernel argument 0 has unsupported type java.lang.String"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KernelModule.parameters((Object) null));
    }

    @Test
    void gridsCoverTheWorkAndStayWithinLimits() {
        assertEquals(1, KernelModule.gridFor(0, 256, 1));
        assertEquals(4, KernelModule.gridFor(1000, 256, 1));
        assertEquals(1, KernelModule.gridFor(1000, 256, 4));
        assertEquals(KernelModule.MAX_GRID, KernelModule.gridFor(1L << 40, 256, 4));
    }

    @Test
    void withoutADriverInitializeSaysSoPlainly() {
        assumeFalse(CudaDriver.isAvailable(), "a CUDA driver is present here");
        var e = assertThrows(CudaUnavailableException.class, CudaDriver::initialize);
        assertTrue(e.getMessage().contains("libcuda.so.1"), e.getMessage());
        assertTrue(e.fix().contains("NVIDIA driver"), e.fix());
        assertTrue(e.searched().stream().anyMatch(s -> s.contains("system loader")), e.searched().toString());
        assertSame(e, assertThrows(CudaUnavailableException.class, CudaDriver::initialize), "the answer is remembered");
        assertThrows(CudaUnavailableException.class, () -> CudaDriver.open(0));
    }

    @Test
    void missingFatbinSaysKernelsWereNotBuilt() {
        assumeFalse(KernelModule.resourcePresent(), "the kernels were built into this class path");
        var e = assertThrows(CudaUnavailableException.class, KernelModule::readFatbin);
        assertTrue(e.getMessage().startsWith("kernels were not built"), e.getMessage());
        assertTrue(e.fix().contains("nvcc on PATH"), e.fix());
    }

    @Test
    void driverStatusNamesMapBackToCodes() {
        assertEquals(2, CudaDriver.statusCode("CUDA_ERROR_OUT_OF_MEMORY"));
        assertEquals(209, CudaDriver.statusCode("CUDA_ERROR_NO_BINARY_FOR_GPU"));
        assertEquals(999, CudaDriver.statusCode("not a status"));
        assertEquals("13.0", CudaDriver.formatVersion(13000));
        assertEquals("12.6", CudaDriver.formatVersion(12060));
    }
}
