package dev.activa.cli;

import dev.activa.activation.Activation;
import dev.activa.report.EpochRecord;
import dev.activa.report.PlotSupport;
import dev.activa.report.Plots;
import dev.activa.report.RunLog;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** {@code plot}: PNGs from run logs, or an activation and its derivative. */
final class PlotCommand {
    static final String USAGE = """
            usage: activa plot --logs a.json,b.json [--metric valTop1] [--smoothing 3] [--out DIR]
                   activa plot --activation NAME [--params w=0.3,a=1.0,b=1.5] [--range -5,5] [--out FILE.png]
                               [--define NAME=FORMULA]
              Logs: one training-curve PNG per log, and a comparison PNG of the metric across them.
            """;

    private PlotCommand() {}

    static int run(List<String> argv, PrintStream out) {
        Args a = Args.parse("plot", argv, Set.of("logs", "metric", "smoothing", "out", "activation", "params", "range", "define"), Set.of());
        if (!PlotSupport.available()) throw new IllegalStateException("plot: " + PlotSupport.MISSING);
        try {
            if (a.has("activation")) return activation(a, out);
            List<String> files = a.list("logs", List.of());
            if (files.isEmpty()) throw new UsageException("plot: give --logs or --activation");
            Path outDir = Path.of(a.string("out", "plots"));
            if (outDir.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png"))
                throw new UsageException("plot: with --logs, --out names a folder (a chart per log and a comparison go there),"
                        + " not a file: " + outDir);
            List<RunLog> logs = files.stream().map(f -> TrainCommand.read(Path.of(f))).toList();
            String metric = a.string("metric", "valTop1");
            if (!EpochRecord.METRICS.contains(metric))
                throw new UsageException("plot: unknown metric '" + metric + "'; choose one of " + EpochRecord.METRICS);
            if (logs.stream().flatMap(l -> l.epochs().stream()).noneMatch(e -> Double.isFinite(e.metric(metric))))
                throw new UsageException("plot: none of the logs has a value of " + metric + (metric.equals("lossScale")
                        ? " (it is logged for mixed-precision runs only)" : " (they hold no finished epoch)"));
            Files.createDirectories(outDir);
            for (int i = 0; i < logs.size(); i++) {
                Path png = outDir.resolve(Path.of(files.get(i)).getFileName().toString().replaceAll("\\.json$", "") + "_curves.png");
                Plots.trainingCurves(logs.get(i), png, a.integer("smoothing", 3));
                out.println("wrote " + png);
            }
            Path cmp = outDir.resolve("comparison_" + metric + ".png");
            try {
                Plots.comparison(logs, metric, cmp);
            } catch (IllegalArgumentException e) {
                throw new UsageException("plot: " + e.getMessage());
            }
            out.println("wrote " + cmp);
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException("plot: " + e.getMessage(), e);
        }
    }

    private static int activation(Args a, PrintStream out) throws IOException {
        Activation act;
        try {
            act = TrainCommand.activation(a.string("activation", null), a.string("define", null));
        } catch (UsageException e) {
            throw new UsageException("plot: " + e.getMessage());
        }
        double[] p = act.effective(ActivationsCommand.parseParams(act, a.string("params", null)));
        String[] range = a.string("range", "-5,5").split(",");
        double lo, hi;
        try {
            lo = Double.parseDouble(range[0]);
            hi = Double.parseDouble(range[1]);
        } catch (RuntimeException e) {
            throw new UsageException("plot: --range must be LO,HI, got '" + a.string("range", "") + "'");
        }
        if (!(lo < hi)) throw new UsageException("plot: --range needs LO < HI");
        Path png = Path.of(a.string("out", act.name() + ".png"));
        if (png.getParent() != null) Files.createDirectories(png.getParent());
        Plots.function(act.name() + " and its derivative", x -> act.value(x, p), x -> act.derivative(x, p), lo, hi, png);
        out.println("wrote " + png);
        return 0;
    }
}
