package dev.activa.report;

import dev.activa.autograd.Profiler;
import dev.activa.checkpoint.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * Final-epoch validation metrics of many runs, grouped by (activation, dataset) over seeds:
 * mean ± sample standard deviation per group, as Markdown (one table per dataset, activations
 * as rows) or JSON; and each run's best validation top-1 over its epochs with the epoch it came
 * in, as papers that report a peak (the write-ups' "peak around epoch 93") do; and where every
 * run of a group was profiled, the share of its training step's time the activation took.
 *
 * <p>Every run given counts, whatever its status, so filter out unwanted runs first; a diverged
 * run's NaN makes its group's mean NaN rather than silently vanishing. Runs without any epoch
 * have nothing final to report and are left out. Rows are sorted by dataset, then activation.
 */
public record ComparisonTable(List<Row> rows) {

    /** One (activation, dataset) group; {@code n} runs with the listed seeds. */
    public record Row(String activation, String dataset, int n, List<Long> seeds,
                      Stats valTop1, Stats valLoss, Stats valPrecision, Stats valRecall, Stats valF1,
                      Stats bestValTop1, Stats bestEpoch, Stats activationShare) {}

    public ComparisonTable {
        rows = List.copyOf(rows);
    }

    public static ComparisonTable of(List<RunLog> logs) {
        // Sorted map keys give the row order: dataset, then activation.
        var groups = new TreeMap<List<String>, List<RunLog>>(Comparator
                .comparing((List<String> k) -> k.get(0)).thenComparing(k -> k.get(1)));
        for (var log : logs) {
            if (log.epochs().isEmpty()) continue;
            groups.computeIfAbsent(List.of(log.dataset(), log.activation()), k -> new ArrayList<>()).add(log);
        }
        var rows = new ArrayList<Row>();
        for (var group : groups.entrySet()) {
            var runs = group.getValue();
            rows.add(new Row(group.getKey().get(1), group.getKey().get(0), runs.size(),
                    runs.stream().map(RunLog::seed).toList(),
                    finalStats(runs, EpochRecord::valTop1), finalStats(runs, EpochRecord::valLoss),
                    finalStats(runs, EpochRecord::valPrecision), finalStats(runs, EpochRecord::valRecall),
                    finalStats(runs, EpochRecord::valF1),
                    Stats.of(runs.stream().mapToDouble(r -> best(r).valTop1()).toArray()),
                    Stats.of(runs.stream().mapToDouble(r -> best(r).epoch()).toArray()),
                    runs.stream().allMatch(r -> r.profile() != null && r.profile().steps() > 0) // all warm-up: none timed
                            ? Stats.of(runs.stream().mapToDouble(ComparisonTable::activationShare).toArray()) : null));
        }
        return new ComparisonTable(rows);
    }

    /** The run's first epoch with its highest validation top-1 (NaNs skipped; the last epoch if all are NaN). */
    private static EpochRecord best(RunLog run) {
        EpochRecord best = null;
        for (var e : run.epochs())
            if (!Double.isNaN(e.valTop1()) && (best == null || e.valTop1() > best.valTop1())) best = e;
        return best != null ? best : run.epochs().getLast();
    }

    /** The fraction of a profiled run's step time spent in its activation, forward and backward, residual adds fused in included. */
    private static double activationShare(RunLog run) {
        var p = run.profile();
        double millis = p.entries().stream()
                .filter(e -> !e.phase() && (e.name().equals(run.activation()) || e.name().equals("add+" + run.activation())))
                .mapToDouble(Profiler.Entry::totalMillis).sum();
        return p.activeMillis() > 0 ? millis / p.activeMillis() : Double.NaN;
    }

    private static Stats finalStats(List<RunLog> runs, ToDoubleFunction<EpochRecord> metric) {
        return Stats.of(runs.stream().mapToDouble(r -> metric.applyAsDouble(r.epochs().getLast())).toArray());
    }

    public String toMarkdown() {
        var md = new StringBuilder("Final-epoch validation metrics: mean ± sample standard deviation over seeds"
                + " (n − 1 denominator; with n = 1 the std shows as 0); then each run's best validation top-1 over"
                + " its epochs, and the epoch it came in.\n");
        boolean profiled = rows.stream().anyMatch(r -> r.activationShare() != null);
        if (profiled) md.append("The activation's share of the training step's time, from the runs' profiles (--profile).\n");
        String dataset = null;
        for (var row : rows) {
            if (!row.dataset().equals(dataset)) {
                dataset = row.dataset();
                md.append("\n## ").append(escape(dataset)).append("\n\n")
                  .append("| Activation | n | Val top-1 | Val loss | Val precision | Val recall | Val F1 | Best val top-1 | "
                          + "at epoch |" + (profiled ? " Activation share of step |" : "") + "\n")
                  .append("|---|---:|---:|---:|---:|---:|---:|---:|---:|" + (profiled ? "---:|" : "") + "\n");
            }
            md.append("| ").append(escape(row.activation())).append(" | ").append(row.n());
            for (var s : List.of(row.valTop1(), row.valLoss(), row.valPrecision(), row.valRecall(), row.valF1(),
                    row.bestValTop1())) {
                md.append(" | ").append(format(s));
            }
            md.append(" | ").append(String.format(Locale.ROOT, "%.1f ± %.1f", row.bestEpoch().mean(), row.bestEpoch().std()));
            if (profiled) {
                var share = row.activationShare();
                md.append(" | ").append(share == null ? "not profiled"
                        : String.format(Locale.ROOT, "%.1f%% ± %.1f%%", 100 * share.mean(), 100 * share.std()));
            }
            md.append(" |\n");
        }
        return md.toString();
    }

    private static String format(Stats s) {
        return String.format(Locale.ROOT, "%.4f ± %.4f", s.mean(), s.std());
    }

    private static String escape(String cell) {
        return cell.replace("|", "\\|");
    }

    public String toJson() throws IOException {
        return Json.MAPPER.writeValueAsString(this);
    }

    public void writeMarkdown(Path file) throws IOException {
        AtomicFiles.write(file, toMarkdown().getBytes(StandardCharsets.UTF_8));
    }

    public void writeJson(Path file) throws IOException {
        AtomicFiles.write(file, Json.MAPPER.writeValueAsBytes(this));
    }
}
