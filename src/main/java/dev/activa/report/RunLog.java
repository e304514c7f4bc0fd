package dev.activa.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.activa.autograd.Profiler;
import dev.activa.checkpoint.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The JSON log of one training run: what was trained and how ({@code config}, filled by the
 * trainer with model, width, epochs, lr, batch, optimizer, schedule, precision, ...), one
 * {@link EpochRecord} per finished epoch, and how the run ended.
 *
 * <p>Immutable: the trainer appends with {@link #withEpoch} and rewrites the file after each
 * epoch, so a crashed run still leaves a readable log of the epochs it finished. {@code status}
 * is "running" until {@link #completed} or {@link #stopped} sets "completed" or
 * "stopped: reason". {@code profile} is present when the run was profiled ({@code train
 * --profile}). Config values should be JSON-friendly (strings, numbers, booleans, lists,
 * maps); numbers come back as Integer, Long or Double.
 */
public record RunLog(
        @JsonProperty(required = true) String activation,
        @JsonProperty(required = true) String dataset,
        @JsonProperty(required = true) long seed,
        @JsonProperty(required = true) String engineVersion,
        @JsonProperty(required = true) String device,
        @JsonProperty(required = true) String startedAt,
        @JsonProperty(required = true) String status,
        @JsonProperty(required = true) Map<String, Object> config,
        @JsonProperty(required = true) List<EpochRecord> epochs,
        FinalResult finalResult,
        @JsonInclude(JsonInclude.Include.NON_NULL) Profiler.Report profile) {

    public static final String RUNNING = "running";
    public static final String COMPLETED = "completed";

    public RunLog {
        require(activation, "activation");
        require(dataset, "dataset");
        require(status, "status");
        require(startedAt, "startedAt");
        try {
            Instant.parse(startedAt);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("startedAt '" + startedAt + "' is not an ISO-8601 instant");
        }
        if (config == null || epochs == null) throw new IllegalArgumentException("config and epochs are required");
        config = Collections.unmodifiableMap(new LinkedHashMap<>(config)); // keeps order and allows null values
        epochs = List.copyOf(epochs);
        for (int i = 1; i < epochs.size(); i++) {
            if (epochs.get(i).epoch() <= epochs.get(i - 1).epoch()) {
                throw new IllegalArgumentException("epoch " + epochs.get(i).epoch() + " follows epoch "
                        + epochs.get(i - 1).epoch() + "; epochs must increase");
            }
        }
    }

    private static void require(String value, String name) {
        if (value == null || value.isBlank()) throw new IllegalArgumentException(name + " is missing or blank");
    }

    /** A new, running log started now. */
    public static RunLog start(String activation, String dataset, long seed, String engineVersion,
                               String device, Map<String, Object> config) {
        return start(activation, dataset, seed, engineVersion, device, config, Instant.now());
    }

    public static RunLog start(String activation, String dataset, long seed, String engineVersion,
                               String device, Map<String, Object> config, Instant startedAt) {
        return new RunLog(activation, dataset, seed, engineVersion, device, startedAt.toString(), RUNNING,
                config, List.of(), null, null);
    }

    /**
     * {@code <activation>_<dataset>.json}, or {@code <activation>_<dataset>_<suffix>.json} for
     * repeated seeds, e.g. {@code fileName("relu", "cifar10", "seed2")}. Names are lower-cased
     * and anything outside {@code [a-z0-9.-]} becomes '-', so the result is always a plain file name.
     */
    public static String fileName(String activation, String dataset, String seedSuffixOrNull) {
        String base = clean(activation) + "_" + clean(dataset);
        return (seedSuffixOrNull == null || seedSuffixOrNull.isEmpty() ? base : base + "_" + clean(seedSuffixOrNull)) + ".json";
    }

    private static String clean(String part) {
        String s = part.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9.-]", "-");
        return s.startsWith(".") ? "-" + s.substring(1) : s; // never a hidden file or "..".
    }

    public RunLog withEpoch(EpochRecord epoch) {
        var all = new ArrayList<>(epochs);
        all.add(epoch);
        return new RunLog(activation, dataset, seed, engineVersion, device, startedAt, status, config, all, finalResult, profile);
    }

    public RunLog completed(FinalResult result) {
        return new RunLog(activation, dataset, seed, engineVersion, device, startedAt, COMPLETED, config, epochs, result, profile);
    }

    /** Ends the run early, e.g. {@code stopped("loss is NaN at epoch 3")}; a result may still be attached. */
    public RunLog stopped(String reason, FinalResult resultOrNull) {
        return new RunLog(activation, dataset, seed, engineVersion, device, startedAt, "stopped: " + reason,
                config, epochs, resultOrNull, profile);
    }

    /** With the run's profile so far (see {@link Profiler}): where its training steps' time went. */
    public RunLog withProfile(Profiler.Report report) {
        return new RunLog(activation, dataset, seed, engineVersion, device, startedAt, status, config, epochs, finalResult,
                report);
    }

    public Optional<EpochRecord> lastEpoch() {
        return epochs.isEmpty() ? Optional.empty() : Optional.of(epochs.getLast());
    }

    /** Writes pretty-printed JSON, replacing {@code file} atomically. */
    public void write(Path file) throws IOException {
        AtomicFiles.write(file, Json.MAPPER.writeValueAsBytes(this));
    }

    /** Reads a log; anything malformed is an IOException naming the file, the field and the problem. */
    public static RunLog read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            RunLog log = Json.MAPPER.readValue(bytes, RunLog.class);
            if (log == null) throw new IOException(file + ": malformed run log: empty document (null)");
            return log;
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": malformed run log: " + Json.describe(e), e);
        }
    }
}
