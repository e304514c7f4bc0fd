package dev.activa.optim;

/**
 * Cosine annealing from the base rate to {@code minLr} over the steps after an optional linear
 * warm-up, as PyTorch's CosineAnnealingLR (stepped per iteration rather than per epoch).
 */
public record CosineSchedule(double baseLr, double minLr, long totalSteps, long warmupSteps) {
    public CosineSchedule {
        if (totalSteps < 1) throw new IllegalArgumentException("cosine schedule: needs at least one step");
        if (warmupSteps < 0 || warmupSteps >= totalSteps)
            throw new IllegalArgumentException("cosine schedule: warm-up of " + warmupSteps + " steps must be shorter than the "
                    + totalSteps + " steps of training");
    }

    /** The learning rate for step {@code step} (0-based). */
    public double lr(long step) {
        if (step < warmupSteps) return baseLr * (step + 1) / warmupSteps;
        long span = totalSteps - warmupSteps;
        double progress = Math.min(1.0, (double) (step - warmupSteps) / span);
        return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
