package dev.activa.cli;

import dev.activa.activation.Activation;
import dev.activa.autograd.Ops;
import dev.activa.backend.Backend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code activations}: values and gradients of one activation at given points, computed through
 * the engine's own ops and autograd, as CSV {@code name,x,y,dy_dx,dy_dw,dy_da,dy_db}.
 */
public final class ActivationsCommand {
    static final String USAGE = """
            usage: activa activations --name NAME --points FILE [--params w=0.3,a=1.0,b=1.5]
                                      [--device cpu|cuda|auto] [--dtype fp32|fp64|fp16] [--define NAME=FORMULA]
              NAME is one of %s, or --define's (CPU); FILE holds one x per line (blank lines and # comments skipped).
              The dtype defaults to fp64 on the CPU and fp32 on CUDA (which has fp32 and fp16 only).
            """.formatted(String.join(", ", Activation.NAMES));

    private ActivationsCommand() {}

    /** One output row; the parameter gradients are empty for activations without parameters. */
    public record Row(String name, double x, double y, double dydx, double[] dydp) {}

    static int run(List<String> argv, PrintStream out) {
        Args args = Args.parse("activations", argv, Set.of("name", "points", "params", "device", "dtype", "define"), Set.of());
        Activation act;
        try {
            act = TrainCommand.activation(args.required("name"), args.string("define", null));
        } catch (UsageException e) {
            throw new UsageException("activations: " + e.getMessage());
        }
        double[] raw = parseParams(act, args.string("params", null));
        Backend backend = Devices.open(args.string("device", "cpu"), System.err);
        DType dtype = dtypeFor(backend, args.string("dtype", null));
        double[] xs = readPoints(Path.of(args.required("points")));
        out.println("name,x,y,dy_dx,dy_dw,dy_da,dy_db");
        for (Row r : compute(act, raw, xs, backend, dtype)) out.println(csv(r));
        return 0;
    }

    /** FP64 by default on the CPU (exact values); the GPU computes in FP32 (default) or FP16. */
    static DType dtypeFor(Backend backend, String requested) {
        boolean gpu = !backend.name().equals("cpu");
        if (requested == null) return gpu ? DType.F32 : DType.F64;
        DType dtype = parseDType(requested);
        if (gpu && dtype == DType.F64)
            throw new UsageException("activations: --device " + backend.name() + " computes in fp32 or fp16; use "
                    + "--dtype fp32|fp16, or --device cpu for fp64");
        return dtype;
    }

    static DType parseDType(String s) {
        try {
            return DType.parse(s);
        } catch (IllegalArgumentException e) {
            throw new UsageException("activations: " + e.getMessage());
        }
    }

    /** Computes each point on its own, so the parameter gradients are per point, not summed. */
    public static List<Row> compute(Activation act, double[] rawParams, double[] xs, Backend backend, DType dtype) {
        List<Row> rows = new ArrayList<>(xs.length);
        int np = act.parameters().size();
        for (double x : xs) {
            Tensor xt = backend.fromDoubles(new double[] {x}, dtype, 1).requiresGrad(true);
            Tensor p = np == 0 ? null : backend.fromDoubles(rawParams, dtype, np).requiresGrad(true);
            Tensor y = Ops.activation(act, p, xt, null);
            double value = y.item();
            y.backward(backend.full(dtype, 1, 1));
            rows.add(new Row(act.name(), x, value, xt.grad().item(), p == null ? new double[0] : p.grad().toDoubles()));
        }
        return rows;
    }

    static String csv(Row r) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.name()).append(',').append(num(r.x())).append(',').append(num(r.y())).append(',').append(num(r.dydx()));
        for (int k = 0; k < 3; k++) sb.append(',').append(k < r.dydp().length ? num(r.dydp()[k]) : "");
        return sb.toString();
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.17g", v);
    }

    static double[] parseParams(Activation act, String spec) {
        double[] raw = act.initialParameters();
        if (spec == null) return raw;
        if (act.parameters().isEmpty())
            throw new UsageException("activations: " + act.name() + " has no parameters; drop --params");
        for (String part : spec.split(",")) {
            String[] kv = part.split("=", 2);
            int k = -1;
            for (int i = 0; i < act.parameters().size(); i++)
                if (act.parameters().get(i).name().equals(kv[0].strip())) k = i;
            if (k < 0 || kv.length != 2)
                throw new UsageException("activations: bad --params entry '" + part + "'; expected NAME=VALUE with NAME in "
                        + act.parameters().stream().map(Activation.Parameter::name).toList());
            try {
                raw[k] = Double.parseDouble(kv[1].strip());
            } catch (NumberFormatException e) {
                throw new UsageException("activations: --params " + kv[0] + " must be a number, got '" + kv[1] + "'");
            }
        }
        return raw;
    }

    static double[] readPoints(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            throw new UsageException("activations: points file " + file + " does not exist");
        } catch (IOException e) {
            throw new UsageException("activations: cannot read points file " + file + ": " + e.getMessage());
        }
        List<Double> xs = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            try {
                xs.add(Double.parseDouble(line));
            } catch (NumberFormatException e) {
                throw new UsageException("activations: " + file + " line " + (i + 1) + ": '" + line
                        + "' is not a number; the file must hold one x per line");
            }
        }
        if (xs.isEmpty()) throw new UsageException("activations: points file " + file + " holds no points");
        return xs.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
