package dev.activa.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * What the CUDA backend needs before it can open: the NVIDIA driver with a GPU, the kernel
 * fatbin, cuDNN 9 and cuBLAS. Every piece is tried (none stops the others), so one error lists
 * everything that is missing instead of the first thing only.
 */
public final class CudaStack {
    private CudaStack() {}

    /** One requirement: a name and the check that throws {@link CudaUnavailableException} when it is missing. */
    record Requirement(String name, Supplier<?> check) {}

    static final List<Requirement> REQUIREMENTS = List.of(
            new Requirement("NVIDIA driver and GPU", CudaDriver::initialize),
            new Requirement("Activa kernels", KernelModule::readFatbin),
            new Requirement("cuDNN", NativeLibraries::cudnn),
            new Requirement("cuBLAS", NativeLibraries::cublas));

    /** Everything missing as one exception, or null when the whole stack is present. */
    public static CudaUnavailableException missing() {
        return combine(failures(REQUIREMENTS));
    }

    static List<CudaUnavailableException> failures(List<Requirement> requirements) {
        var failures = new ArrayList<CudaUnavailableException>();
        for (Requirement r : requirements) {
            try {
                r.check().get();
            } catch (CudaUnavailableException e) {
                failures.add(e);
            }
        }
        return failures;
    }

    /**
     * One exception for several missing pieces: {@code missing()} is a single line joining each
     * piece's own (so a one-line fallback note can name them all), the searched places and the
     * fixes are concatenated in order. Null for no failures; a single failure is returned as is.
     */
    static CudaUnavailableException combine(List<CudaUnavailableException> failures) {
        if (failures.isEmpty()) return null;
        if (failures.size() == 1) return failures.getFirst();
        var missing = new ArrayList<String>();
        var searched = new ArrayList<String>();
        var fixes = new ArrayList<String>();
        for (CudaUnavailableException e : failures) {
            missing.add(e.missing().lines().findFirst().orElse(e.missing()));
            searched.addAll(e.searched());
            if (e.fix() != null && !e.fix().isBlank()) fixes.add(e.fix());
        }
        var combined = new CudaUnavailableException(String.join("; ", missing), searched,
                fixes.size() == 1 ? fixes.getFirst() : numbered(fixes));
        failures.forEach(combined::addSuppressed);
        return combined;
    }

    private static String numbered(List<String> fixes) {
        var sb = new StringBuilder();
        for (int i = 0; i < fixes.size(); i++) sb.append(i == 0 ? "" : " ").append("(").append(i + 1).append(") ").append(fixes.get(i));
        return sb.toString();
    }
}
