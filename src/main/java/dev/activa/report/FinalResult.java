package dev.activa.report;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.activa.report.ClassificationMetrics.Summary;

/** The evaluation a run ends with, on {@code split} (e.g. "test"), and its total wall time. */
public record FinalResult(
        @JsonProperty(required = true) String split,
        @JsonProperty(required = true) double loss,
        @JsonProperty(required = true) double top1,
        @JsonProperty(required = true) double top5,
        @JsonProperty(required = true) double precision,
        @JsonProperty(required = true) double recall,
        @JsonProperty(required = true) double f1,
        @JsonProperty(required = true) double totalSeconds) {

    public static FinalResult of(String split, Summary s, double totalSeconds) {
        return new FinalResult(split, s.loss(), s.top1(), s.top5(),
                s.macroPrecision(), s.macroRecall(), s.macroF1(), totalSeconds);
    }
}
