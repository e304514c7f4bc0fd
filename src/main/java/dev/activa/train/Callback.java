package dev.activa.train;

import dev.activa.nn.Module;
import dev.activa.report.EpochRecord;
import java.util.List;

/**
 * Hooks into a training run. A callback may stop the run ({@link Control#stop}) after any step
 * or epoch: early stopping, cancellation, time limits.
 */
public interface Callback {
    /** What a callback can do to the run it observes. */
    interface Control {
        void stop(String reason);
    }

    record Step(int epoch, long step, int batch, int batches, double loss, double lr, double lossScale, boolean skipped) {}

    default void onStep(Step step, Control control) {}

    /** After backward, before the optimiser: gradients can be inspected (or, in tests, corrupted). */
    default void afterBackward(long step, List<Module.Parameter> parameters) {}

    default void onEpoch(EpochRecord record, Control control) {}
}
