package dev.activa.backend.cuda;

/**
 * A call into the CUDA driver, cuDNN or cuBLAS returned an error status. The message names the
 * library, the function and the library's own description of the status.
 */
public class NativeCallException extends RuntimeException {
    private final String library;
    private final String function;
    private final int status;
    private final String statusName;

    public NativeCallException(String library, String function, int status, String statusName, String detail) {
        super(library + " " + function + " failed: " + statusName + " (" + status + ")"
                + (detail == null || detail.isBlank() ? "" : ": " + detail));
        this.library = library;
        this.function = function;
        this.status = status;
        this.statusName = statusName;
    }

    public String library() { return library; }

    public String function() { return function; }

    /** The raw status code (CUresult, cudnnStatus_t or cublasStatus_t). */
    public int status() { return status; }

    public String statusName() { return statusName; }
}
