package dev.activa.optim;

import dev.activa.backend.Backend;
import dev.activa.nn.Module;
import dev.activa.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

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

    /**
     * After a backward pass from the loss times {@link #scale()}: divides the parameters' gradients
     * by the scale in place and checks them for Inf and NaN in the same pass (on a GPU, one
     * synchronisation for all of them), then records the outcome as {@link #update} does. Returns
     * true when the optimiser should apply the step, with a gradient scale of 1.
     */
    public boolean unscaleAndUpdate(List<Module.Parameter> parameters) {
        var gradients = new LinkedHashMap<Backend, List<Tensor>>();
        for (Module.Parameter p : parameters) {
            Tensor g = p.tensor().grad();
            if (g != null) gradients.computeIfAbsent(g.backend(), b -> new ArrayList<>()).add(g);
        }
        boolean found = false;
        for (var e : gradients.entrySet()) found |= e.getKey().unscaleAndCheck(e.getValue(), 1 / scale);
        return update(found);
    }

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
