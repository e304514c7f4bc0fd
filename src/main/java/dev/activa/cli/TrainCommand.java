package dev.activa.cli;

import dev.activa.activation.Activation;
import dev.activa.activation.Defined;
import dev.activa.activation.Expression;
import dev.activa.backend.Backend;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.data.Dataset;
import dev.activa.data.Datasets;
import dev.activa.data.Split;
import dev.activa.nn.ResNet;
import dev.activa.optim.Sgd;
import dev.activa.report.PlotSupport;
import dev.activa.report.RunLog;
import dev.activa.train.TrainConfig;
import dev.activa.train.Trainer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

/** {@code train}: one run, from a preset and flags; also the building block of {@code compare}. */
final class TrainCommand {
    static final String USAGE = """
            usage: activa train [--preset NAME] [options]
              --preset       quickstart | fashion-resnet18 | cifar100-resnet50 (flags below override it)
              --dataset      fashion-mnist | cifar10 | cifar100      --data DIR   (default: the dataset's folder)
              --activation   relu | elu | swish | mish | tanhrelu | nami, or a NAME from --define
              --depth 18|34|50   --width N (first stage's channels, 64 in the papers)   --stem cifar|imagenet
              --epochs N (needed without a preset)  --batch N (128)  --lr X (0.1)  --momentum X (0.9)
              --weight-decay X (5e-4)  --nesterov  --decay-norm-and-bias
              --warmup EPOCHS  --min-lr X  --label-smoothing X  --precision fp32|mixed  --no-augment
              --train-limit N (train on the first N images)  --seed N  --out DIR (default runs)
              --resume CHECKPOINT  --device cpu|cuda|auto  --quiet
              --profile (time each op's forward and backward per training step after the first 20; printed, and kept in the log)
              --threads N (the CPU backend's threads; default every core; a fixed N repeats runs across machines)
              --define NAME=FORMULA[;NAME=FORMULA...]  activations from formulas in x, for --activation(s) NAME (CPU):
                  e.g. gelu=0.5*x*(1+tanh(0.79788456*(x+0.044715*x^3))); + - * / ^, exp expm1 log log1p sqrt abs
                  sin cos tanh sinh cosh atan sigmoid softplus min max
            """;

    static final Set<String> OPTIONS = Set.of("preset", "dataset", "data", "activation", "depth", "width", "stem", "epochs",
            "batch", "lr", "momentum", "weight-decay", "warmup", "min-lr", "label-smoothing", "precision", "train-limit",
            "seed", "out", "resume", "device", "threads", "define");
    static final Set<String> FLAGS = Set.of("nesterov", "decay-norm-and-bias", "no-augment", "quiet", "profile");

    /** The presets: the two write-ups, and a CPU quick start that takes a few minutes on two cores. */
    static final Map<String, Map<String, String>> PRESETS = Map.of(
            "quickstart", Map.of("dataset", "fashion-mnist", "activation", "tanhrelu", "depth", "18", "width", "16",
                    "epochs", "2", "train-limit", "30000", "lr", "0.1", "batch", "128", "precision", "fp32",
                    "no-augment", "true"),
            "fashion-resnet18", Map.of("dataset", "fashion-mnist", "activation", "tanhrelu", "depth", "18", "width", "64",
                    "epochs", "20", "lr", "0.1", "batch", "128", "precision", "mixed"),
            "cifar100-resnet50", Map.of("dataset", "cifar100", "activation", "nami", "depth", "50", "width", "64",
                    "epochs", "100", "lr", "0.1", "batch", "128", "precision", "mixed"));

    private TrainCommand() {}

    static String presetNames() {
        return String.join(", ", new TreeSet<>(PRESETS.keySet()));
    }

    /** Without a preset nothing says how long to train: a usage error, before any data is read. */
    static void requireEpochs(String verb, boolean given) {
        if (!given) throw new UsageException(verb + ": how many epochs? Give --epochs N, or a --preset (" + presetNames() + ")");
    }

    /**
     * The activation {@code name} names: one of {@code --define}'s (NAME=FORMULA, ';' between them),
     * else one of the engine's; a usage error for a malformed formula or an unknown name.
     */
    static Activation activation(String name, String defines) {
        if (defines != null)
            for (String definition : defines.split(";")) {
                if (definition.isBlank()) continue;
                Activation defined;
                try {
                    defined = Expression.define(definition);
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--define: " + e.getMessage());
                }
                if (defined.name().equals(name)) return defined;
            }
        return Activation.find(name).orElseThrow(() -> new UsageException("unknown activation '" + name + "'; choose one of "
                + String.join(", ", Activation.NAMES) + (defines == null ? ", or define one with --define NAME=FORMULA"
                : " or of --define's")));
    }

    /** Flags over the preset's values: the effective options of a run. */
    static Map<String, String> resolve(Args args, List<String> argv) {
        Map<String, String> o = new LinkedHashMap<>();
        String preset = args.string("preset", null);
        if (preset != null) {
            var values = PRESETS.get(preset);
            if (values == null) throw new UsageException("unknown --preset '" + preset + "'; choose one of " + presetNames());
            o.putAll(values);
        }
        Set<String> given = new HashSet<>();
        for (String a : argv) if (a.startsWith("--")) given.add(a.substring(2).split("=", 2)[0]);
        for (String name : given) if (OPTIONS.contains(name) || FLAGS.contains(name)) o.put(name, args.string(name, "true"));
        return o;
    }

    static int run(List<String> argv, PrintStream out) {
        Args args = Args.parse("train", argv, OPTIONS, FLAGS);
        var o = resolve(args, argv);
        Backend be = Devices.open(o.getOrDefault("device", "cpu"), o.get("threads"), out);
        Trainer.Result r = train(be, o, out, !o.containsKey("quiet"));
        out.println("log:    " + r.logFile().toAbsolutePath());
        out.println("model:  " + r.checkpoint().toAbsolutePath());
        if (!PlotSupport.available()) {
            out.println("plot:   none: " + PlotSupport.MISSING);
        } else {
            if (r.curves() != null) out.println("plot:   " + r.curves().toAbsolutePath());
            if (r.activationParameters() != null) out.println("plot:   " + r.activationParameters().toAbsolutePath());
        }
        return 0;
    }

    /** Builds data, model, optimiser and trainer from options, trains, and prints a summary. */
    static Trainer.Result train(Backend be, Map<String, String> o, PrintStream out, boolean progress) {
        Args a = Args.parse("train", toArgv(o), OPTIONS, FLAGS);
        // A mistyped number is a usage error whether or not the data is installed: parse before loading it.
        for (String name : List.of("lr", "momentum", "weight-decay", "warmup", "min-lr", "label-smoothing")) a.number(name, 0);
        requireEpochs("train", a.has("epochs"));
        int epochs = positive(a, "epochs"), batch = positive(a, "batch", 128);
        Activation activation = activation(a.string("activation", "relu"), a.string("define", null));
        if (activation instanceof Defined && !(be instanceof CpuBackend))
            throw new UsageException("train: --define's activations run on the CPU only (the GPU runs compiled kernels); "
                    + "use --device cpu");
        String dataset = a.string("dataset", "fashion-mnist");
        Path dir = a.has("data") ? Path.of(a.string("data", null)) : null;
        Dataset train = Datasets.open(dataset, dir, Split.TRAIN);
        Dataset test = Datasets.open(dataset, dir, Split.TEST);
        // Runs are named by dataset, not split or subset: the log is <activation>_<dataset>.json.
        Dataset subset = a.has("train-limit") ? train.first(positive(a, "train-limit")) : train;
        train = new Dataset(dataset, subset.pixels(), subset.labels(), subset.count(), subset.channels(),
                subset.height(), subset.width(), subset.classes(), subset.classNames());
        String stem = a.string("stem", "cifar");
        if (!stem.equals("cifar") && !stem.equals("imagenet")) throw new UsageException("train: --stem must be cifar or imagenet");
        String precision = a.string("precision", "fp32");
        if (!precision.equals("fp32") && !precision.equals("mixed"))
            throw new UsageException("train: --precision must be fp32 or mixed, got '" + precision + "'");
        long seed = a.longValue("seed", 0);
        ResNet.Config mc;
        try {
            mc = new ResNet.Config(a.integer("depth", 18), a.integer("width", 64), train.channels(), train.classes(),
                    stem.equals("cifar") ? ResNet.Stem.CIFAR : ResNet.Stem.IMAGENET, activation);
        } catch (IllegalArgumentException e) {
            throw new UsageException("train: " + e.getMessage());
        }
        var model = new ResNet(be, mc, seed);
        var sgd = new Sgd(model.parameters(), new Sgd.Options(a.number("lr", 0.1), a.number("momentum", 0.9),
                a.number("weight-decay", 5e-4), a.flag("nesterov"), a.flag("decay-norm-and-bias")));
        Path runDir = Path.of(a.string("out", "runs"));
        var config = new TrainConfig(epochs, batch, seed, a.number("warmup", 0),
                a.number("min-lr", 0), a.number("label-smoothing", 0), precision.equals("mixed"), !a.flag("no-augment"),
                progress, runDir, seed == 0 ? null : "seed" + seed);
        out.printf("train: resnet-%d width %d (%,d parameters), %s, %s on %s: %,d train / %,d test images, %d epochs, "
                        + "batch %d, lr %s cosine, %s, augmentation %s, seed %d%n",
                mc.depth(), mc.width(), model.parameterCount(), mc.activation().name(), dataset, Devices.describe(be),
                train.count(), test.count(), config.epochs(), config.batchSize(), sgd.options().lr(), precision,
                config.augment() ? "crop+flip" : "off", seed);
        var trainer = new Trainer(model, sgd, train, test, config);
        if (a.has("resume")) trainer.resumeFrom(Path.of(a.string("resume", null)));
        if (a.flag("profile")) trainer.profile();
        var saved = new AtomicInteger(); // the last epoch whose checkpoint this run wrote
        trainer.addCallback(new dev.activa.train.Callback() {
            @Override
            public void onEpoch(dev.activa.report.EpochRecord e, Control c) {
                saved.set(e.epoch()); // callbacks run after the epoch's checkpoint is written
                out.printf("epoch %d: train loss %.4f acc %.2f%% | test loss %.4f top-1 %.2f%% top-5 %.2f%% F1 %.4f | %.0f s, %.0f images/s%n",
                        e.epoch(), e.trainLoss(), 100 * e.trainAccuracy(), e.valLoss(), 100 * e.valTop1(),
                        100 * e.valTop5(), e.valF1(), e.epochSeconds(), e.imagesPerSecond());
            }
        });
        // Ctrl-C (or a kill) mid-run: say what is on disk and how to go on.
        Thread onInterrupt = new Thread(() -> out.println(saved.get() == 0
                ? "\ninterrupted before this run finished an epoch: it saved no checkpoint"
                : "\ninterrupted: " + trainer.checkpointFile() + " holds epoch " + saved.get() + " of " + epochs
                        + "; go on with the same flags and --resume " + trainer.checkpointFile()));
        Runtime.getRuntime().addShutdownHook(onInterrupt);
        Trainer.Result r;
        try {
            r = trainer.fit();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onInterrupt);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run
            }
        }
        var f = r.log().finalResult();
        if (f != null)
            out.printf("result: test top-1 %.2f%%, loss %.4f, macro F1 %.4f, %.0f s in all%n", 100 * f.top1(), f.loss(),
                    f.f1(), f.totalSeconds());
        if (r.log().profile() != null) out.print("profile of the training steps:\n" + r.log().profile().table());
        return r;
    }

    static int positive(Args a, String name) {
        return positive(a, name, -1);
    }

    /** The option's value, or {@code fallback} where it is not given; either must be at least 1. */
    static int positive(Args a, String name, int fallback) {
        int v = a.integer(name, fallback);
        if (v < 1) throw new UsageException("train: --" + name + " must be a positive integer");
        return v;
    }

    static List<String> toArgv(Map<String, String> o) {
        var argv = new java.util.ArrayList<String>();
        o.forEach((k, v) -> {
            argv.add("--" + k);
            if (!FLAGS.contains(k)) argv.add(v);
        });
        return argv;
    }

    static RunLog read(Path p) {
        try {
            return RunLog.read(p);
        } catch (java.io.IOException e) {
            throw new UsageException("cannot read run log " + p + ": " + e.getMessage());
        }
    }
}
