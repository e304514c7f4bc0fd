package dev.activa.jmh;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * Two builds of the engine in one JVM, each in a class loader of its own, their convolution passes
 * timed in turn, round after round: on a shared host whose speed moves by tens of percent from
 * one minute to the next, both builds then meet the same minutes, which separate JMH runs (each a
 * JVM of its own, minutes apart) do not. Not a JMH benchmark: a before/after check.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/benchmarks.jar dev.activa.jmh.InTurn \
 *     before.jar after.jar 32:32:14:32:3:1:1 [rounds]
 * </pre>
 *
 * The jars are the engine's ({@code target/activa-*.jar} of each build); the layer is
 * N:C:H:K:R:stride:pad as {@link Conv2dBench}'s. Each round times every pass of one build, then of
 * the other (which goes first alternates), as the best of five calls each, after a 3 ms pause.
 * It prints each build's median over the rounds per pass, and in how many rounds the later build
 * was faster.
 */
public final class InTurn {
    private InTurn() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: InTurn BEFORE.jar AFTER.jar N:C:H:K:R:stride:pad [rounds]");
            System.exit(2);
        }
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 30;
        URL here = InTurn.class.getProtectionDomain().getCodeSource().getLocation();
        @SuppressWarnings("unchecked")
        IntFunction<double[]>[] passesOf = new IntFunction[2];
        for (int b = 0; b < 2; b++) {
            // The engine's jar first, so its classes win over the copies inside benchmarks.jar;
            // ConvPasses comes from benchmarks.jar, defined anew by each loader against its engine.
            var loader = new URLClassLoader(new URL[] {Path.of(args[b]).toUri().toURL(), here},
                    ClassLoader.getPlatformClassLoader());
            passesOf[b] = (IntFunction<double[]>) loader.loadClass(ConvPasses.class.getName())
                    .getConstructor(String.class).newInstance(args[2]);
        }
        for (int warm = 0; warm < 3; warm++) for (var build : passesOf) build.apply(10);
        double[][][] ms = new double[2][3][rounds];
        int secondFaster = 0;
        for (int r = 0; r < rounds; r++) {
            double[] total = new double[2];
            for (int i = 0; i < 2; i++) {
                int b = (r + i) % 2;
                Thread.sleep(3);
                double[] t = passesOf[b].apply(5);
                for (int p = 0; p < 3; p++) {
                    ms[b][p][r] = t[p];
                    total[b] += t[p];
                }
            }
            if (total[1] < total[0]) secondFaster++;
        }
        String[] passes = {"forward", "input gradient", "weight gradient"}, builds = {"before", "after"};
        for (int b = 0; b < 2; b++) {
            var line = new StringBuilder(args[2] + " " + builds[b] + ":");
            for (int p = 0; p < 3; p++) line.append(String.format(" %s %.3f ms", passes[p], median(ms[b][p])));
            System.out.println(line + " (medians of the rounds' best of five; " + args[b] + ")");
        }
        System.out.printf("after faster in %d of %d rounds%n", secondFaster, rounds);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
