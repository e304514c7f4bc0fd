package dev.activa.jmh;

import dev.activa.backend.cpu.CpuBackend;
import dev.activa.data.Datasets;
import dev.activa.data.Split;
import dev.activa.nn.Module;
import dev.activa.nn.ResNet;
import dev.activa.optim.Sgd;
import dev.activa.train.Callback;
import dev.activa.train.TrainConfig;
import dev.activa.train.Trainer;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * The quick start's training steps once the JIT has compiled them: the time a step takes, the
 * bytes the JVM allocates for it (every thread) and the collections in between. The quick start's
 * network (ResNet-18 at width 16, TanhReLU, batch 128, FP32) on Fashion-MNIST's first 12,800
 * images, one epoch; steps 20 to 99 are counted. Not a JMH benchmark: a whole training loop, as
 * the CLI runs it. To hold a build against another in the same minutes, alternate runs with each
 * build's engine jar first on the class path (its classes then win over benchmarks.jar's):
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/activa-0.1.0.jar:jmh/target/benchmarks.jar \
 *     dev.activa.jmh.TrainingSteps
 * </pre>
 */
public final class TrainingSteps {
    private TrainingSteps() {}

    private static final int FIRST = 20, LAST = 99;

    public static void main(String[] args) {
        var train = Datasets.open("fashion-mnist", null, Split.TRAIN).first(128 * (LAST + 1));
        var cpu = new CpuBackend();
        var model = new ResNet(cpu, new ResNet.Config(18, 16, 1, 10, ResNet.Stem.CIFAR, "tanhrelu"), 42);
        var sgd = new Sgd(model.parameters(), Sgd.Options.defaults(0.05));
        var trainer = new Trainer(model, sgd, train, null, TrainConfig.defaults().withEpochs(1));
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        trainer.addCallback(new Callback() {
            long start, allocated, collections, collectionMillis;

            @Override
            public void afterBackward(long step, List<Module.Parameter> parameters) {
                if (step == FIRST) {
                    start = System.nanoTime();
                    allocated = threads.getTotalThreadAllocatedBytes();
                    collections = collections();
                    collectionMillis = collectionMillis();
                } else if (step == LAST) {
                    int steps = LAST - FIRST;
                    System.out.printf("steps %d-%d: %.1f ms a step, %.0f MB allocated a step, %d collections, %d ms in them%n",
                            FIRST, LAST, (System.nanoTime() - start) / 1e6 / steps,
                            (threads.getTotalThreadAllocatedBytes() - allocated) / 1e6 / steps,
                            collections() - collections, collectionMillis() - collectionMillis);
                }
            }
        });
        trainer.fit();
    }

    private static long collections() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(b -> b.getCollectionCount()).sum();
    }

    private static long collectionMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(b -> b.getCollectionTime()).sum();
    }
}
