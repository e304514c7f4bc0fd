package dev.activa.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of
 * UTF-8 JSON naming each tensor's dtype, shape and [begin, end) byte range in the data that
 * follows, then the tensors' bytes packed back to back.
 *
 * <p>The reader trusts nothing in the file: every length and offset is checked against the file's
 * real size before anything is allocated, so a crafted file can cost at most its own size in
 * memory, and the header is parsed as a plain JSON tree (no type information, nothing run).
 */
public final class Safetensors {
    private Safetensors() {}

    /** A file's tensors, in the order of their bytes in the file, and its free-form metadata. */
    public record Loaded(Map<String, TensorData> tensors, Map<String, String> metadata) {
        public Loaded {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }
    }

    static final String METADATA_KEY = "__metadata__";
    /** The reference implementation's cap; a larger header is taken as corruption, not content. */
    static final long MAX_HEADER_BYTES = 100_000_000;
    private static final Set<String> ENTRY_FIELDS = Set.of("dtype", "shape", "data_offsets");

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /**
     * Writes tensors in the map's iteration order, replacing {@code path} atomically. Everything is
     * checked before the file system is touched, so a bad argument leaves any old file as it was.
     */
    public static void write(Path path, Map<String, TensorData> tensors, Map<String, String> metadata)
            throws IOException {
        byte[] header = header(tensors, metadata == null ? Map.of() : metadata);
        AtomicFiles.write(path, channel -> {
            var length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            AtomicFiles.writeFully(channel, length);
            AtomicFiles.writeFully(channel, ByteBuffer.wrap(header));
            for (var tensor : tensors.values()) AtomicFiles.writeFully(channel, ByteBuffer.wrap(tensor.data()));
        });
    }

    /** The header JSON, padded with spaces so the data starts 8-byte aligned. */
    static byte[] header(Map<String, TensorData> tensors, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        long offset = 0;
        for (var entry : tensors.entrySet()) {
            String name = entry.getKey();
            TensorData tensor = entry.getValue();
            if (name == null || tensor == null) throw new IllegalArgumentException("null tensor name or tensor");
            if (name.equals(METADATA_KEY)) throw new IllegalArgumentException(METADATA_KEY + " is reserved");
            ObjectNode node = root.putObject(name);
            node.put("dtype", tensor.dtype());
            var shape = node.putArray("shape");
            for (long dim : tensor.shape()) shape.add(dim);
            node.putArray("data_offsets").add(offset).add(offset + tensor.data().length);
            offset += tensor.data().length;
        }
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(METADATA_KEY);
            metadata.forEach((k, v) -> {
                if (k == null || v == null) throw new IllegalArgumentException("null metadata key or value");
                meta.put(k, v);
            });
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a JSON tree", e);
        }
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** Reads and validates a whole file; problems are reported as IOExceptions naming the file. */
    public static Loaded read(Path path) throws IOException {
        try (var channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            if (fileSize < 8) throw bad(path, "truncated: " + fileSize + " bytes, fewer than the 8-byte header length");
            long n = readFully(channel, 0, 8, path).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            // Compared as unsigned: a length with the top bit set is huge, not negative.
            if (Long.compareUnsigned(n, fileSize - 8) > 0) {
                throw bad(path, "header length " + Long.toUnsignedString(n) + " exceeds the "
                        + (fileSize - 8) + " bytes after the length field (truncated or corrupt)");
            }
            if (n > MAX_HEADER_BYTES) throw bad(path, "header length " + n + " exceeds the " + MAX_HEADER_BYTES + " byte limit");
            if (n < 2) throw bad(path, "header length " + n + " is too short for a JSON object");
            String text = decodeUtf8(readFully(channel, 8, (int) n, path), path);
            long dataSize = fileSize - 8 - n;

            JsonNode root;
            try {
                root = JSON.readTree(text);
            } catch (JsonProcessingException e) {
                throw bad(path, "header is not valid JSON: " + e.getOriginalMessage());
            }
            if (root == null || !root.isObject()) throw bad(path, "header is not a JSON object");

            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = new ArrayList<>();
            for (var field : root.properties()) {
                if (field.getKey().equals(METADATA_KEY)) readMetadata(field.getValue(), metadata, path);
                else entries.add(entry(field.getKey(), field.getValue(), path));
            }

            // Offsets may be listed in any key order but must tile the data exactly; empty
            // tensors sort before a non-empty one starting at the same byte.
            entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
            long expectedBegin = 0;
            for (var e : entries) {
                if (e.begin != expectedBegin) {
                    throw bad(path, "tensor '" + e.name + "' starts at " + e.begin + " but the previous tensor ends at "
                            + expectedBegin + " (offsets overlap or leave a gap)");
                }
                expectedBegin = e.end;
            }
            if (expectedBegin != dataSize) {
                throw bad(path, "tensors cover " + expectedBegin + " data bytes but the file holds " + dataSize
                        + (expectedBegin > dataSize ? " (truncated)" : " (trailing bytes)"));
            }

            Map<String, TensorData> tensors = new LinkedHashMap<>();
            for (var e : entries) {
                var bytes = readFully(channel, 8 + n + e.begin, (int) (e.end - e.begin), path).array();
                tensors.put(e.name, new TensorData(e.dtype, e.shape, bytes));
            }
            return new Loaded(tensors, metadata);
        }
    }

    private record Entry(String name, String dtype, long[] shape, long begin, long end) {}

    private static Entry entry(String name, JsonNode node, Path path) throws IOException {
        String where = "tensor '" + name + "': ";
        if (!node.isObject()) throw bad(path, where + "entry is not a JSON object");
        for (var key : (Iterable<String>) node::fieldNames) {
            if (!ENTRY_FIELDS.contains(key)) throw bad(path, where + "unexpected field '" + key + "'");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) throw bad(path, where + "missing or non-string dtype");
        String dtype = dtypeNode.asText();
        if (!TensorData.DTYPE_SIZES.containsKey(dtype)) {
            throw bad(path, where + "unknown dtype '" + dtype + "'; known: " + TensorData.DTYPE_SIZES.keySet());
        }
        long[] shape = longs(node.get("shape"), -1, where + "shape", path);
        long[] offsets = longs(node.get("data_offsets"), 2, where + "data_offsets", path);
        long begin = offsets[0], end = offsets[1];
        if (begin > end) throw bad(path, where + "data_offsets [" + begin + ", " + end + "] end before they begin");
        long expected;
        try {
            expected = TensorData.byteLength(dtype, shape);
        } catch (IllegalArgumentException e) {
            throw bad(path, where + e.getMessage());
        }
        if (expected != end - begin) {
            throw bad(path, where + "shape " + Arrays.toString(shape) + " of " + dtype + " needs " + expected
                    + " bytes but data_offsets span " + (end - begin));
        }
        // Bound by the int range here; the contiguity check later bounds it by the file's size.
        if (end - begin > Integer.MAX_VALUE - 8) throw bad(path, where + "tensor of " + (end - begin) + " bytes is too large");
        return new Entry(name, dtype, shape, begin, end);
    }

    private static long[] longs(JsonNode node, int requiredLength, String what, Path path) throws IOException {
        if (node == null || !node.isArray()) throw bad(path, what + " is missing or not an array");
        if (requiredLength >= 0 && node.size() != requiredLength) {
            throw bad(path, what + " has " + node.size() + " entries, expected " + requiredLength);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                throw bad(path, what + " entry " + v + " is not a non-negative integer");
            }
            out[i] = v.asLong();
        }
        return out;
    }

    private static void readMetadata(JsonNode node, Map<String, String> into, Path path) throws IOException {
        if (!node.isObject()) throw bad(path, METADATA_KEY + " is not a JSON object");
        for (var field : node.properties()) {
            if (!field.getValue().isTextual()) {
                throw bad(path, METADATA_KEY + " value for '" + field.getKey() + "' is not a string");
            }
            into.put(field.getKey(), field.getValue().asText());
        }
    }

    private static String decodeUtf8(ByteBuffer bytes, Path path) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes)
                    .toString();
        } catch (CharacterCodingException e) {
            throw bad(path, "header is not valid UTF-8");
        }
    }

    /** Reads exactly {@code length} bytes at {@code position}; callers have bounded length by the file size. */
    private static ByteBuffer readFully(FileChannel channel, long position, int length, Path path) throws IOException {
        var buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, position + buffer.position());
            if (read < 0) throw bad(path, "file ended early at byte " + (position + buffer.position()));
        }
        return buffer.flip();
    }

    private static IOException bad(Path path, String problem) {
        return new IOException(path + ": not a valid safetensors file: " + problem);
    }
}
