package dev.activa.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/** Writes test files in the real on-disk formats. */
public final class DataFiles {

    private DataFiles() {}

    /** IDX image file bytes: magic, count, rows, cols, pixels. */
    static byte[] idxImages(int magic, int count, int rows, int cols, byte[] pixels) {
        ByteBuffer bb = ByteBuffer.allocate(16 + pixels.length);
        bb.putInt(magic).putInt(count).putInt(rows).putInt(cols).put(pixels);
        return bb.array();
    }

    /** IDX label file bytes: magic, count, labels. */
    static byte[] idxLabels(int magic, byte[] labels) {
        ByteBuffer bb = ByteBuffer.allocate(8 + labels.length);
        bb.putInt(magic).putInt(labels.length).put(labels);
        return bb.array();
    }

    /**
     * One split of Fashion-MNIST as its two plain IDX files in dir ({@code prefix} "train" or
     * "t10k"): count random images of rows × cols pixels, labels cycling through the ten classes.
     */
    public static void writeFashionMnist(Path dir, String prefix, int count, int rows, int cols, long seed) {
        writeFashionMnist(dir, prefix, count, rows, cols, randomBytes(seed, count * rows * cols));
    }

    /** The same files with the given pixels (count·rows·cols of them), labels 0, 1, … 9, 0, … */
    public static void writeFashionMnist(Path dir, String prefix, int count, int rows, int cols, byte[] pixels) {
        byte[] labels = new byte[count];
        for (int i = 0; i < count; i++) labels[i] = (byte) (i % 10);
        write(dir.resolve(prefix + "-images-idx3-ubyte"), idxImages(IdxReader.IMAGES_MAGIC, count, rows, cols, pixels));
        write(dir.resolve(prefix + "-labels-idx1-ubyte"), idxLabels(IdxReader.LABELS_MAGIC, labels));
    }

    static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            out.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static Path write(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] randomBytes(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /**
     * A CIFAR binary file: each record is {@code labelBytes} label bytes then 3072 pixels. The
     * last label byte of record r is {@code label(r)}; an earlier one (CIFAR-100's coarse label)
     * is 19 - label % 20 so that reading the wrong byte shows.
     */
    static byte[] cifarRecords(int records, int labelBytes, int classes, byte[] pixels) {
        int size = labelBytes + 3072;
        byte[] out = new byte[records * size];
        for (int r = 0; r < records; r++) {
            int label = label(r, classes);
            if (labelBytes == 2) {
                out[r * size] = (byte) (19 - label % 20);
            }
            out[r * size + labelBytes - 1] = (byte) label;
            System.arraycopy(pixels, r * 3072, out, r * size + labelBytes, 3072);
        }
        return out;
    }

    static int label(int r, int classes) {
        return (r * 7 + 3) % classes;
    }
}
