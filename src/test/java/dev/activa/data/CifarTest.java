package dev.activa.data;

import static dev.activa.data.FashionMnistTest.assertMentions;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CifarTest {

    static final int PER_FILE = 10_000, PIXELS = 3072;

    @TempDir
    Path dir;

    static void assertLoaded(Dataset d, String name, int count, int classes, byte[] pixels) {
        assertEquals(name, d.name());
        assertEquals(count, d.count());
        assertEquals(3, d.channels());
        assertEquals(32, d.height());
        assertEquals(32, d.width());
        assertEquals(classes, d.classes());
        assertArrayEquals(pixels, d.pixels());
        for (int i = 0; i < count; i++) {
            if (d.labels()[i] != DataFiles.label(i % PER_FILE, classes)) {
                assertEquals(DataFiles.label(i % PER_FILE, classes), d.labels()[i], "label of image " + i);
            }
        }
    }

    @Test
    void cifar10TestSplitRoundTripsWithBuiltInNames() {
        byte[] pixels = DataFiles.randomBytes(1, PER_FILE * PIXELS);
        DataFiles.write(dir.resolve("test_batch.bin"), DataFiles.cifarRecords(PER_FILE, 1, 10, pixels));
        Dataset d = Cifar.load10(dir, Split.TEST);
        assertLoaded(d, "cifar10/test", PER_FILE, 10, pixels);
        assertEquals(Cifar.CIFAR10_NAMES, d.classNames());
    }

    @Test
    void cifar10TrainSplitConcatenatesBatchesInOrderFromSubfolder() throws IOException {
        Path sub = dir.resolve("cifar-10-batches-bin");
        byte[] pixels = DataFiles.randomBytes(2, 5 * PER_FILE * PIXELS);
        for (int k = 0; k < 5; k++) {
            byte[] part = Arrays.copyOfRange(pixels, k * PER_FILE * PIXELS, (k + 1) * PER_FILE * PIXELS);
            DataFiles.write(sub.resolve("data_batch_" + (k + 1) + ".bin"), DataFiles.cifarRecords(PER_FILE, 1, 10, part));
        }
        List<String> names = List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j");
        Files.writeString(sub.resolve("batches.meta.txt"), String.join("\n", names) + "\n\n");
        Dataset d = Cifar.load10(dir, Split.TRAIN);
        assertLoaded(d, "cifar10/train", 5 * PER_FILE, 10, pixels);
        assertEquals(names, d.classNames());
    }

    @Test
    void cifar100UsesFineLabelsFromSubfolder() {
        byte[] pixels = DataFiles.randomBytes(3, PER_FILE * PIXELS);
        DataFiles.write(dir.resolve("cifar-100-binary/test.bin"), DataFiles.cifarRecords(PER_FILE, 2, 100, pixels));
        Dataset d = Cifar.load100(dir, Split.TEST);
        assertLoaded(d, "cifar100/test", PER_FILE, 100, pixels);
        assertEquals(IntStream.range(0, 100).mapToObj(i -> "class " + i).toList(), d.classNames());
    }

    @Test
    void cifar100ReadsFineLabelNames() throws IOException {
        byte[] pixels = DataFiles.randomBytes(4, PER_FILE * PIXELS);
        DataFiles.write(dir.resolve("test.bin"), DataFiles.cifarRecords(PER_FILE, 2, 100, pixels));
        List<String> names = IntStream.range(0, 100).mapToObj(i -> "name" + i).toList();
        Files.write(dir.resolve("fine_label_names.txt"), names);
        assertEquals(names, Cifar.load100(dir, Split.TEST).classNames());
    }

    @Test
    void missingFolderSaysWhereToGetTheData() {
        Path missing = dir.resolve("nope");
        DataException e = assertThrows(DataException.class, () -> Cifar.load10(missing, Split.TRAIN));
        assertMentions(e, missing, "cifar-10-binary.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar.html", "--data DIR");
        e = assertThrows(DataException.class, () -> Cifar.load100(missing, Split.TEST));
        assertMentions(e, missing, "cifar-100-binary.tar.gz", "--data DIR");
    }

    @Test
    void missingFileIsNamed() {
        for (int k : new int[] {1, 2, 4, 5}) {
            DataFiles.write(dir.resolve("data_batch_" + k + ".bin"), new byte[0]);
        }
        DataException e = assertThrows(DataException.class, () -> Cifar.load10(dir, Split.TRAIN));
        assertMentions(e, dir.resolve("data_batch_3.bin"), "binary version", "--data DIR");
    }

    @Test
    void partialRecordNamesFileAndSizes() {
        Path file = DataFiles.write(dir.resolve("test_batch.bin"), new byte[PER_FILE * 3073 - 5]);
        DataException e = assertThrows(DataException.class, () -> Cifar.load10(dir, Split.TEST));
        assertMentions(e, file, "expected 30730000 bytes", "found 30729995 bytes", "not a whole number");
    }

    @Test
    void wrongRecordCountNamesFileAndSizes() {
        Path file = DataFiles.write(dir.resolve("test.bin"), new byte[9_999 * 3074]);
        DataException e = assertThrows(DataException.class, () -> Cifar.load100(dir, Split.TEST));
        assertMentions(e, file, "expected 30740000 bytes", "found " + 9_999 * 3074 + " bytes", "9999 records instead of 10000");
    }

    @Test
    void cifar10LabelOutOfRangeNamesFileAndRecord() {
        byte[] bytes = DataFiles.cifarRecords(PER_FILE, 1, 10, new byte[PER_FILE * PIXELS]);
        bytes[1234 * 3073] = 10;
        Path file = DataFiles.write(dir.resolve("test_batch.bin"), bytes);
        DataException e = assertThrows(DataException.class, () -> Cifar.load10(dir, Split.TEST));
        assertMentions(e, file, "record 1234", "label 10", "0..9");
    }

    @Test
    void cifar100FineLabelOutOfRangeNamesFileAndRecord() {
        byte[] bytes = DataFiles.cifarRecords(PER_FILE, 2, 100, new byte[PER_FILE * PIXELS]);
        bytes[77 * 3074 + 1] = (byte) 200;
        Path file = DataFiles.write(dir.resolve("test.bin"), bytes);
        DataException e = assertThrows(DataException.class, () -> Cifar.load100(dir, Split.TEST));
        assertMentions(e, file, "record 77", "label 200", "0..99");
    }
}
