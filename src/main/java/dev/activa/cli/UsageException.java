package dev.activa.cli;

/** A mistake on the command line: the CLI prints the message and the verb's usage, and exits with 2. */
public class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
