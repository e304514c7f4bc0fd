package dev.activa.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Loads Fashion-MNIST (or any MNIST-style set) from its four IDX files, gzipped or not. */
public final class FashionMnist {

    /** Where the Debian package {@code dataset-fashion-mnist} installs the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    public static final List<String> CLASS_NAMES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private static final String HOW_TO_GET = "Install it with `sudo apt-get install dataset-fashion-mnist` (files go to "
            + DEFAULT_DIR + "), or pass --data DIR naming a folder with train-images-idx3-ubyte[.gz],"
            + " train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]"
            + " (or with a fashion-mnist/ subfolder holding them).";

    private FashionMnist() {}

    /** The subfolder of a datasets folder that holds the files, as CIFAR's have theirs. */
    static final String SUBFOLDER = "fashion-mnist";

    public static Dataset load(Path dir, Split split) {
        if (!Files.isDirectory(dir)) {
            throw new DataException("Fashion-MNIST folder " + dir
                    + (Files.exists(dir) ? " is a file, not a folder. " : " does not exist. ") + HOW_TO_GET);
        }
        String prefix = split == Split.TRAIN ? "train" : "t10k";
        // A folder holding several sets (one --data for compare across datasets) keeps these in fashion-mnist/.
        Path sub = dir.resolve(SUBFOLDER);
        String imagesName = prefix + "-images-idx3-ubyte";
        if (!Files.exists(dir.resolve(imagesName)) && !Files.exists(dir.resolve(imagesName + ".gz")) && Files.isDirectory(sub))
            dir = sub;
        Path imagesFile = find(dir, imagesName);
        Path labelsFile = find(dir, prefix + "-labels-idx1-ubyte");
        IdxReader.Idx images = IdxReader.read(imagesFile, IdxReader.IMAGES_MAGIC);
        IdxReader.Idx labels = IdxReader.read(labelsFile, IdxReader.LABELS_MAGIC);

        int count = images.dims()[0];
        if (labels.dims()[0] != count) {
            throw new DataException(imagesFile + " holds " + count + " images but " + labelsFile + " holds "
                    + labels.dims()[0] + " labels; both files must come from the same download. " + HOW_TO_GET);
        }
        int classes = CLASS_NAMES.size();
        int[] label = new int[count];
        byte[] raw = labels.data();
        for (int i = 0; i < count; i++) {
            label[i] = raw[i] & 0xFF;
            if (label[i] >= classes) {
                throw new DataException(labelsFile + ": label " + label[i] + " at index " + i + " is outside 0.."
                        + (classes - 1) + "; the file is corrupt or not Fashion-MNIST. " + HOW_TO_GET);
            }
        }
        return new Dataset("fashion-mnist/" + split.label(), images.data(), label,
                count, 1, images.dims()[1], images.dims()[2], classes, CLASS_NAMES);
    }

    /** The uncompressed file if present (no inflating needed), else the .gz one. */
    private static Path find(Path dir, String base) {
        Path plain = dir.resolve(base);
        Path gz = dir.resolve(base + ".gz");
        if (Files.isRegularFile(plain)) {
            return plain;
        }
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        throw new DataException("Fashion-MNIST file missing: " + gz + " (nor is the uncompressed " + plain.getFileName()
                + " there). " + HOW_TO_GET);
    }
}
