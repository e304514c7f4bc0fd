package dev.activa.train;

/** A run that had to stop (its loss diverged, say); the log says so and the last good checkpoint is kept. */
public final class TrainingStoppedException extends RuntimeException {
    public TrainingStoppedException(String message) {
        super(message);
    }
}
