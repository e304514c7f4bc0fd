package dev.activa.report;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A one-line progress display for long loops:
 * {@code [=================>            ] 312/469 batches  66%  ETA 0:25  812 img/s  loss 0.4312}.
 *
 * <p>On a terminal the line is redrawn in place with '\r', at most every 200 ms, and ends with a
 * newline when the work completes (or on {@link #finish}). Elsewhere (a log file, CI) redrawing
 * would leave a mess, so a plain line is printed each time another 10% is done. Time comes from
 * the given nanosecond clock so tests can drive it. Not thread-safe.
 */
public final class ProgressBar implements AutoCloseable {
    static final int BAR_WIDTH = 30;
    static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final String unit;
    private final long total;
    private final LongSupplier nanoClock;
    private final boolean interactive;
    private final long startNanos;

    private long done, images;
    private double loss = Double.NaN;
    private boolean hasLoss, shown = true, finished;
    private long lastDrawNanos;
    private boolean drawnOnce;
    private int lastLength;
    private long lastDecile;

    /**
     * @param unit        what is counted, e.g. "batches"
     * @param total       how many there will be
     * @param interactive redraw in place (a terminal) or print a line per 10%
     */
    public ProgressBar(PrintStream out, String unit, long total, LongSupplier nanoClock, boolean interactive) {
        if (total <= 0) throw new IllegalArgumentException("total must be positive, got " + total);
        this.out = out;
        this.unit = unit;
        this.total = total;
        this.nanoClock = nanoClock;
        this.interactive = interactive;
        this.startNanos = nanoClock.getAsLong();
    }

    /** On System.out, redrawing in place only if that is a terminal. */
    public static ProgressBar onStdout(String unit, long total) {
        var console = System.console();
        // Since JDK 22 System.console() is non-null even when redirected; isTerminal() tells.
        return new ProgressBar(System.out, unit, total, System::nanoTime, console != null && console.isTerminal());
    }

    /** {@code done} units finished so far, {@code images} processed so far (for the rate), the latest loss. */
    public void update(long done, long images, double loss) {
        this.loss = loss;
        this.hasLoss = true;
        step(done, images);
    }

    /** As {@link #update(long, long, double)}, with no loss shown. */
    public void update(long done, long images) {
        this.hasLoss = false;
        step(done, images);
    }

    private void step(long done, long images) {
        if (finished) return;
        this.done = Math.clamp(done, 0, total);
        this.images = images;
        this.shown = false;
        long now = nanoClock.getAsLong();
        if (interactive) {
            if (this.done == total || !drawnOnce || now - lastDrawNanos >= REDRAW_NANOS) draw(now);
        } else {
            long decile = this.done * 10 / total;
            if (decile > lastDecile) {
                lastDecile = decile;
                draw(now);
            }
        }
        if (this.done == total) finish();
    }

    /** Shows the latest state if it was not shown yet, and ends the line. Idempotent. */
    public void finish() {
        if (finished) return;
        finished = true;
        if (!shown) draw(nanoClock.getAsLong());
        if (interactive) out.println();
        out.flush();
    }

    @Override
    public void close() {
        finish();
    }

    private void draw(long now) {
        String line = render(now);
        if (interactive) {
            // Pad with spaces to wipe what a longer previous line left behind.
            out.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
            lastLength = line.length();
        } else {
            out.println(line);
        }
        out.flush();
        shown = true;
        drawnOnce = true;
        lastDrawNanos = now;
    }

    String render(long now) {
        double fraction = (double) done / total;
        int filled = (int) (fraction * BAR_WIDTH);
        String bar = filled >= BAR_WIDTH ? "=".repeat(BAR_WIDTH)
                : "=".repeat(filled) + ">" + " ".repeat(BAR_WIDTH - filled - 1);
        double elapsed = (now - startNanos) / 1e9;
        String time = done == total ? "took " + duration(elapsed)
                : done == 0 ? "ETA --:--" : "ETA " + duration(elapsed * (total - done) / done);
        String rate = elapsed > 0 ? String.format(Locale.ROOT, "%.0f img/s", images / elapsed) : "-- img/s";
        var line = new StringBuilder(String.format(Locale.ROOT, "[%s] %d/%d %s %3d%%  %s  %s",
                bar, done, total, unit, (int) (fraction * 100), time, rate));
        if (hasLoss) line.append(String.format(Locale.ROOT, "  loss %.4f", loss));
        return line.toString();
    }

    /** m:ss, or h:mm:ss from an hour on. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
