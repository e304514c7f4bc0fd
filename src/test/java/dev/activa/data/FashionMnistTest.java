package dev.activa.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

    static final int N = 7, ROWS = 3, COLS = 4;

    @TempDir
    Path dir;

    final byte[] pixels = DataFiles.randomBytes(1, N * ROWS * COLS);
    final byte[] labels = {0, 9, 3, 3, 1, 8, 5};

    Path imagesFile(String prefix, boolean gz) {
        return dir.resolve(prefix + "-images-idx3-ubyte" + (gz ? ".gz" : ""));
    }

    Path labelsFile(String prefix, boolean gz) {
        return dir.resolve(prefix + "-labels-idx1-ubyte" + (gz ? ".gz" : ""));
    }

    void writeSet(String prefix, boolean gz, byte[] images, byte[] labelBytes) {
        DataFiles.write(imagesFile(prefix, gz), gz ? DataFiles.gzip(images) : images);
        DataFiles.write(labelsFile(prefix, gz), gz ? DataFiles.gzip(labelBytes) : labelBytes);
    }

    byte[] goodImages() {
        return DataFiles.idxImages(IdxReader.IMAGES_MAGIC, N, ROWS, COLS, pixels);
    }

    byte[] goodLabels() {
        return DataFiles.idxLabels(IdxReader.LABELS_MAGIC, labels);
    }

    void assertRoundTrip(Dataset d, String name) {
        assertEquals(name, d.name());
        assertEquals(N, d.count());
        assertEquals(1, d.channels());
        assertEquals(ROWS, d.height());
        assertEquals(COLS, d.width());
        assertEquals(10, d.classes());
        assertEquals(FashionMnist.CLASS_NAMES, d.classNames());
        assertArrayEquals(pixels, d.pixels());
        assertArrayEquals(new int[] {0, 9, 3, 3, 1, 8, 5}, d.labels());
    }

    DataException fails(Split split) {
        return assertThrows(DataException.class, () -> FashionMnist.load(dir, split));
    }

    static void assertMentions(DataException e, Object... parts) {
        for (Object part : parts) {
            assertTrue(e.getMessage().contains(part.toString()), () -> "'" + e.getMessage() + "' lacks '" + part + "'");
        }
    }

    @Test
    void readsGzippedFiles() {
        writeSet("train", true, goodImages(), goodLabels());
        assertRoundTrip(FashionMnist.load(dir, Split.TRAIN), "fashion-mnist/train");
    }

    @Test
    void readsPlainFiles() {
        writeSet("t10k", false, goodImages(), goodLabels());
        assertRoundTrip(FashionMnist.load(dir, Split.TEST), "fashion-mnist/test");
    }

    @Test
    void prefersThePlainFileWhenBothExist() {
        writeSet("train", false, goodImages(), goodLabels());
        byte[] other = pixels.clone();
        Arrays.fill(other, (byte) 1);
        writeSet("train", true, DataFiles.idxImages(IdxReader.IMAGES_MAGIC, N, ROWS, COLS, other), goodLabels());
        assertArrayEquals(pixels, FashionMnist.load(dir, Split.TRAIN).pixels());
    }

    @Test
    void missingFolderSaysHowToInstall() {
        Path missing = dir.resolve("nope");
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(missing, Split.TRAIN));
        assertMentions(e, missing, "apt-get install dataset-fashion-mnist", "--data DIR");
    }

    @Test
    void missingFileIsNamed() {
        DataFiles.write(imagesFile("train", true), DataFiles.gzip(goodImages()));
        assertMentions(fails(Split.TRAIN), labelsFile("train", true), "train-labels-idx1-ubyte", "--data DIR");
    }

    @Test
    void wrongImageMagicNamesFileExpectedAndActual() {
        writeSet("train", true, DataFiles.idxImages(2049, N, ROWS, COLS, pixels), goodLabels());
        assertMentions(fails(Split.TRAIN), imagesFile("train", true), "2051", "2049");
    }

    @Test
    void wrongLabelMagicNamesFileExpectedAndActual() {
        writeSet("train", false, goodImages(), DataFiles.idxLabels(2051, labels));
        assertMentions(fails(Split.TRAIN), labelsFile("train", false), "2049", "2051");
    }

    @Test
    void gzippedFileWithoutSuffixGetsAHint() {
        DataFiles.write(imagesFile("train", false), DataFiles.gzip(goodImages()));
        DataFiles.write(labelsFile("train", false), goodLabels());
        assertMentions(fails(Split.TRAIN), imagesFile("train", false), "2051", "gzip-compressed");
    }

    @Test
    void truncatedPlainFileNamesExpectedAndActualSize() {
        byte[] full = goodImages();
        writeSet("train", false, Arrays.copyOf(full, full.length - 5), goodLabels());
        assertMentions(fails(Split.TRAIN), imagesFile("train", false), "truncated", full.length + " bytes",
                (full.length - 5) + " bytes");
    }

    @Test
    void truncatedGzipContentNamesDecompressedSizes() {
        byte[] full = goodLabels();
        writeSet("train", true, goodImages(), Arrays.copyOf(full, full.length - 2));
        assertMentions(fails(Split.TRAIN), labelsFile("train", true), "truncated", full.length + " bytes",
                (full.length - 2) + " bytes", "decompressed");
    }

    @Test
    void truncatedHeaderIsReported() {
        writeSet("train", false, new byte[] {0, 0, 8, 3, 0, 0}, goodLabels());
        assertMentions(fails(Split.TRAIN), imagesFile("train", false), "16-byte", "6 bytes");
    }

    @Test
    void cutGzipStreamNamesTheFile() {
        byte[] gz = DataFiles.gzip(goodImages());
        DataFiles.write(imagesFile("train", true), Arrays.copyOf(gz, gz.length / 2));
        DataFiles.write(labelsFile("train", true), DataFiles.gzip(goodLabels()));
        assertMentions(fails(Split.TRAIN), imagesFile("train", true), "gzip");
    }

    @Test
    void overlongFileNamesExpectedAndActualSize() {
        byte[] full = goodImages();
        writeSet("train", false, Arrays.copyOf(full, full.length + 3), goodLabels());
        assertMentions(fails(Split.TRAIN), imagesFile("train", false), "too long", full.length + " bytes",
                (full.length + 3) + " bytes");
    }

    @Test
    void countMismatchNamesBothFiles() {
        writeSet("train", true, goodImages(), DataFiles.idxLabels(IdxReader.LABELS_MAGIC, Arrays.copyOf(labels, N - 1)));
        assertMentions(fails(Split.TRAIN), imagesFile("train", true), labelsFile("train", true),
                N + " images", (N - 1) + " labels");
    }

    @Test
    void labelOutOfRangeNamesFileIndexAndValue() {
        byte[] bad = labels.clone();
        bad[4] = 10;
        writeSet("t10k", false, goodImages(), DataFiles.idxLabels(IdxReader.LABELS_MAGIC, bad));
        assertMentions(fails(Split.TEST), labelsFile("t10k", false), "label 10", "index 4", "0..9");
    }

    @Test
    void folderThatIsAFileIsReported() throws IOException {
        Path file = Files.writeString(dir.resolve("file"), "x");
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(file, Split.TRAIN));
        assertMentions(e, file, "not a folder");
    }
}
