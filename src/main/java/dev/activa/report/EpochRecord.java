package dev.activa.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.activa.report.ClassificationMetrics.ClassStats;
import dev.activa.report.ClassificationMetrics.Summary;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One epoch of a run as logged: training loss and accuracy, validation metrics (macro P/R/F1
 * and per class), the learning rate used, throughput, the mixed-precision loss scale
 * ({@code null} when training in full precision), and the activation's learnable scalars per
 * layer at the epoch's end ({@code null}, and absent from the JSON, for activations without any).
 */
public record EpochRecord(
        @JsonProperty(required = true) int epoch,
        @JsonProperty(required = true) double trainLoss,
        @JsonProperty(required = true) double trainAccuracy,
        @JsonProperty(required = true) double valLoss,
        @JsonProperty(required = true) double valTop1,
        @JsonProperty(required = true) double valTop5,
        @JsonProperty(required = true) double valPrecision,
        @JsonProperty(required = true) double valRecall,
        @JsonProperty(required = true) double valF1,
        List<ClassStats> perClass,
        @JsonProperty(required = true) double lr,
        @JsonProperty(required = true) double epochSeconds,
        @JsonProperty(required = true) double imagesPerSecond,
        Double lossScale,
        @JsonInclude(JsonInclude.Include.NON_NULL) Map<String, Map<String, Double>> activationParameters) {

    /** Names accepted by {@link #metric(String)}, for plots and tables. */
    public static final List<String> METRICS = List.of(
            "trainLoss", "trainAccuracy", "valLoss", "valTop1", "valTop5", "valPrecision", "valRecall", "valF1",
            "lr", "epochSeconds", "imagesPerSecond", "lossScale");

    public EpochRecord {
        perClass = perClass == null ? List.of() : List.copyOf(perClass);
        if (activationParameters != null) {
            var copy = new LinkedHashMap<String, Map<String, Double>>();
            activationParameters.forEach((layer, values) -> {
                if (values == null)
                    throw new IllegalArgumentException("activationParameters: layer '" + layer + "' has no values");
                copy.put(layer, Collections.unmodifiableMap(new LinkedHashMap<>(values)));
            });
            activationParameters = Collections.unmodifiableMap(copy); // keeps the layers' order
        }
    }

    /** A record without activation parameters (an activation without learnable scalars). */
    public EpochRecord(int epoch, double trainLoss, double trainAccuracy, double valLoss, double valTop1, double valTop5,
                       double valPrecision, double valRecall, double valF1, List<ClassStats> perClass, double lr,
                       double epochSeconds, double imagesPerSecond, Double lossScale) {
        this(epoch, trainLoss, trainAccuracy, valLoss, valTop1, valTop5, valPrecision, valRecall, valF1, perClass, lr,
                epochSeconds, imagesPerSecond, lossScale, null);
    }

    /**
     * With the values of the activation's learnable scalars at the epoch's end, per activation
     * layer ("layer1.0.act1" → {w, a, b}), as the activation uses them (clamped).
     */
    public EpochRecord withActivationParameters(Map<String, Map<String, Double>> values) {
        return new EpochRecord(epoch, trainLoss, trainAccuracy, valLoss, valTop1, valTop5, valPrecision, valRecall, valF1,
                perClass, lr, epochSeconds, imagesPerSecond, lossScale, values);
    }

    /** Builds a record from the train and validation summaries of one epoch. */
    public static EpochRecord of(int epoch, Summary train, Summary val, double lr,
                                 double epochSeconds, double imagesPerSecond, Double lossScale) {
        return new EpochRecord(epoch, train.loss(), train.top1(), val.loss(), val.top1(), val.top5(),
                val.macroPrecision(), val.macroRecall(), val.macroF1(), val.perClass(),
                lr, epochSeconds, imagesPerSecond, lossScale);
    }

    /** A metric by name; a missing loss scale reads as NaN. */
    public double metric(String name) {
        return switch (name) {
            case "trainLoss" -> trainLoss;
            case "trainAccuracy" -> trainAccuracy;
            case "valLoss" -> valLoss;
            case "valTop1" -> valTop1;
            case "valTop5" -> valTop5;
            case "valPrecision" -> valPrecision;
            case "valRecall" -> valRecall;
            case "valF1" -> valF1;
            case "lr" -> lr;
            case "epochSeconds" -> epochSeconds;
            case "imagesPerSecond" -> imagesPerSecond;
            case "lossScale" -> lossScale == null ? Double.NaN : lossScale;
            default -> throw new IllegalArgumentException("unknown metric '" + name + "'; choose one of " + METRICS);
        };
    }
}
