package dev.activa.cli;

import dev.activa.backend.Backend;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.backend.cuda.CudaBackend;
import dev.activa.backend.cuda.CudaStack;
import dev.activa.backend.cuda.CudaUnavailableException;
import java.io.PrintStream;

/** Chooses the backend for {@code --device cpu|cuda|auto} and {@code --threads N}. */
public final class Devices {
    private Devices() {}

    /** More than any CPU this runs on has cores; past it a typo (an extra digit), not a choice. */
    static final int MAX_THREADS = 4096;

    public static Backend open(String device, PrintStream notes) {
        return open(device, null, notes);
    }

    /**
     * {@code threads}: the CPU backend's worker threads as given on the command line, or null for
     * the common pool (every core). It does not concern the CUDA backend.
     */
    public static Backend open(String device, String threads, PrintStream notes) {
        Integer cpuThreads = threads(threads);
        return switch (device) {
            case "cpu" -> cpu(cpuThreads);
            case "cuda" -> {
                try {
                    yield CudaBackend.open();
                } catch (CudaUnavailableException e) {
                    throw new UsageException("--device cuda: the CUDA backend cannot start here: " + e.getMessage()
                            + "\n  run `activa doctor` for the whole GPU report, or use --device cpu (or auto)");
                }
            }
            case "auto" -> auto(cpuThreads, notes);
            default -> throw new UsageException("unknown --device '" + device + "'; use cpu, cuda or auto");
        };
    }

    /** CUDA when the whole stack is there, else the CPU with one line saying what was missing. */
    private static Backend auto(Integer cpuThreads, PrintStream notes) {
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
        return cpu(cpuThreads);
    }

    /** The backend as a run's header names it: {@code cpu (2 threads)}, {@code cuda}. */
    static String describe(Backend backend) {
        return backend instanceof CpuBackend cpu
                ? "cpu (" + cpu.threads() + (cpu.threads() == 1 ? " thread)" : " threads)")
                : backend.name();
    }

    private static CpuBackend cpu(Integer threads) {
        return threads == null ? new CpuBackend() : new CpuBackend(threads);
    }

    /** The --threads value as a count, null where not given; a usage error where it is not one. */
    static Integer threads(String value) {
        if (value == null) return null;
        try {
            int n = Integer.parseInt(value.strip());
            if (n >= 1 && n <= MAX_THREADS) return n;
        } catch (NumberFormatException e) {
            // the message below says what is wanted
        }
        throw new UsageException("--threads must be a whole number from 1 to " + MAX_THREADS + " (the CPU backend's "
                + "worker threads; leave it out to use every core), got '" + value + "'");
    }
}
