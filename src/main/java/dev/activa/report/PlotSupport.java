package dev.activa.report;

/**
 * Whether this Java runtime can draw charts. {@link Plots} needs {@code java.desktop} (AWT, through
 * XChart), which the GPU bundle's jlink runtime leaves out to stay small; kept apart from
 * {@code Plots} so that asking does not load AWT classes.
 */
public final class PlotSupport {
    /** Why there are no charts, for messages. */
    public static final String MISSING = "this Java runtime has no java.desktop module, which charts need (the dist"
            + " bundle leaves it out: draw them elsewhere with `activa plot --logs`, see docs/gpu-host.md)";

    private PlotSupport() {}

    public static boolean available() {
        return ModuleLayer.boot().findModule("java.desktop").isPresent();
    }
}
