package dev.activa.data;

import static dev.activa.data.FashionMnistTest.assertMentions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {

    @TempDir
    Path dir;

    @Test
    void unknownNameListsTheValidOnes() {
        DataException e = assertThrows(DataException.class, () -> Datasets.open("mnist", dir, Split.TRAIN));
        assertMentions(e, "'mnist'", "fashion-mnist, cifar10, cifar100");
    }

    @Test
    void namesAreForgiving() {
        DataFiles.write(dir.resolve("test_batch.bin"), DataFiles.cifarRecords(10_000, 1, 10, new byte[10_000 * 3072]));
        assertEquals("cifar10/test", Datasets.open("CIFAR-10", dir, Split.TEST).name());
        assertEquals(FashionMnist.DEFAULT_DIR, Datasets.defaultDir("Fashion_MNIST"));
    }

    @Test
    void nullFolderMeansTheDefault() {
        assertEquals(Cifar.DEFAULT_DIR_100, Datasets.defaultDir("cifar100"));
        // The CIFAR default folder is normally absent; the error then names it.
        if (!Cifar.DEFAULT_DIR_100.toFile().exists()) {
            DataException e = assertThrows(DataException.class, () -> Datasets.open("cifar100", null, Split.TEST));
            assertMentions(e, Cifar.DEFAULT_DIR_100);
        }
    }

    /** One --data folder serves every set (compare across datasets): each in its usual subfolder. */
    @Test
    void oneFolderHoldsEverySetInItsSubfolder() {
        DataFiles.writeFashionMnist(dir.resolve("fashion-mnist"), "t10k", 20, 28, 28, 1);
        DataFiles.write(dir.resolve("cifar-10-batches-bin/test_batch.bin"),
                DataFiles.cifarRecords(10_000, 1, 10, new byte[10_000 * 3072]));
        assertEquals(20, Datasets.open("fashion-mnist", dir, Split.TEST).count());
        assertEquals(10_000, Datasets.open("cifar10", dir, Split.TEST).count());
        DataException e = assertThrows(DataException.class, () -> Datasets.open("fashion-mnist", dir, Split.TRAIN));
        assertMentions(e, dir.resolve("fashion-mnist").resolve("train-images-idx3-ubyte"));
    }
}
