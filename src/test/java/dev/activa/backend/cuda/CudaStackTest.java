package dev.activa.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What opening the CUDA backend reports when pieces of the stack are missing. */
class CudaStackTest {
    private static CudaUnavailableException missing(String what, String where, String fix) {
        return new CudaUnavailableException(what, List.of(where), fix);
    }

    @Test
    void everyRequirementIsTriedAndEveryFailureReported() {
        var calls = new int[1];
        var failures = CudaStack.failures(List.of(
                new CudaStack.Requirement("driver", () -> { calls[0]++; throw missing("no driver", "libcuda.so.1", "install it"); }),
                new CudaStack.Requirement("kernels", () -> { calls[0]++; return "ok"; }),
                new CudaStack.Requirement("cuDNN", () -> { calls[0]++; throw missing("no cuDNN", "/usr/lib", "pip install"); })));
        assertEquals(3, calls[0]);
        assertEquals(2, failures.size());
        var combined = CudaStack.combine(failures);
        assertEquals("no driver; no cuDNN", combined.missing());
        assertEquals(List.of("libcuda.so.1", "/usr/lib"), combined.searched());
        assertEquals("(1) install it (2) pip install", combined.fix());
        assertEquals(2, combined.getSuppressed().length);
        assertFalse(combined.missing().contains("\n"), "one line, for the --device auto note");
    }

    @Test
    void oneFailureIsReportedAsItIsAndNoneAsNull() {
        var only = missing("no GPU", "cuInit", "check nvidia-smi");
        assertSame(only, CudaStack.combine(List.of(only)));
        assertNull(CudaStack.combine(List.of()));
    }

    @Test
    void openingWithoutADriverListsWhatWasSearched() {
        assumeFalse(CudaDriver.isAvailable(), "a CUDA driver is present here");
        var e = assertThrows(CudaUnavailableException.class, CudaBackend::open);
        assertTrue(e.missing().contains("libcuda.so.1"), e.missing());
        assertTrue(e.searched().stream().anyMatch(s -> s.contains("system loader")), e.searched().toString());
        assertTrue(e.getMessage().contains("searched:"), e.getMessage());
    }

    @Test
    void fp64IsRefusedWithAPointerToTheCpuBackend() {
        var e = CudaBackend.fp64("conv2d");
        assertTrue(e.getMessage().contains("conv2d") && e.getMessage().contains("--device cpu")
                && e.getMessage().contains("gradient checks"), e.getMessage());
    }
}
