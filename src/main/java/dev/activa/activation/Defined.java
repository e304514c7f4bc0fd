package dev.activa.activation;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * An activation defined from the Java API by its formulas in double ({@link Activation#define}),
 * for trying a new function without changing the engine. The CPU backend runs it on every path:
 * FP64 from the formulas, FP32 and FP16 through tables fitted to them (from 8 float lanes) or per
 * element in double ({@link Tabulated}). The CUDA backend does not: its activations are compiled kernels.
 *
 * <p>Two definitions are the same activation only if they are the same object: formulas given as
 * lambdas cannot be compared.
 */
public record Defined(String name, List<Parameter> parameters, Formula value, Formula derivative, Partials partials)
        implements Activation {

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

    public Defined {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(derivative, "derivative");
        parameters = List.copyOf(parameters);
        // The name goes into file names (the run log, the checkpoint) and the checkpoint's model.
        if (!name.matches("[a-z][a-z0-9_-]*"))
            throw new IllegalArgumentException("activation name '" + name + "': use lower-case letters, digits, '_' and "
                    + "'-', starting with a letter (it names the run's files)");
        if (NAMES.contains(name) || name.equals("silu"))
            throw new IllegalArgumentException("activation name '" + name + "' is the engine's own " + name
                    + "; give the new one another name");
        if (!parameters.isEmpty() && partials == null)
            throw new IllegalArgumentException(name + ": learnable parameters " + parameterNames(parameters)
                    + " need their partial derivatives");
        var seen = new HashSet<String>();
        for (Parameter q : parameters) {
            if (!seen.add(q.name())) throw new IllegalArgumentException(name + ": parameter '" + q.name() + "' twice");
            if (!(q.min() <= q.initial() && q.initial() <= q.max()))
                throw new IllegalArgumentException(name + ": parameter '" + q.name() + "' starts at " + q.initial()
                        + ", outside its range [" + q.min() + ", " + q.max() + "]");
        }
    }

    private static List<String> parameterNames(List<Parameter> parameters) {
        return parameters.stream().map(Parameter::name).toList();
    }

    public double value(double x, double[] p) { return value.at(x, p); }

    public double derivative(double x, double[] p) { return derivative.at(x, p); }

    public void parameterPartials(double x, double[] p, double[] out) {
        if (partials != null) partials.at(x, p, out);
    }

    // Identity, not the components': two lambdas with the same code may differ in what they capture.
    @Override
    public boolean equals(Object o) { return this == o; }

    @Override
    public int hashCode() { return System.identityHashCode(this); }

    @Override
    public String toString() {
        return name + (parameters.isEmpty() ? "" : parameterNames(parameters).toString());
    }
}
