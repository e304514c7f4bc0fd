package dev.activa.report;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.activa.autograd.Profiler;

/** The one Jackson setup for report files: pretty output, strict input. */
final class Json {
    private Json() {}

    /**
     * Strict on reading so a hand-edited or truncated log fails loudly instead of filling in
     * zeros: unknown fields, nulls for numbers, missing required fields and trailing text are
     * errors. NaN and infinities are written as the strings "NaN"/"Infinity" and read back.
     */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .addMixIn(Profiler.Report.class, AddedProfileFields.class)
            .build();

    /** Fields of a run log's profile that logs written before them lack: absent there, they read as 0. */
    private abstract static class AddedProfileFields {
        @JsonSetter(nulls = Nulls.AS_EMPTY)
        abstract long warmupSteps();
    }

    /** What went wrong and where, e.g. {@code epochs[2].valTop1: ... (line 40, column 18)}. */
    static String describe(JsonProcessingException e) {
        var where = new StringBuilder();
        if (e instanceof JsonMappingException m) {
            for (var ref : m.getPath()) {
                if (ref.getFieldName() != null) where.append(where.isEmpty() ? "" : ".").append(ref.getFieldName());
                else if (ref.getIndex() >= 0) where.append('[').append(ref.getIndex()).append(']');
            }
        }
        String message = e.getOriginalMessage();
        // Jackson appends a long "(for Object starting at ...)"-style tail on some messages; the first line suffices.
        int newline = message.indexOf('\n');
        if (newline >= 0) message = message.substring(0, newline);
        var location = e.getLocation();
        String at = location == null || location.getLineNr() < 0 ? ""
                : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
        return (where.isEmpty() ? "" : where + ": ") + message + at;
    }
}
