package dev.activa.activation;

import java.util.List;
import jdk.incubator.vector.FloatVector;

/**
 * An elementwise activation function: its value, its derivative and, for activations with
 * learnable scalars, the partial derivatives with respect to those scalars.
 *
 * <p>Each activation is defined once, in its own file, twice over: in {@code double} for the FP64
 * reference path (gradient checks, golden values) and as {@link FloatVector} lanes over a
 * {@link FloatBlock} for the fast FP32/FP16 CPU path. Everything else in the engine (kernels,
 * autograd, layers, CLI) treats activations generically through this interface, so a new
 * activation is one new file plus its name here ({@link #NAMES}, {@link #of}, {@code permits});
 * its double definitions suffice, the FP32 path then tabulating them ({@link Tabulated}). Without
 * changing the engine, {@link #define} makes one from its formulas alone, for the CPU backend.
 *
 * <p>Parameter values passed in are the effective (already clamped) values, in the order of
 * {@link #parameters()}.
 */
public sealed interface Activation permits Relu, Elu, Swish, Mish, TanhRelu, Nami, Defined {

    /** The activations the engine ships, by CLI name. */
    List<String> NAMES = List.of("relu", "elu", "swish", "mish", "tanhrelu", "nami");

    /** A learnable scalar: initial value and the closed range it is clamped to before use. */
    record Parameter(String name, double initial, double min, double max) {
        public double clamp(double raw) {
            return Math.min(max, Math.max(min, raw));
        }

        /** A clamp passes gradient only while the raw value lies inside its range, bounds included. */
        public boolean passesGradient(double raw) {
            return raw >= min && raw <= max;
        }
    }

    String name();

    /** Learnable scalars, empty for most activations. */
    default List<Parameter> parameters() {
        return List.of();
    }

    double value(double x, double[] p);

    double derivative(double x, double[] p);

    /** Writes ∂f/∂p_k at x into {@code out[k]}; only activations with parameters override this. */
    default void parameterPartials(double x, double[] p, double[] out) {}

    /**
     * The FP32 fast path over one block: {@code b.out[b.outAt + i] = f(b.x[b.xAt + i])} for
     * i &lt; b.n. Lane code; see {@link FloatBlock} for the rules that keep it fast. By default,
     * {@link #value} tabulated per parameter values and evaluated by table lookups where the
     * tables come close enough, else per element in double ({@link Tabulated}): so a new
     * activation runs everywhere, right, from its double definitions alone.
     */
    default void forward(FloatBlock b, float[] p) {
        Tabulated.Kernel byElement = (block, q) -> block.forwardByElement(this, q, 0, block.n);
        if (!Tabulated.forward(this, b, p, byElement, Tabulated.INSTEAD_OF_DOUBLES)) byElement.run(b, p);
    }

    /**
     * The FP32 fast path backward over one block: {@code b.out[b.outAt + i] = b.dy[b.dyAt + i]·f'(x_i)};
     * an activation with parameters also adds Σ dy·∂f/∂p_k over the block to {@code b.parameterSums[k]}.
     * By default from {@link #derivative} and {@link #parameterPartials}, as {@link #forward}.
     */
    default void backward(FloatBlock b, float[] p) {
        Tabulated.Kernel byElement = (block, q) -> block.backwardByElement(this, q, 0, block.n);
        if (!Tabulated.backward(this, b, p, byElement, Tabulated.INSTEAD_OF_DOUBLES)) byElement.run(b, p);
    }

    /**
     * A new activation from its value and derivative in double, for the CPU backend: tabulated
     * where it is smooth on each side of zero and the CPU has 8 float lanes or more (AVX2), else
     * computed per element in double, 10–14 times slower. {@code name} names its runs' files and
     * must not be one of {@link #NAMES}.
     */
    static Activation define(String name, Defined.Formula value, Defined.Formula derivative) {
        return new Defined(name, List.of(), value, derivative, null);
    }

    /**
     * As {@link #define(String, Defined.Formula, Defined.Formula)}, with learnable scalars: each
     * layer gets its own, clamped to their ranges before use (the formulas see the clamped values,
     * in the order given), and {@code partials} writes ∂f/∂p_k for them.
     */
    static Activation define(String name, List<Parameter> parameters, Defined.Formula value, Defined.Formula derivative,
                             Defined.Partials partials) {
        return new Defined(name, parameters, value, derivative, partials);
    }

    /** One of the engine's activations by name ({@link #NAMES}, any case, or the alias silu). */
    static Activation of(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException(
                "unknown activation '" + name + "'; choose one of " + String.join(", ", NAMES)));
    }

    /** {@link #of}, or empty for a name that is none of the engine's. */
    static java.util.Optional<Activation> find(String name) {
        return java.util.Optional.ofNullable(switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "relu" -> new Relu();
            case "elu" -> new Elu();
            case "swish", "silu" -> new Swish();
            case "mish" -> new Mish();
            case "tanhrelu" -> new TanhRelu();
            case "nami" -> new Nami();
            default -> null;
        });
    }

    /**
     * Sums a vector's lanes in lane order, through {@code scratch} (at least v.length() floats; the
     * caller's, because the JIT does not scalar-replace an array a vector is stored into, and a new
     * one per call cost batch norm on small planes most of its time). Not reduceLanes(ADD): its
     * order is unspecified and differs between interpreted and compiled code, which would make
     * training runs irreproducible.
     */
    static double sumLanes(FloatVector v, float[] scratch) {
        v.intoArray(scratch, 0);
        double sum = 0;
        for (int i = 0; i < v.length(); i++) sum += scratch[i];
        return sum;
    }

    /** 1 − tanh²(z) computed as 1/cosh²(z), which keeps its precision where tanh(z) rounds to ±1. */
    static double sech2(double z) {
        double c = StrictMath.cosh(z);
        return 1 / (c * c);
    }

    /** The initial (raw) parameter values. */
    default double[] initialParameters() {
        return parameters().stream().mapToDouble(Parameter::initial).toArray();
    }

    /** Clamps raw parameter values to their ranges. */
    default double[] effective(double[] raw) {
        var spec = parameters();
        double[] out = new double[raw.length];
        for (int k = 0; k < raw.length; k++) out[k] = spec.get(k).clamp(raw[k]);
        return out;
    }
}
