package dev.activa.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Assumptions;

/** The installed Fashion-MNIST, when there is one. */
class RealFashionMnistTest {

    @BeforeAll
    static void needsTheData() {
        boolean present = Files.isDirectory(FashionMnist.DEFAULT_DIR);
        if (!present) {
            System.out.println("Skipping real Fashion-MNIST tests: " + FashionMnist.DEFAULT_DIR
                    + " is absent (apt-get install dataset-fashion-mnist)");
        }
        Assumptions.assumeTrue(present, FashionMnist.DEFAULT_DIR + " is absent");
    }

    @Test
    void trainAndTestHaveTheKnownShapeAndBalance() {
        for (Split split : Split.values()) {
            Dataset d = Datasets.open("fashion-mnist", null, split);
            int perClass = split == Split.TRAIN ? 6000 : 1000;
            assertEquals(10 * perClass, d.count());
            assertEquals(1, d.channels());
            assertEquals(28, d.height());
            assertEquals(28, d.width());
            assertEquals(10, d.classes());
            int[] expected = new int[10];
            Arrays.fill(expected, perClass);
            assertArrayEquals(expected, d.classCounts());
        }
    }

    /** The well-known training statistics (0.2860, 0.3530) confirm pixels are read in the right place. */
    @Test
    void trainStatisticsMatchTheLiterature() {
        Dataset train = FashionMnist.load(FashionMnist.DEFAULT_DIR, Split.TRAIN);
        assertEquals(0.2860f, train.mean()[0], 1e-3f);
        assertEquals(0.3530f, train.std()[0], 1e-3f);

        try (BatchLoader loader = new BatchLoader(train, 128, 1, true, true, false, train.mean(), train.std())) {
            long start = System.nanoTime();
            int images = 0;
            for (Batch b : loader.epoch(0)) {
                images += b.size();
            }
            assertEquals(60_000, images);
            System.out.printf("Fashion-MNIST: one augmented epoch of batches in %.0f ms%n", (System.nanoTime() - start) / 1e6);
        }
    }
}
