package dev.activa.optim;

/**
 * Dynamic loss scaling for mixed precision: start at 2^16, double after 2000 clean steps, halve
 * and skip the step when any gradient is Inf or NaN.
 */
public final class LossScaler {
    public static final double INITIAL_SCALE = 65536;
    public static final int GROWTH_INTERVAL = 2000;

    private double scale;
    private int cleanSteps;
    private long skipped;

    public LossScaler() {
        this(INITIAL_SCALE, 0, 0);
    }

    /** Restores a scaler from a checkpoint. */
    public LossScaler(double scale, int cleanSteps, long skipped) {
        this.scale = scale;
        this.cleanSteps = cleanSteps;
        this.skipped = skipped;
    }

    public double scale() { return scale; }
    public int cleanSteps() { return cleanSteps; }
    public long skippedSteps() { return skipped; }

    /** Records one step's outcome; returns true when the optimiser should apply it. */
    public boolean update(boolean foundNonFinite) {
        if (foundNonFinite) {
            scale /= 2;
            cleanSteps = 0;
            skipped++;
            return false;
        }
        if (++cleanSteps == GROWTH_INTERVAL) {
            scale *= 2;
            cleanSteps = 0;
        }
        return true;
    }
}
