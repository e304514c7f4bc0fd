package dev.activa.report;

import java.util.Collection;

/**
 * Mean and sample standard deviation (n − 1 in the denominator) of {@code n} values. One value
 * has std 0 rather than undefined, so always read it together with {@code n}; no values give NaN.
 */
public record Stats(double mean, double std, int n) {

    public static Stats of(Collection<Double> values) {
        return of(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    public static Stats of(double... values) {
        int n = values.length;
        if (n == 0) return new Stats(Double.NaN, Double.NaN, 0);
        double sum = 0;
        for (double v : values) sum += v;
        double mean = sum / n;
        if (n == 1) return new Stats(mean, 0, 1);
        // Two-pass: subtracting the mean first avoids the cancellation of sum-of-squares formulas.
        double squares = 0;
        for (double v : values) squares += (v - mean) * (v - mean);
        return new Stats(mean, Math.sqrt(squares / (n - 1)), n);
    }
}
