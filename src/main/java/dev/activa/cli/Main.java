package dev.activa.cli;

import dev.activa.data.DataException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/** The {@code activa} command line: a thin layer of verbs over the engine's Java API. */
public final class Main {
    static final String USAGE = """
            usage: activa VERB [options]      (activa VERB --help for a verb's options)
              train        train a ResNet on Fashion-MNIST or CIFAR, with JSON logs, plots and checkpoints
              eval         evaluate a checkpoint on a dataset's test split
              compare      a grid of activations × datasets × seeds, ending in a summary table
              plot         draw PNG plots from run logs, or an activation and its derivative
              activations  print an activation's values and gradients at given points (CSV)
              doctor       find and prove the GPU stack (driver, kernels, cuDNN, cuBLAS)
              demo         one quick ResNet-18 training run on random data (a smoke test)
            """;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one verb; returns the exit status (0 ok, 1 failure, 2 usage error). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
            (args.length == 0 ? err : out).print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String verb = args[0];
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        String verbUsage = switch (verb) {
            case "activations" -> ActivationsCommand.USAGE;
            case "demo" -> DemoCommand.USAGE;
            case "train" -> TrainCommand.USAGE;
            case "eval" -> EvalCommand.USAGE;
            case "compare" -> CompareCommand.USAGE;
            case "plot" -> PlotCommand.USAGE;
            default -> USAGE;
        };
        if (rest.contains("--help") && !verb.equals("doctor")) {
            out.print(verbUsage);
            return 0;
        }
        try {
            return switch (verb) {
                case "activations" -> ActivationsCommand.run(rest, out);
                case "doctor" -> DoctorCommand.run(rest.toArray(String[]::new), out, err);
                case "demo" -> DemoCommand.run(rest, out);
                case "train" -> TrainCommand.run(rest, out);
                case "eval" -> EvalCommand.run(rest, out);
                case "compare" -> CompareCommand.run(rest, out);
                case "plot" -> PlotCommand.run(rest, out);
                default -> throw new UsageException("unknown verb '" + verb + "'");
            };
        } catch (UsageException e) {
            err.println("error: " + e.getMessage());
            err.print(verbUsage);
            return 2;
        } catch (java.io.UncheckedIOException e) {
            err.println("error: " + e.getMessage());
            return 1;
        } catch (DataException | dev.activa.train.TrainingStoppedException | IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
            err.println("error: " + e.getMessage());
            if (System.getenv("ACTIVA_DEBUG") != null) e.printStackTrace(err);
            return 1;
        }
    }
}
