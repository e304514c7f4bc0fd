package dev.activa.report;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotsTest {
    @TempDir Path dir;

    /** A plausible run: losses falling, accuracies rising, with seed-dependent noise. */
    static RunLog run(String activation, String dataset, long seed, int epochs, double level) {
        var log = RunLog.start(activation, dataset, seed, "test", "cpu", Map.of(), Instant.EPOCH);
        var rnd = new java.util.Random(seed);
        for (int e = 1; e <= epochs; e++) {
            double noise = 0.02 * rnd.nextGaussian();
            double loss = 1.5 / Math.sqrt(e) + noise;
            double acc = level - 0.3 / e + noise;
            log = log.withEpoch(new EpochRecord(e, loss, acc + 0.02, loss + 0.1, acc, Math.min(1, acc + 0.1),
                    acc, acc, acc, List.of(), 0.1, 10, 5000, null));
        }
        return log;
    }

    private static BufferedImage png(Path file) throws IOException {
        assertTrue(Files.size(file) > 1000, "PNG is not empty");
        var image = ImageIO.read(file.toFile());
        assertNotNull(image, "ImageIO reads it as an image");
        return image;
    }

    /** Pixels within a small distance of an RGB colour: proves a series was actually drawn. */
    private static int pixelsNear(BufferedImage image, int rgb) {
        int count = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int p = image.getRGB(x, y);
                int d = Math.abs(((p >> 16) & 255) - ((rgb >> 16) & 255)) + Math.abs(((p >> 8) & 255) - ((rgb >> 8) & 255))
                        + Math.abs((p & 255) - (rgb & 255));
                if (d <= 12) count++;
            }
        }
        return count;
    }

    @Test
    void trainingCurvesAreTwoPanelsSideBySide() throws IOException {
        Path file = dir.resolve("curves.png");
        Plots.trainingCurves(run("nami", "mnist", 1, 30, 0.97), file, 5);
        var image = png(file);
        assertEquals(2 * Plots.PANEL_WIDTH, image.getWidth());
        assertEquals(Plots.HEIGHT, image.getHeight());
        assertTrue(pixelsNear(image, 0x1f77b4) > 200, "train lines drawn");
        assertTrue(pixelsNear(image, 0xff7f0e) > 200, "validation lines drawn");
    }

    @Test
    void trainingCurvesSurviveNaNAndNoSmoothing() throws IOException {
        var log = run("relu", "cifar10", 2, 3, 0.6);
        log = log.withEpoch(new EpochRecord(4, Double.NaN, 0.1, Double.NaN, 0.1, 0.5, 0, 0, 0, List.of(), 0.1, 1, 1, 1024.0));
        Path file = dir.resolve("nan.png");
        Plots.trainingCurves(log, file, 1);
        assertEquals(2 * Plots.PANEL_WIDTH, png(file).getWidth());
    }

    @Test
    void comparisonShadesTheSpreadOfSeeds() throws IOException {
        var logs = new ArrayList<RunLog>();
        for (long seed = 1; seed <= 3; seed++) logs.add(run("tanhrelu", "fashion-mnist", seed * 17, 20, 0.90));
        logs.add(run("relu", "fashion-mnist", 1, 15, 0.88)); // a single run, shorter
        Path file = dir.resolve("compare.png");
        Plots.comparison(logs, "valTop1", file);
        var image = png(file);
        assertEquals(Plots.WIDTH, image.getWidth());
        assertEquals(Plots.HEIGHT, image.getHeight());
        assertTrue(pixelsNear(image, 0x1f77b4) > 100, "mean line drawn");
        assertTrue(pixelsNear(image, 0xff7f0e) > 100, "single run drawn");
        // The band is the first colour at alpha 50 over white: about (211, 228, 240).
        assertTrue(pixelsNear(image, 0xd3e4f0) > 500, "shaded band drawn");
    }

    @Test
    void comparisonRejectsUnknownMetricsAndNoRuns() {
        var logs = List.of(run("relu", "mnist", 1, 3, 0.9));
        var e = assertThrows(IllegalArgumentException.class, () -> Plots.comparison(logs, "accuracy", dir.resolve("x.png")));
        assertTrue(e.getMessage().contains("valTop1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Plots.comparison(List.of(), "valLoss", dir.resolve("x.png")));
        assertFalse(Files.exists(dir.resolve("x.png")));
    }

    @Test
    void functionAndDerivative() throws IOException {
        Path file = dir.resolve("nami.png");
        double w = 0.3, a = 1.0, b = 1.5;
        Plots.function("Nami (w=0.3, a=1, b=1.5)",
                x -> x > 0 ? Math.tanh(a * x) : a * Math.sin(w * x) / b,
                x -> x > 0 ? a * (1 - Math.pow(Math.tanh(a * x), 2)) : a * w * Math.cos(w * x) / b,
                -10, 10, file);
        var image = png(file);
        assertEquals(Plots.WIDTH, image.getWidth());
        assertEquals(Plots.HEIGHT, image.getHeight());
        assertTrue(pixelsNear(image, 0x1f77b4) > 300, "f drawn");
        assertTrue(pixelsNear(image, 0xd62728) > 100, "f' drawn");
        assertThrows(IllegalArgumentException.class, () -> Plots.function("t", x -> x, x -> 1, 1, 1, file));
    }

    @Test
    void movingAverageIsCentredAndSkipsNaN() {
        assertArrayEquals(new double[] {1.5, 2, 3, 4, 4.5}, Plots.movingAverage(new double[] {1, 2, 3, 4, 5}, 3), 1e-12);
        assertArrayEquals(new double[] {1.5, 2.5, 3.5, 4.5, 5}, Plots.movingAverage(new double[] {1, 2, 3, 4, 5}, 2), 1e-12);
        assertArrayEquals(new double[] {1, 2, 3}, Plots.movingAverage(new double[] {1, Double.NaN, 3}, 3), 1e-12);
        assertArrayEquals(new double[] {7}, Plots.movingAverage(new double[] {7}, 9), 1e-12);
    }
}
