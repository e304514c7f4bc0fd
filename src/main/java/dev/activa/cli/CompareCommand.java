package dev.activa.cli;

import dev.activa.backend.Backend;
import dev.activa.data.Datasets;
import dev.activa.report.ComparisonTable;
import dev.activa.report.PlotSupport;
import dev.activa.report.Plots;
import dev.activa.report.RunLog;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/** {@code compare}: activations × datasets × seeds, ending in a summary table (mean ± std over seeds). */
final class CompareCommand {
    static final String USAGE = """
            usage: activa compare --activations a,b,... [--datasets d1,d2] [--seeds 0,1,2] [train options]
              Trains every combination with the same schedule and writes, under --out (default runs/compare):
              one log per run, summary.md and summary.json (mean ± std over seeds), and comparison plots.
            """;

    private CompareCommand() {}

    static int run(List<String> argv, PrintStream out) {
        Set<String> options = new HashSet<>(TrainCommand.OPTIONS);
        options.addAll(Set.of("activations", "datasets", "seeds"));
        Args a = Args.parse("compare", argv, options, TrainCommand.FLAGS);
        var base = TrainCommand.resolve(a, argv);
        base.remove("activations");
        base.remove("datasets");
        base.remove("seeds");
        List<String> activations = a.list("activations", List.of());
        if (activations.isEmpty()) throw new UsageException("compare: --activations is required, e.g. relu,tanhrelu");
        List<String> datasets = a.list("datasets", List.of(base.getOrDefault("dataset", "fashion-mnist")));
        List<Long> seeds = a.list("seeds", List.of("0", "1", "2")).stream().map(s -> {
            try {
                return Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw new UsageException("compare: --seeds must be integers, got '" + s + "'");
            }
        }).toList();
        // Mistakes that would otherwise surface only when their run comes, after the runs before it.
        TrainCommand.requireEpochs("compare", base.containsKey("epochs"));
        for (String act : activations) {
            try {
                TrainCommand.activation(act, base.get("define"));
            } catch (UsageException e) {
                throw new UsageException("compare: " + e.getMessage());
            }
        }
        for (String dataset : datasets) Datasets.canonicalName(dataset);
        Path outDir = Path.of(base.getOrDefault("out", "runs/compare"));
        Backend be = Devices.open(base.getOrDefault("device", "cpu"), base.get("threads"), out);
        List<RunLog> logs = new ArrayList<>();
        for (String dataset : datasets)
            for (String act : activations)
                for (long seed : seeds) {
                    var o = new LinkedHashMap<>(base);
                    o.put("dataset", dataset);
                    o.put("activation", act);
                    o.put("seed", Long.toString(seed));
                    o.put("out", outDir.toString());
                    out.printf("== %s on %s, seed %d ==%n", act, dataset, seed);
                    logs.add(TrainCommand.train(be, o, out, !o.containsKey("quiet")).log());
                }
        var table = ComparisonTable.of(logs);
        try {
            Files.createDirectories(outDir);
            table.writeMarkdown(outDir.resolve("summary.md"));
            table.writeJson(outDir.resolve("summary.json"));
            if (!PlotSupport.available()) out.println("plots: none: " + PlotSupport.MISSING);
            else for (String dataset : datasets)
                for (String metric : List.of("valTop1", "valLoss"))
                    Plots.comparison(logs.stream().filter(l -> l.dataset().equals(dataset)).toList(), metric,
                            outDir.resolve("compare_" + dataset + "_" + metric + ".png"));
        } catch (IOException e) {
            throw new UncheckedIOException("compare: cannot write the summary under " + outDir + ": " + e.getMessage(), e);
        }
        out.println();
        out.print(table.toMarkdown());
        out.println("summary: " + outDir.resolve("summary.md").toAbsolutePath());
        return 0;
    }
}
