package dev.activa.cli;

import dev.activa.backend.Backend;
import dev.activa.data.Dataset;
import dev.activa.data.Datasets;
import dev.activa.data.Split;
import dev.activa.nn.ResNet;
import dev.activa.tensor.DType;
import dev.activa.train.Checkpoint;
import dev.activa.train.Classifier;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** {@code eval}: a checkpoint's loss, accuracy and per-class metrics on a dataset's test split. */
final class EvalCommand {
    static final String USAGE = """
            usage: activa eval --checkpoint FILE [--dataset NAME] [--data DIR] [--batch N] [--device cpu|cuda|auto]
                               [--threads N]
              The model, dataset, input normalisation, precision and batch size are read from the checkpoint;
              --dataset evaluates on another with the same shape.
            """;

    private EvalCommand() {}

    static int run(List<String> argv, PrintStream out) {
        Args a = Args.parse("eval", argv, Set.of("checkpoint", "dataset", "data", "batch", "device", "threads"), Set.of());
        Path file = Path.of(a.required("checkpoint"));
        // flag mistakes first, before anything is read or started
        Devices.threads(a.string("threads", null));
        int batch = a.integer("batch", Classifier.DEFAULT_BATCH);
        if (batch < 1) throw new UsageException("eval: --batch must be a positive integer");
        if (!Files.exists(file)) throw new UsageException("eval: checkpoint " + file + " does not exist");
        Backend be = Devices.open(a.string("device", "cpu"), a.string("threads", null), out);
        var loaded = Checkpoint.read(file);
        var meta = loaded.metadata();
        // Inputs normalised, in the precision and batches of the run's own evaluation, as the
        // checkpoint records them. Only a checkpoint without a normalisation (an older one) takes
        // the whole training split's, below.
        Classifier classifier;
        ResNet model;
        try {
            classifier = Checkpoint.normalisation(meta) != null ? Classifier.load(file, loaded, be, null) : null;
            model = classifier != null ? (ResNet) classifier.model() : Classifier.network(file, loaded, be, null);
        } catch (Classifier.UnknownActivationException e) {
            throw new UsageException("eval: " + e.what() + "; a model with an activation defined in Java "
                    + "(Activation.define) is evaluated through the API, with that definition");
        }
        var config = model.config();
        String dataset = a.string("dataset", meta.get("dataset"));
        Path data = a.has("data") ? Path.of(a.string("data", null)) : null;
        Dataset test = Datasets.open(dataset, data, Split.TEST);
        if (test.channels() != config.inChannels() || test.classes() > config.classes())
            throw new UsageException("eval: " + file.getFileName() + " holds a model for " + config.inChannels()
                    + "-channel images and " + config.classes() + " classes (" + meta.get("dataset") + "); " + dataset
                    + " has " + test.channels() + " channels and " + test.classes()
                    + " classes. --dataset must name a dataset of the same shape");
        if (classifier == null) {
            Dataset train = Datasets.open(dataset, data, Split.TRAIN);
            classifier = new Classifier(model, train.mean(), train.std(), DType.F32, batch);
        } else if (a.has("batch")) {
            classifier = classifier.withBatchSize(batch);
        }
        var s = classifier.evaluate(test);
        out.printf("%s on %s test (%,d images): loss %.4f, top-1 %.2f%%, top-%d %.2f%%, macro precision %.4f, recall %.4f, F1 %.4f%n",
                file.getFileName(), dataset, s.samples(), s.loss(), 100 * s.top1(), s.k(), 100 * s.topK(),
                s.macroPrecision(), s.macroRecall(), s.macroF1());
        out.println("class  precision  recall  f1      support");
        for (var c : s.perClass())
            out.printf("%-5d  %.4f     %.4f  %.4f  %d%n", c.classIndex(), c.precision(), c.recall(), c.f1(), c.support());
        return 0;
    }
}
