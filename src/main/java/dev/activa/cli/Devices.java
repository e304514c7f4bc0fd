package dev.activa.cli;

import dev.activa.backend.Backend;
import dev.activa.backend.cpu.CpuBackend;
import java.io.PrintStream;

/** Chooses the backend for {@code --device cpu|cuda|auto}. */
public final class Devices {
    private Devices() {}

    public static Backend open(String device, PrintStream notes) {
        return switch (device) {
            case "cpu" -> new CpuBackend();
            case "cuda" -> throw new UsageException("--device cuda: the CUDA backend is not available in this build yet; "
                    + "run `activa doctor` to see what the GPU stack provides, or use --device cpu");
            case "auto" -> {
                notes.println("device: auto → cpu (the CUDA training backend is not available in this build yet)");
                yield new CpuBackend();
            }
            default -> throw new UsageException("unknown --device '" + device + "'; use cpu, cuda or auto");
        };
    }
}
