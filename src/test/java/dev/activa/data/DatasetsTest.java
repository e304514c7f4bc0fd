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
}
