package dev.activa.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Loads CIFAR-10 and CIFAR-100 from their binary versions. A record is the label byte(s) then
 * 3072 pixel bytes: 1024 red, 1024 green, 1024 blue, each 32×32 row-major, which is already the
 * CHW layout {@link Dataset} wants, so pixels are copied as they are.
 */
public final class Cifar {

    /** Conventional install folders, alongside {@link FashionMnist#DEFAULT_DIR}; no package provides them. */
    public static final Path DEFAULT_DIR_10 = Path.of("/usr/share/datasets/cifar-10");
    public static final Path DEFAULT_DIR_100 = Path.of("/usr/share/datasets/cifar-100");

    public static final List<String> CIFAR10_NAMES = List.of(
            "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    private static final int PIXELS = 3 * 32 * 32;

    /** What differs between the two sets. */
    private record Format(
            String title,
            String subfolder,
            String archive,
            int labelBytes,
            int classes,
            List<String> trainFiles,
            int recordsPerTrainFile,
            String testFile,
            int testRecords,
            String namesFile,
            List<String> fallbackNames) {

        int recordSize() {
            return labelBytes + PIXELS;
        }

        String howToGet() {
            return "Download the binary version (" + archive + ") from https://www.cs.toronto.edu/~kriz/cifar.html,"
                    + " unpack it, and pass --data DIR naming the folder that holds " + subfolder + "/ (or its files).";
        }
    }

    private static final Format CIFAR10 = new Format(
            "CIFAR-10", "cifar-10-batches-bin", "cifar-10-binary.tar.gz", 1, 10,
            IntStream.rangeClosed(1, 5).mapToObj(i -> "data_batch_" + i + ".bin").toList(), 10_000,
            "test_batch.bin", 10_000, "batches.meta.txt", CIFAR10_NAMES);

    // Fine labels (100 classes); the coarse label byte comes first in each record and is skipped.
    private static final Format CIFAR100 = new Format(
            "CIFAR-100", "cifar-100-binary", "cifar-100-binary.tar.gz", 2, 100,
            List.of("train.bin"), 50_000, "test.bin", 10_000, "fine_label_names.txt",
            IntStream.range(0, 100).mapToObj(i -> "class " + i).toList());

    private Cifar() {}

    public static Dataset load10(Path dir, Split split) {
        return load(CIFAR10, "cifar10", dir, split);
    }

    public static Dataset load100(Path dir, Split split) {
        return load(CIFAR100, "cifar100", dir, split);
    }

    private static Dataset load(Format f, String name, Path dir, Split split) {
        List<String> names = split == Split.TRAIN ? f.trainFiles() : List.of(f.testFile());
        int perFile = split == Split.TRAIN ? f.recordsPerTrainFile() : f.testRecords();
        Path base = resolve(f, dir, names.getFirst());
        List<Path> files = new ArrayList<>();
        for (String n : names) { // check all files up front rather than failing after minutes of reading
            Path file = base.resolve(n);
            if (!Files.isRegularFile(file)) {
                throw new DataException(f.title() + " file missing: " + file + ". " + f.howToGet());
            }
            files.add(file);
        }

        int count = perFile * files.size();
        byte[] pixels = new byte[count * PIXELS];
        int[] labels = new int[count];
        int recordSize = f.recordSize();
        long expectedSize = (long) perFile * recordSize;
        for (int k = 0; k < files.size(); k++) {
            Path file = files.get(k);
            byte[] bytes = readExactly(f, file, expectedSize, perFile);
            for (int r = 0; r < perFile; r++) {
                int at = r * recordSize;
                int label = bytes[at + f.labelBytes() - 1] & 0xFF;
                if (label >= f.classes()) {
                    throw new DataException(file + ": record " + r + " has label " + label + ", outside 0.."
                            + (f.classes() - 1) + "; the file is corrupt or not " + f.title() + ". " + f.howToGet());
                }
                int i = k * perFile + r;
                labels[i] = label;
                System.arraycopy(bytes, at + f.labelBytes(), pixels, i * PIXELS, PIXELS);
            }
        }
        return new Dataset(name + "/" + split.label(), pixels, labels, count, 3, 32, 32, f.classes(), classNames(f, base));
    }

    /** The folder itself if it holds the files, else the archive's usual subfolder inside it. */
    private static Path resolve(Format f, Path dir, String probe) {
        if (!Files.isDirectory(dir)) {
            throw new DataException(f.title() + " folder " + dir
                    + (Files.exists(dir) ? " is a file, not a folder. " : " does not exist. ") + f.howToGet());
        }
        Path sub = dir.resolve(f.subfolder());
        return !Files.exists(dir.resolve(probe)) && Files.isDirectory(sub) ? sub : dir;
    }

    private static byte[] readExactly(Format f, Path file, long expectedSize, int records) {
        try {
            long size = Files.size(file);
            if (size != expectedSize) {
                String why = size % f.recordSize() != 0
                        ? "not a whole number of " + f.recordSize() + "-byte records"
                        : size / f.recordSize() + " records instead of " + records;
                throw new DataException(file + ": expected " + expectedSize + " bytes (" + records + " records of "
                        + f.recordSize() + " bytes), found " + size + " bytes (" + why + "). The file is truncated or"
                        + " not the binary " + f.title() + " version. " + f.howToGet());
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new DataException(file + ": cannot be read (" + e.getMessage() + "). " + f.howToGet(), e);
        }
    }

    /** Names from the archive's names file when it is there and complete, else the built-in fallback. */
    private static List<String> classNames(Format f, Path base) {
        Path file = base.resolve(f.namesFile());
        if (Files.isRegularFile(file)) {
            try {
                List<String> names = Files.readAllLines(file).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
                if (names.size() == f.classes()) {
                    return names;
                }
            } catch (IOException e) {
                // Names are cosmetic: an unreadable names file must not stop training.
            }
        }
        return f.fallbackNames();
    }
}
