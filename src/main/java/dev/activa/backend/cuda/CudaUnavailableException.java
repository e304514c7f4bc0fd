package dev.activa.backend.cuda;

import java.util.List;

/**
 * The GPU stack cannot be used on this machine: a library, the driver, a GPU or the kernels are
 * missing. Carries what was missing, where we looked and how to fix it, so callers (the doctor,
 * the CLI) can print it without a stack trace.
 */
public final class CudaUnavailableException extends RuntimeException {
    private final String missing;
    private final List<String> searched;
    private final String fix;

    public CudaUnavailableException(String missing, List<String> searched, String fix) {
        this(missing, searched, fix, null);
    }

    public CudaUnavailableException(String missing, List<String> searched, String fix, Throwable cause) {
        super(compose(missing, searched, fix), cause);
        this.missing = missing;
        this.searched = List.copyOf(searched);
        this.fix = fix;
    }

    /** One line: what is missing. */
    public String missing() { return missing; }

    /** The places that were tried, in order. */
    public List<String> searched() { return searched; }

    /** What a person should do about it. */
    public String fix() { return fix; }

    private static String compose(String missing, List<String> searched, String fix) {
        var sb = new StringBuilder(missing);
        if (!searched.isEmpty()) sb.append("\n  searched: ").append(String.join("\n            ", searched));
        if (fix != null && !fix.isBlank()) sb.append("\n  fix: ").append(fix);
        return sb.toString();
    }
}
