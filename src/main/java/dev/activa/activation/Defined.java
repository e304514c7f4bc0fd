package dev.activa.activation;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * An activation defined from the Java API by its formulas in double ({@link Activation#define}),
 * for trying a new function without changing the engine. The CPU backend runs it on every path:
 * FP64 from the formulas, FP32 and FP16 through tables fitted to them (from 8 float lanes) or per
 * element in double ({@link Tabulated}). The CUDA backend does not: its activations are compiled
 * kernels.
 *
 * <p>The formulas must be pure functions of x and p: the backend calls them from several threads
 * at once, and fits its tables to them once per parameter values. Two definitions are the same
 * activation only if they are the same object (lambdas cannot be compared), so define one once and
 * use it for the whole model and run: each new definition is fitted anew.
 */
public final class Defined implements Activation {

    /** f(x) or f'(x) at the effective (clamped) parameter values p. */
    @FunctionalInterface
    public interface Formula {
        double at(double x, double[] p);
    }

    /** Writes ∂f/∂p_k at x into out[k]. */
    @FunctionalInterface
    public interface Partials {
        void at(double x, double[] p, double[] out);
    }

    private final String name;
    private final List<Parameter> parameters;
    private final Formula value, derivative;
    private final Partials partials;
    private final String source;

    Defined(String name, List<Parameter> parameters, Formula value, Formula derivative, Partials partials) {
        this(name, parameters, value, derivative, partials, null);
    }

    /** {@code source}: the {@code NAME=FORMULA} text an {@link Expression} came from, which rebuilds it; else null. */
    Defined(String name, List<Parameter> parameters, Formula value, Formula derivative, Partials partials, String source) {
        Objects.requireNonNull(name, "name");
        this.value = Objects.requireNonNull(value, "value");
        this.derivative = Objects.requireNonNull(derivative, "derivative");
        this.parameters = List.copyOf(parameters);
        this.partials = partials;
        this.name = name;
        this.source = source;
        // The name goes into file names (the run log, the checkpoint) and the checkpoint's model.
        if (!name.matches("[a-z][a-z0-9_-]*"))
            throw new IllegalArgumentException("activation name '" + name + "': use lower-case letters, digits, '_' and "
                    + "'-', starting with a letter (it names the run's files)");
        Activation.find(name).ifPresent(own -> {
            throw new IllegalArgumentException("activation name '" + name + "' is the engine's own " + own.name()
                    + "; give the new one another name");
        });
        if (!this.parameters.isEmpty() && partials == null)
            throw new IllegalArgumentException(name + ": learnable parameters " + parameterNames()
                    + " need their partial derivatives");
        var seen = new HashSet<String>();
        for (Parameter q : this.parameters) {
            if (!seen.add(q.name())) throw new IllegalArgumentException(name + ": parameter '" + q.name() + "' twice");
            if (!(q.min() <= q.initial() && q.initial() <= q.max()))
                throw new IllegalArgumentException(name + ": parameter '" + q.name() + "' starts at " + q.initial()
                        + ", outside its range [" + q.min() + ", " + q.max() + "]");
        }
    }

    private List<String> parameterNames() {
        return parameters.stream().map(Parameter::name).toList();
    }

    @Override
    public String name() { return name; }

    /** The {@code NAME=FORMULA} text it was made from on the command line ({@link Expression}), or null. */
    public String source() { return source; }

    @Override
    public List<Parameter> parameters() { return parameters; }

    @Override
    public double value(double x, double[] p) { return value.at(x, p); }

    @Override
    public double derivative(double x, double[] p) { return derivative.at(x, p); }

    @Override
    public void parameterPartials(double x, double[] p, double[] out) {
        if (partials != null) partials.at(x, p, out);
    }

    @Override
    public String toString() {
        return name + (parameters.isEmpty() ? "" : parameterNames().toString());
    }
}
