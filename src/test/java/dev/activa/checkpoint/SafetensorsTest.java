package dev.activa.checkpoint;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir Path dir;

    private static Map<String, TensorData> sample() {
        var tensors = new LinkedHashMap<String, TensorData>();
        tensors.put("layer1.weight", TensorData.ofFloats(new long[] {2, 3}, new float[] {1, -2, 3.5f, 0, Float.MIN_VALUE, -0f}));
        tensors.put("layer1.bias", TensorData.ofDoubles(new long[] {2}, new double[] {Math.PI, -1e300}));
        tensors.put("step", TensorData.ofLongs(new long[] {}, new long[] {Long.MIN_VALUE}));
        tensors.put("half", TensorData.ofHalfBits(new long[] {3}, new short[] {
                Float.floatToFloat16(1.5f), Float.floatToFloat16(-0.25f), Float.floatToFloat16(65504f)}));
        tensors.put("mask", new TensorData("U8", new long[] {5}, new byte[] {0, 1, 2, (byte) 200, (byte) 255}));
        tensors.put("ids", new TensorData("I32", new long[] {2}, new byte[] {1, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}));
        tensors.put("empty", TensorData.ofFloats(new long[] {0, 4}, new float[0]));
        return tensors;
    }

    @Test
    void roundTripKeepsTensorsOrderAndMetadata() throws IOException {
        Path file = dir.resolve("model.safetensors");
        var tensors = sample();
        var metadata = Map.of("activation", "nami", "epoch", "7");
        Safetensors.write(file, tensors, metadata);

        var loaded = Safetensors.read(file);
        assertEquals(tensors, loaded.tensors());
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(loaded.tensors().keySet()));
        assertEquals(metadata, loaded.metadata());

        var t = loaded.tensors();
        assertArrayEquals(new float[] {1, -2, 3.5f, 0, Float.MIN_VALUE, -0f}, t.get("layer1.weight").toFloats());
        assertArrayEquals(new double[] {Math.PI, -1e300}, t.get("layer1.bias").toDoubles());
        assertArrayEquals(new long[] {Long.MIN_VALUE}, t.get("step").toLongs());
        assertArrayEquals(new long[0], t.get("step").shape());
        assertArrayEquals(new float[] {1.5f, -0.25f, 65504f}, t.get("half").toFloats());
        assertArrayEquals(new long[] {0, 1, 2, 200, 255}, t.get("mask").toLongs());
        assertArrayEquals(new long[] {1, -1}, t.get("ids").toLongs());
        assertEquals(0, t.get("empty").elementCount());
        assertArrayEquals(new long[] {0, 4}, t.get("empty").shape());
    }

    @Test
    void writtenFileFollowsTheLayoutByteForByte() throws IOException {
        Path file = dir.resolve("small.safetensors");
        var tensors = new LinkedHashMap<String, TensorData>();
        tensors.put("w", TensorData.ofFloats(new long[] {2}, new float[] {1.0f, -2.0f}));
        tensors.put("n", TensorData.ofLongs(new long[] {1}, new long[] {258}));
        Safetensors.write(file, tensors, Map.of("k", "v"));

        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        String json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[8,16]},"
                + "\"__metadata__\":{\"k\":\"v\"}}";
        assertEquals(json, header.stripTrailing());
        assertTrue(header.substring(json.length()).chars().allMatch(c -> c == ' '), "padding is spaces");
        // Independent check that it is plain JSON any parser accepts.
        assertEquals(Map.of("k", "v"), new ObjectMapper().readValue(header, Map.class).get("__metadata__"));

        byte[] data = Arrays.copyOfRange(bytes, 8 + (int) n, bytes.length);
        assertArrayEquals(new byte[] {
                0, 0, (byte) 0x80, 0x3F,            // 1.0f little-endian
                0, 0, 0, (byte) 0xC0,               // -2.0f
                2, 1, 0, 0, 0, 0, 0, 0},            // 258L
                data);
    }

    @Test
    void readsAForeignFileWithUnpaddedHeaderAndKeysOutOfDataOrder() throws IOException {
        Path file = craft("foreign.safetensors",
                "{\"__metadata__\":{\"format\":\"pt\"},"
                        + "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                        + "\"z\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[6,6]}}",
                new byte[] {0, 0, (byte) 0x80, 0x3F, 7, 9});
        var loaded = Safetensors.read(file);
        assertEquals(List.of("a", "b", "z"), List.copyOf(loaded.tensors().keySet()), "returned in data order");
        assertArrayEquals(new float[] {1f}, loaded.tensors().get("a").toFloats());
        assertArrayEquals(new long[] {7, 9}, loaded.tensors().get("b").toLongs());
        assertEquals(Map.of("format", "pt"), loaded.metadata());
    }

    @Test
    void emptyTensorSharingAnOffsetWithANonEmptyOneIsFine() throws IOException {
        Path file = craft("zero.safetensors",
                "{\"full\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                        + "\"none\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}",
                new byte[] {1, 2});
        assertEquals(2, Safetensors.read(file).tensors().size());
    }

    // --- corruption: each must fail with the file name and the problem in the message ---

    private static final String ONE = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    @Test
    void truncatedData() throws IOException {
        Path file = dir.resolve("cut.safetensors");
        Safetensors.write(file, sample(), Map.of());
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 3));
        assertBad(file, "truncated");
    }

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        Path file = dir.resolve("tiny.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertBad(file, "truncated: 3 bytes");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        assertBad(craftRaw("long.safetensors", 1000, ONE, new byte[8]), "header length 1000 exceeds");
        // A length with the top bit set must not be read as negative, nor allocate anything.
        assertBad(craftRaw("huge.safetensors", -8, ONE, new byte[8]), "header length 18446744073709551608 exceeds");
    }

    @Test
    void overlappingOffsets() throws IOException {
        assertBad(craft("overlap.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]),
                "tensor 'b' starts at 4 but the previous tensor ends at 8");
    }

    @Test
    void gapBetweenTensors() throws IOException {
        assertBad(craft("gap.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[12]),
                "starts at 8 but the previous tensor ends at 4");
    }

    @Test
    void trailingBytesAfterTheLastTensor() throws IOException {
        assertBad(craft("trailing.safetensors", ONE, new byte[9]), "trailing bytes");
    }

    @Test
    void unknownDtype() throws IOException {
        assertBad(craft("dtype.safetensors", ONE.replace("F32", "F31"), new byte[8]), "unknown dtype 'F31'");
    }

    @Test
    void shapeDisagreesWithOffsets() throws IOException {
        assertBad(craft("shape.safetensors", ONE.replace("[2]", "[3]"), new byte[8]),
                "shape [3] of F32 needs 12 bytes but data_offsets span 8");
        assertBad(craft("overflow.safetensors", ONE.replace("[2]", "[4611686018427387904,4]"), new byte[8]),
                "overflows");
    }

    @Test
    void malformedOffsets() throws IOException {
        assertBad(craft("reversed.safetensors", ONE.replace("[0,8]", "[8,0]"), new byte[8]), "end before they begin");
        assertBad(craft("negative.safetensors", ONE.replace("[0,8]", "[-8,0]"), new byte[8]), "not a non-negative integer");
        assertBad(craft("three.safetensors", ONE.replace("[0,8]", "[0,8,8]"), new byte[8]), "has 3 entries, expected 2");
        assertBad(craft("fraction.safetensors", ONE.replace("[0,8]", "[0,8.0]"), new byte[8]), "not a non-negative integer");
    }

    @Test
    void malformedJson() throws IOException {
        assertBad(craft("json.safetensors", "{\"a\":", new byte[0]), "not valid JSON");
        assertBad(craft("array.safetensors", "[1,2]", new byte[0]), "not a JSON object");
        assertBad(craft("dup.safetensors", ONE.replace("}}", "},\"a\":{}}"), new byte[8]), "not valid JSON");
        assertBad(craft("after.safetensors", ONE + "{}", new byte[8]), "not valid JSON");
        assertBad(craft("field.safetensors", ONE.replace("\"dtype\"", "\"x\":1,\"dtype\""), new byte[8]), "unexpected field 'x'");
        assertBad(craft("meta.safetensors", "{\"__metadata__\":{\"n\":1}}", new byte[0]), "is not a string");
    }

    @Test
    void invalidUtf8() throws IOException {
        Path file = dir.resolve("utf.safetensors");
        byte[] header = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        Files.write(file, concat(lengthField(header.length), header));
        assertBad(file, "not valid UTF-8");
    }

    // --- atomicity ---

    @Test
    void rejectedWriteLeavesTheOldFileIntact() throws IOException {
        Path file = dir.resolve("keep.safetensors");
        Safetensors.write(file, sample(), Map.of("v", "1"));
        byte[] before = Files.readAllBytes(file);

        // A tensor whose bytes do not match its shape cannot even be made.
        var e = assertThrows(IllegalArgumentException.class,
                () -> new TensorData("F32", new long[] {2, 2}, new byte[12]));
        assertTrue(e.getMessage().contains("needs 16 bytes but has 12"), e.getMessage());

        var bad = new LinkedHashMap<>(sample());
        bad.put("__metadata__", TensorData.ofFloats(new long[] {1}, new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(file, bad, Map.of()));
        var nullMeta = new LinkedHashMap<String, String>();
        nullMeta.put("k", null);
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(file, sample(), nullMeta));

        assertArrayEquals(before, Files.readAllBytes(file));
        assertOnlyFile(file);
    }

    @Test
    void failureMidWriteLeavesTheOldFileAndNoTemp() throws IOException {
        Path file = dir.resolve("mid.bin");
        AtomicFiles.write(file, "old".getBytes(StandardCharsets.UTF_8));
        assertThrows(IOException.class, () -> AtomicFiles.write(file, channel -> {
            AtomicFiles.writeFully(channel, ByteBuffer.wrap(new byte[1000]));
            throw new IOException("disk full (simulated)");
        }));
        assertEquals("old", Files.readString(file));
        assertOnlyFile(file);
    }

    @Test
    void overwriteReplacesContent() throws IOException {
        Path file = dir.resolve("again.safetensors");
        Safetensors.write(file, sample(), Map.of());
        var one = Map.of("x", TensorData.ofFloats(new long[] {1}, new float[] {42}));
        Safetensors.write(file, one, null);
        assertEquals(one, Safetensors.read(file).tensors());
        assertOnlyFile(file);
    }

    @Test
    void writtenFilesGetOrdinaryPermissions() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX file system");
        Path plain = Files.write(dir.resolve("plain"), new byte[1]);
        Path atomic = dir.resolve("atomic");
        AtomicFiles.write(atomic, new byte[1]);
        // Same as any newly created file (umask), not a temp file's owner-only rw-------.
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(atomic));
    }

    // --- helpers ---

    private void assertOnlyFile(Path file) throws IOException {
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file.getFileName().toString()),
                    files.map(p -> p.getFileName().toString()).toList(), "no temp files left behind");
        }
    }

    private static void assertBad(Path file, String expected) {
        var e = assertThrows(IOException.class, () -> Safetensors.read(file));
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    private Path craft(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return craftRaw(name, h.length, header, data);
    }

    private Path craftRaw(String name, long declaredLength, String header, byte[] data) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, concat(concat(lengthField(declaredLength), header.getBytes(StandardCharsets.UTF_8)), data));
        return file;
    }

    private static byte[] lengthField(long n) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
