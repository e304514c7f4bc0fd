package dev.activa.report;

import dev.activa.checkpoint.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.TreeSet;
import java.util.function.DoubleUnaryOperator;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.XYSeries.XYSeriesRenderStyle;
import org.knowm.xchart.style.Styler.LegendPosition;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * PNG charts of runs and activations, drawn with XChart off-screen.
 *
 * <p>Non-finite values (a diverged loss) are left out of lines rather than breaking the axes.
 * Each PNG is written atomically, like the logs.
 */
public final class Plots {
    static {
        // Charts are drawn on servers without a display; must be set before AWT initialises.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    public static final int WIDTH = 1000;
    public static final int HEIGHT = 600;
    /** Each of the two panels of {@link #trainingCurves}; the PNG is twice as wide. */
    public static final int PANEL_WIDTH = 800;

    private static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
            new Color(0xbcbd22), new Color(0x17becf)};

    private Plots() {}

    /**
     * One PNG of {@code 2 × PANEL_WIDTH × HEIGHT} pixels: loss on the left, accuracy on the right
     * (train accuracy and validation top-1), against epoch. Raw values are faint points; over them
     * a centred moving average of {@code smoothingWindow} epochs (1 or less: no smoothing line).
     */
    public static void trainingCurves(RunLog log, Path pngOut, int smoothingWindow) throws IOException {
        if (log.epochs().isEmpty()) throw new IllegalArgumentException("run log has no epochs to plot");
        String run = log.activation() + " / " + log.dataset() + " / seed " + log.seed();
        var loss = chart(PANEL_WIDTH, HEIGHT, "Loss: " + run, "epoch", "loss");
        loss.getStyler().setLegendPosition(LegendPosition.InsideNE);
        curve(loss, log, "train", EpochRecord::trainLoss, PALETTE[0], smoothingWindow);
        curve(loss, log, "validation", EpochRecord::valLoss, PALETTE[1], smoothingWindow);
        var accuracy = chart(PANEL_WIDTH, HEIGHT, "Accuracy: " + run, "epoch", "accuracy");
        accuracy.getStyler().setLegendPosition(LegendPosition.InsideSE);
        curve(accuracy, log, "train", EpochRecord::trainAccuracy, PALETTE[0], smoothingWindow);
        curve(accuracy, log, "validation top-1", EpochRecord::valTop1, PALETTE[1], smoothingWindow);

        var png = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(List.of(loss, accuracy), 1, 2, png, BitmapFormat.PNG);
        AtomicFiles.write(pngOut, png.toByteArray());
    }

    /**
     * The activation's learnable scalars against epoch, one panel per scalar ({@code PANEL_WIDTH ×
     * HEIGHT} each, side by side), one line per layer, from the first layer (light) to the last
     * (dark). Returns false, writing nothing, when the log has none.
     */
    public static boolean activationParameters(RunLog log, Path pngOut) throws IOException {
        var layers = new LinkedHashMap<String, Boolean>(); // in the order of the network
        var names = new LinkedHashMap<String, Boolean>();
        for (var e : log.epochs()) {
            if (e.activationParameters() == null) continue;
            e.activationParameters().forEach((layer, values) -> {
                layers.put(layer, true);
                values.keySet().forEach(name -> names.put(name, true));
            });
        }
        if (layers.isEmpty()) return false;
        String run = log.activation() + " / " + log.dataset() + " / seed " + log.seed();
        var charts = new ArrayList<XYChart>();
        double[] x = log.epochs().stream().mapToDouble(EpochRecord::epoch).toArray();
        for (String name : names.keySet()) {
            var chart = chart(PANEL_WIDTH, HEIGHT, name + " per layer: " + run, "epoch", name);
            chart.getStyler().setLegendPosition(LegendPosition.OutsideE);
            int i = 0;
            for (String layer : layers.keySet()) {
                double[] y = log.epochs().stream().mapToDouble(e -> {
                    var values = e.activationParameters() == null ? null : e.activationParameters().get(layer);
                    Double v = values == null ? null : values.get(name);
                    return v == null ? Double.NaN : v;
                }).toArray();
                var series = add(chart, layer, x, y);
                if (series != null) {
                    float depth = layers.size() == 1 ? 1 : (float) i / (layers.size() - 1);
                    line(series, new Color(Color.HSBtoRGB(0.6f, 0.25f + 0.75f * depth, 0.95f - 0.55f * depth)), 1.5f);
                    if (series.getXData().length == 1) series.setMarker(SeriesMarkers.CIRCLE); // a line needs two points
                }
                i++;
            }
            charts.add(chart);
        }
        var png = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(charts, 1, charts.size(), png, BitmapFormat.PNG);
        AtomicFiles.write(pngOut, png.toByteArray());
        return true;
    }

    private static void curve(XYChart chart, RunLog log, String name, ToDoubleFunction<EpochRecord> metric,
                              Color color, int window) {
        double[] x = log.epochs().stream().mapToDouble(EpochRecord::epoch).toArray();
        double[] y = log.epochs().stream().mapToDouble(metric).toArray();
        boolean smoothed = window > 1;
        var raw = add(chart, smoothed ? name + " (raw)" : name, x, y);
        if (raw == null) return;
        if (smoothed) {
            raw.setXYSeriesRenderStyle(XYSeriesRenderStyle.Scatter);
            raw.setMarker(SeriesMarkers.CIRCLE);
            raw.setMarkerColor(faint(color, 90));
            var smooth = add(chart, name + " (moving avg, " + window + " epochs)", x, movingAverage(y, window));
            if (smooth != null) line(smooth, color, 2.5f);
        } else {
            line(raw, color, 2f);
        }
    }

    /**
     * Centred moving average over {@code window} points, shrinking at the ends (so it does not
     * lag like a trailing average); non-finite points are skipped, not averaged in.
     */
    static double[] movingAverage(double[] y, int window) {
        int before = (window - 1) / 2, after = window - 1 - before;
        double[] out = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            double sum = 0;
            int n = 0;
            for (int j = Math.max(0, i - before); j <= Math.min(y.length - 1, i + after); j++) {
                if (Double.isFinite(y[j])) {
                    sum += y[j];
                    n++;
                }
            }
            out[i] = n == 0 ? Double.NaN : sum / n;
        }
        return out;
    }

    /**
     * One line per run of {@code metric} (any name in {@link EpochRecord#METRICS}) against epoch.
     * Runs sharing activation and dataset (different seeds) become one line, their per-epoch mean,
     * in a shaded band of ± one sample standard deviation; each epoch uses the runs that reached it.
     */
    public static void comparison(List<RunLog> logs, String metric, Path pngOut) throws IOException {
        if (!EpochRecord.METRICS.contains(metric)) {
            throw new IllegalArgumentException("unknown metric '" + metric + "'; choose one of " + EpochRecord.METRICS);
        }
        var groups = new LinkedHashMap<String, List<RunLog>>();
        for (var log : logs) groups.computeIfAbsent(log.activation() + " / " + log.dataset(), k -> new ArrayList<>()).add(log);
        if (groups.isEmpty()) throw new IllegalArgumentException("no runs to compare");

        var chart = chart(WIDTH, HEIGHT, metric + " by epoch", "epoch", metric);
        chart.getStyler().setLegendPosition(LegendPosition.OutsideS); // below: labels are long
        int colorIndex = 0;
        for (var group : groups.entrySet()) {
            Color color = PALETTE[colorIndex++ % PALETTE.length];
            var runs = group.getValue();
            if (runs.size() == 1) {
                var run = runs.getFirst();
                double[] x = run.epochs().stream().mapToDouble(EpochRecord::epoch).toArray();
                double[] y = run.epochs().stream().mapToDouble(e -> e.metric(metric)).toArray();
                var series = add(chart, group.getKey() + " / seed " + run.seed(), x, y);
                if (series != null) line(series, color, 2f);
                continue;
            }
            var band = Band.of(runs, metric);
            String seeds = String.join(", ", runs.stream().map(r -> Long.toString(r.seed())).toList());
            var mean = add(chart, group.getKey() + " (mean ± std, seeds " + seeds + ")", band.x, band.mean);
            if (mean == null) continue;
            line(mean, color, 2f);
            // The band is a closed polygon: upper edge left to right, lower edge back.
            int n = band.x.length;
            double[] px = new double[2 * n], py = new double[2 * n];
            for (int i = 0; i < n; i++) {
                px[i] = band.x[i];
                py[i] = band.mean[i] + band.std[i];
                px[2 * n - 1 - i] = band.x[i];
                py[2 * n - 1 - i] = band.mean[i] - band.std[i];
            }
            var area = chart.addSeries(group.getKey() + " band", px, py);
            area.setXYSeriesRenderStyle(XYSeriesRenderStyle.PolygonArea);
            area.setFillColor(faint(color, 50));
            area.setLineColor(faint(color, 0));
            area.setMarker(SeriesMarkers.NONE);
            area.setShowInLegend(false);
        }
        write(chart, pngOut);
    }

    /** Per-epoch mean and sample std over the runs with a finite value at that epoch. */
    private record Band(double[] x, double[] mean, double[] std) {
        static Band of(List<RunLog> runs, String metric) {
            var epochs = new TreeSet<Integer>();
            runs.forEach(r -> r.epochs().forEach(e -> epochs.add(e.epoch())));
            var x = new ArrayList<Double>();
            var mean = new ArrayList<Double>();
            var std = new ArrayList<Double>();
            for (int epoch : epochs) {
                var values = new ArrayList<Double>();
                for (var run : runs) {
                    for (var e : run.epochs()) {
                        if (e.epoch() == epoch && Double.isFinite(e.metric(metric))) values.add(e.metric(metric));
                    }
                }
                if (values.isEmpty()) continue;
                var stats = Stats.of(values);
                x.add((double) epoch);
                mean.add(stats.mean());
                std.add(stats.std());
            }
            return new Band(unbox(x), unbox(mean), unbox(std));
        }

        private static double[] unbox(List<Double> values) {
            return values.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    /**
     * An activation (solid) and its derivative (dashed) at 1000 evenly spaced points of
     * [lo, hi], with the axes drawn in grey where they fall inside the plot.
     */
    public static void function(String title, DoubleUnaryOperator f, DoubleUnaryOperator df,
                                double lo, double hi, Path pngOut) throws IOException {
        if (!(lo < hi)) throw new IllegalArgumentException("need lo < hi, got [" + lo + ", " + hi + "]");
        int n = 1000;
        double[] x = new double[n], y = new double[n], dy = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = lo + (hi - lo) * i / (n - 1);
            y[i] = f.applyAsDouble(x[i]);
            dy[i] = df.applyAsDouble(x[i]);
        }
        var chart = chart(WIDTH, HEIGHT, title, "x", "y");
        chart.getStyler().setLegendPosition(LegendPosition.InsideNW);
        var value = add(chart, "f(x)", x, y);
        if (value != null) line(value, PALETTE[0], 2.5f);
        var derivative = add(chart, "f'(x)", x, dy);
        if (derivative != null) {
            line(derivative, PALETTE[3], 2f);
            derivative.setLineStyle(SeriesLines.DASH_DASH);
        }
        double yMin = Double.POSITIVE_INFINITY, yMax = Double.NEGATIVE_INFINITY;
        for (double v : concat(y, dy)) {
            if (Double.isFinite(v)) {
                yMin = Math.min(yMin, v);
                yMax = Math.max(yMax, v);
            }
        }
        if (yMin <= 0 && yMax >= 0) axisLine(chart, "y=0", new double[] {lo, hi}, new double[] {0, 0});
        if (lo <= 0 && hi >= 0 && yMin <= yMax) axisLine(chart, "x=0", new double[] {0, 0}, new double[] {yMin, yMax});
        write(chart, pngOut);
    }

    private static void axisLine(XYChart chart, String name, double[] x, double[] y) {
        var s = chart.addSeries(name, x, y);
        line(s, Color.GRAY, 1f);
        s.setShowInLegend(false);
    }

    // --- shared chart plumbing ---

    private static XYChart chart(int width, int height, String title, String xTitle, String yTitle) {
        var chart = new XYChartBuilder().width(width).height(height).title(title)
                .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        var styler = chart.getStyler();
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setPlotGridLinesColor(new Color(0xe0e0e0));
        styler.setLegendBorderColor(new Color(0xcccccc));
        styler.setMarkerSize(6);
        return chart;
    }

    /** Adds the finite points of (x, y); returns null when none is finite (nothing to draw). */
    private static XYSeries add(XYChart chart, String name, double[] x, double[] y) {
        int n = 0;
        double[] fx = new double[x.length], fy = new double[y.length];
        for (int i = 0; i < x.length; i++) {
            if (Double.isFinite(x[i]) && Double.isFinite(y[i])) {
                fx[n] = x[i];
                fy[n++] = y[i];
            }
        }
        if (n == 0) return null;
        return chart.addSeries(name, java.util.Arrays.copyOf(fx, n), java.util.Arrays.copyOf(fy, n));
    }

    private static void line(XYSeries series, Color color, float width) {
        series.setXYSeriesRenderStyle(XYSeriesRenderStyle.Line);
        series.setMarker(SeriesMarkers.NONE);
        series.setLineColor(color);
        series.setLineStyle(new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
    }

    private static Color faint(Color c, int alpha) {
        return new Color(c.getRed(), c.getGreen(), c.getBlue(), alpha);
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void write(XYChart chart, Path pngOut) throws IOException {
        var png = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(chart, png, BitmapFormat.PNG);
        AtomicFiles.write(pngOut, png.toByteArray());
    }
}
