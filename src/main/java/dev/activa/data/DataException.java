package dev.activa.data;

/**
 * A problem with the user's data, not with the engine: the message says what is wrong, which
 * file or folder, and how to fix it. The CLI prints only the message and exits non-zero, so the
 * message must stand on its own.
 */
public class DataException extends RuntimeException {

    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
