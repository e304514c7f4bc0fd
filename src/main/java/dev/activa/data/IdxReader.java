package dev.activa.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;

/**
 * Reads IDX files, the MNIST family's format: a big-endian int magic number whose low byte is
 * the number of dimensions, one big-endian int per dimension, then the unsigned bytes. Files
 * ending in {@code .gz} are decompressed on the fly.
 */
final class IdxReader {

    /** Unsigned bytes, 3 dimensions (count, rows, columns). */
    static final int IMAGES_MAGIC = 0x0803;
    /** Unsigned bytes, 1 dimension (count). */
    static final int LABELS_MAGIC = 0x0801;

    /** The dimensions from the header and the raw data that follows it. */
    record Idx(Path file, int[] dims, byte[] data) {}

    private IdxReader() {}

    /** Reads the whole file, insisting on the magic number and on exactly the size the header implies. */
    static Idx read(Path file, int expectedMagic) {
        boolean gz = file.getFileName().toString().endsWith(".gz");
        // Sizes of a .gz file are checked after decompression: say so, or the numbers look wrong.
        String unpacked = gz ? " (decompressed)" : "";
        int rank = expectedMagic & 0xFF;
        int headerSize = 4 + 4 * rank;
        try (InputStream in = open(file, gz)) {
            byte[] header = in.readNBytes(headerSize);
            if (header.length < 4) {
                throw new DataException(file + ": truncated: expected at least a " + headerSize
                        + "-byte IDX header, found " + header.length + " bytes" + unpacked + ". " + refetch(file));
            }
            ByteBuffer bb = ByteBuffer.wrap(header); // big-endian, as IDX is
            int magic = bb.getInt(0);
            if (magic != expectedMagic) {
                // A gzipped file saved without its .gz suffix is the common case: name the fix.
                String hint = !gz && (magic >>> 16) == 0x1F8B
                        ? " The file is gzip-compressed: rename it to " + file.getFileName() + ".gz or gunzip it."
                        : " Check that this is the right file. " + refetch(file);
                throw new DataException(file + ": wrong magic number " + magic + ", expected " + expectedMagic
                        + " (IDX " + kind(expectedMagic) + " file)." + hint);
            }
            if (header.length < headerSize) {
                throw new DataException(file + ": truncated: expected at least a " + headerSize
                        + "-byte IDX header, found " + header.length + " bytes" + unpacked + ". " + refetch(file));
            }
            int[] dims = new int[rank];
            long dataSize = 1;
            for (int k = 0; k < rank; k++) {
                dims[k] = bb.getInt(4 + 4 * k);
                if (dims[k] < 0) {
                    throw new DataException(file + ": header has negative dimension " + dims[k] + ". " + refetch(file));
                }
                dataSize *= dims[k];
            }
            String shape = Arrays.stream(dims).mapToObj(Integer::toString).collect(Collectors.joining("×"));
            if (dataSize > Integer.MAX_VALUE - 16) {
                throw new DataException(file + ": header claims " + shape + " bytes of data, more than one array can hold;"
                        + " the header is probably corrupt. " + refetch(file));
            }
            byte[] data = in.readNBytes((int) dataSize);
            long extra = in.transferTo(OutputStream.nullOutputStream());
            long expected = headerSize + dataSize;
            long actual = headerSize + data.length + extra;
            if (actual != expected) {
                throw new DataException(file + ": " + (actual < expected ? "truncated" : "too long") + ": expected "
                        + expected + " bytes (" + headerSize + "-byte header + " + shape + " " + kind(expectedMagic)
                        + " data), found " + actual + " bytes" + unpacked + ". " + refetch(file));
            }
            return new Idx(file, dims, data);
        } catch (IOException e) {
            throw new DataException(file + ": cannot be read (" + e.getMessage() + ")"
                    + (gz ? "; it is not a complete gzip file. " : ". ") + refetch(file), e);
        }
    }

    private static InputStream open(Path file, boolean gz) throws IOException {
        InputStream raw = Files.newInputStream(file);
        try {
            return gz ? new GZIPInputStream(raw, 1 << 16) : new BufferedInputStream(raw, 1 << 16);
        } catch (IOException e) {
            raw.close(); // not gzip at all: don't leak the handle
            throw e;
        }
    }

    private static String kind(int magic) {
        return switch (magic) {
            case IMAGES_MAGIC -> "image";
            case LABELS_MAGIC -> "label";
            default -> "data";
        };
    }

    private static String refetch(Path file) {
        return "Re-download or reinstall " + file.getFileName() + ".";
    }
}
