package dev.activa.cli;

import dev.activa.activation.Activation;
import dev.activa.backend.Backend;
import dev.activa.data.Dataset;
import dev.activa.data.Datasets;
import dev.activa.data.Split;
import dev.activa.nn.ResNet;
import dev.activa.optim.Sgd;
import dev.activa.train.Checkpoint;
import dev.activa.train.TrainConfig;
import dev.activa.train.Trainer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** {@code eval}: a checkpoint's loss, accuracy and per-class metrics on a dataset's test split. */
final class EvalCommand {
    static final String USAGE = """
            usage: activa eval --checkpoint FILE [--dataset NAME] [--data DIR] [--batch 256] [--device cpu|cuda|auto] [--threads N]
              The model, dataset and input normalisation are read from the checkpoint; --dataset evaluates on
              another with the same shape.
            """;

    private EvalCommand() {}

    static int run(List<String> argv, PrintStream out) {
        Args a = Args.parse("eval", argv, Set.of("checkpoint", "dataset", "data", "batch", "device", "threads"), Set.of());
        Path file = Path.of(a.required("checkpoint"));
        Backend be = Devices.open(a.string("device", "cpu"), a.string("threads", null), out);
        if (!Files.exists(file)) throw new UsageException("eval: checkpoint " + file + " does not exist");
        var meta = Checkpoint.read(file).metadata();
        String[] m = meta.getOrDefault("model", "").split(",");
        if (m.length != 6) throw new IllegalArgumentException("eval: " + file + " does not describe its model (no 'model' metadata)");
        if (!Activation.NAMES.contains(m[5]))
            throw new UsageException("eval: " + file.getFileName() + " holds a model with the activation '" + m[5]
                    + "', which is not one of the engine's (" + String.join(", ", Activation.NAMES) + "); a model with an "
                    + "activation defined in Java (Activation.define) is evaluated through the API, with that definition");
        var config = new ResNet.Config(Integer.parseInt(m[0]), Integer.parseInt(m[1]), Integer.parseInt(m[2]),
                Integer.parseInt(m[3]), ResNet.Stem.valueOf(m[4]), m[5]);
        var model = new ResNet(be, config, 0);
        Checkpoint.load(file, model, null);
        String dataset = a.string("dataset", meta.get("dataset"));
        Path data = a.has("data") ? Path.of(a.string("data", null)) : null;
        Dataset test = Datasets.open(dataset, data, Split.TEST);
        if (test.channels() != config.inChannels() || test.classes() > config.classes())
            throw new UsageException("eval: " + file.getFileName() + " holds a model for " + config.inChannels()
                    + "-channel images and " + config.classes() + " classes (" + meta.get("dataset") + "); " + dataset
                    + " has " + test.channels() + " channels and " + test.classes()
                    + " classes. --dataset must name a dataset of the same shape");
        // Inputs normalised as in training: by the checkpoint's mean and std, which come from the
        // images the run trained on (its --train-limit included). Only a checkpoint without them
        // takes the whole training split's; otherwise the trainer, which only evaluates here, is
        // given the test split in its place.
        float[][] normalisation = Checkpoint.normalisation(meta);
        Dataset train = normalisation != null ? test : Datasets.open(dataset, data, Split.TRAIN);
        var trainer = new Trainer(model, new Sgd(model.parameters(), Sgd.Options.defaults(0.1)), train, test,
                TrainConfig.defaults().withBatchSize(a.integer("batch", 256)));
        if (normalisation != null) trainer.normalisedBy(normalisation[0], normalisation[1]);
        var s = trainer.evaluate(test);
        out.printf("%s on %s test (%,d images): loss %.4f, top-1 %.2f%%, top-%d %.2f%%, macro precision %.4f, recall %.4f, F1 %.4f%n",
                file.getFileName(), dataset, s.samples(), s.loss(), 100 * s.top1(), s.k(), 100 * s.topK(),
                s.macroPrecision(), s.macroRecall(), s.macroF1());
        out.println("class  precision  recall  f1      support");
        for (var c : s.perClass())
            out.printf("%-5d  %.4f     %.4f  %.4f  %d%n", c.classIndex(), c.precision(), c.recall(), c.f1(), c.support());
        return 0;
    }
}
