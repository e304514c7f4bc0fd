package dev.activa.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.backend.cpu.CpuBackend;
import dev.activa.data.Dataset;
import dev.activa.data.FashionMnist;
import dev.activa.data.Split;
import dev.activa.nn.ResNet;
import dev.activa.optim.Sgd;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Real data: a small ResNet's loss on Fashion-MNIST falls clearly within a few hundred steps. */
class FashionMnistTrainingTest {
    @Test
    void lossFallsClearlyOnRealImages() {
        boolean present = Files.isDirectory(FashionMnist.DEFAULT_DIR);
        if (!present) System.out.println("SKIP real-data test: " + FashionMnist.DEFAULT_DIR + " missing (apt-get install dataset-fashion-mnist)");
        Assumptions.assumeTrue(present);
        Dataset train = FashionMnist.load(FashionMnist.DEFAULT_DIR, Split.TRAIN).first(9600);
        var cpu = new CpuBackend();
        var model = new ResNet(cpu, new ResNet.Config(18, 8, 1, 10, ResNet.Stem.CIFAR, "tanhrelu"), 1);
        var sgd = new Sgd(model.parameters(), Sgd.Options.defaults(0.05));
        List<Double> losses = new ArrayList<>();
        var trainer = new Trainer(model, sgd, train, null,
                TrainConfig.defaults().withEpochs(1).withBatchSize(32).withAugment(false));
        trainer.addCallback(new Callback() {
            @Override
            public void onStep(Step s, Control c) {
                losses.add(s.loss());
            }
        });
        trainer.fit();
        double first = losses.subList(0, 20).stream().mapToDouble(d -> d).average().orElseThrow();
        double last = losses.subList(losses.size() - 20, losses.size()).stream().mapToDouble(d -> d).average().orElseThrow();
        System.out.printf("Fashion-MNIST, %d steps: mean loss of the first 20 steps %.3f, of the last 20 %.3f%n",
                losses.size(), first, last);
        assertTrue(losses.size() == 300, "300 steps of 32 images");
        assertTrue(last < 0.6 * first && last < 0.9, "loss falls clearly: " + first + " → " + last);
    }
}
