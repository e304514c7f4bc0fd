package dev.activa.cli;

import dev.activa.backend.Backend;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.backend.cuda.CudaBackend;
import dev.activa.backend.cuda.CudaStack;
import dev.activa.backend.cuda.CudaUnavailableException;
import java.io.PrintStream;

/** Chooses the backend for {@code --device cpu|cuda|auto}. */
public final class Devices {
    private Devices() {}

    public static Backend open(String device, PrintStream notes) {
        return switch (device) {
            case "cpu" -> new CpuBackend();
            case "cuda" -> {
                try {
                    yield CudaBackend.open();
                } catch (CudaUnavailableException e) {
                    throw new UsageException("--device cuda: the CUDA backend cannot start here: " + e.getMessage()
                            + "\n  run `activa doctor` for the whole GPU report, or use --device cpu (or auto)");
                }
            }
            case "auto" -> auto(notes);
            default -> throw new UsageException("unknown --device '" + device + "'; use cpu, cuda or auto");
        };
    }

    /** CUDA when the whole stack is there, else the CPU with one line saying what was missing. */
    private static Backend auto(PrintStream notes) {
        String reason;
        CudaUnavailableException missing = CudaStack.missing();
        if (missing == null) {
            try {
                CudaBackend cuda = CudaBackend.open();
                notes.println("device: auto → cuda (" + cuda.device().name() + ", 4-D tensors " + cuda.layout() + ")");
                return cuda;
            } catch (RuntimeException e) {
                reason = "the CUDA backend failed to start: " + e.getMessage();
            }
        } else {
            reason = "CUDA unavailable: " + missing.missing();
        }
        notes.println("device: auto → cpu (" + reason.replaceAll("\\s*\\R\\s*", " ") + ")");
        return new CpuBackend();
    }
}
