package dev.activa.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.backend.Backend;
import dev.activa.data.Dataset;
import dev.activa.nn.ResNet;
import dev.activa.optim.Sgd;
import dev.activa.tensor.Tensor;
import dev.activa.train.TrainConfig;
import dev.activa.train.Trainer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A CPU backend's own thread count: where its loops run, and that a fixed count repeats a run on another machine. */
class CpuThreadsTest {

    /**
     * The weights after one epoch of a small ResNet-18 on 28 × 28 images, as a digest of their
     * bits: at that size the convolutions take the direct paths, whose weight gradients add one
     * partial sum per thread.
     */
    static String trainedDigest(Backend backend) {
        var rng = new SplittableRandom(6);
        int count = 32;
        byte[] pixels = new byte[count * 28 * 28];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (byte) rng.nextInt(256);
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = i % 4;
        Dataset data = new Dataset("random28", pixels, labels, count, 1, 28, 28, 4, List.of("a", "b", "c", "d"));
        var model = new ResNet(backend, new ResNet.Config(18, 4, 1, 4, ResNet.Stem.CIFAR, "nami"), 7);
        var sgd = new Sgd(model.parameters(), Sgd.Options.defaults(0.05));
        new Trainer(model, sgd, data, null, TrainConfig.defaults().withEpochs(1).withBatchSize(16).withSeed(2)).fit();
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (var e : new TreeMap<>(model.state()).entrySet()) {
                sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                for (float v : e.getValue().toFloats()) {
                    int bits = Float.floatToRawIntBits(v);
                    sha.update(new byte[] {(byte) bits, (byte) (bits >> 8), (byte) (bits >> 16), (byte) (bits >> 24)});
                }
            }
            return java.util.HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The child JVM's entry point: the digest with the given thread count, or with the default backend. */
    public static void main(String[] args) {
        System.out.println(trainedDigest(args[0].equals("default") ? new CpuBackend() : new CpuBackend(Integer.parseInt(args[0]))));
    }

    /** The digest from a JVM that sees one core, as a one-core machine would run it. */
    private static String digestOnOneCore(String threads) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-XX:ActiveProcessorCount=1",
                "--add-modules", "jdk.incubator.vector"));
        // the same vector width as this JVM (-XX:UseAVX=2, -Dactiva.vector.bits=512)
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments())
            if (option.startsWith("-XX:UseAVX") || option.startsWith("-Dactiva.")) command.add(option);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), CpuThreadsTest.class.getName(), threads));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!child.waitFor(120, TimeUnit.SECONDS)) child.destroyForcibly();
        assertTrue(out.matches("[0-9a-f]{64}"), "the child JVM printed '" + out + "' instead of a digest");
        return out;
    }

    @Test
    void aFixedThreadCountRepeatsARunOnAMachineWithFewerCores() throws IOException, InterruptedException {
        assertEquals(trainedDigest(new CpuBackend(3)), digestOnOneCore("3"),
                "three threads on one core trained other weights than three threads here");
        // Without a fixed count the loops are cut by the cores: what the fixed count is for.
        var everyCore = new CpuBackend();
        if (everyCore.threads() > 1)
            assertNotEquals(trainedDigest(everyCore), digestOnOneCore("default"),
                    "the default backend on " + everyCore.threads() + " threads and on one core trained the same weights");
        else
            System.out.println("CpuThreadsTest: this machine runs the default backend on one thread, so its run "
                    + "cannot be compared with a one-core one");
    }

    @Test
    void aGivenPoolRunsTheLoopsAndCutsThemByItsParallelism() {
        var started = new AtomicInteger();
        var pool = new ForkJoinPool(2, p -> {
            started.incrementAndGet();
            return ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
        }, null, false);
        try {
            var backend = new CpuBackend(pool);
            assertEquals(2, backend.threads());
            assertEquals(trainedDigest(new CpuBackend(2)), trainedDigest(backend),
                    "a given pool of two and a backend's own two threads trained other weights");
            assertTrue(started.get() > 0, "the given pool started no worker: the loops ran elsewhere");
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void oneThreadSumsTheWeightGradientInOnePiece() {
        // The forward pass computes each output in one piece, whatever the threads; the direct
        // weight gradient adds one partial sum per thread, so one and three threads round apart.
        var one = new CpuBackend(1);
        assertEquals(1, one.threads());
        var x = one.fromFloats(randomFloats(16 * 8 * 28 * 28, 1), dev.activa.tensor.DType.F32, 16, 8, 28, 28);
        var w = one.fromFloats(randomFloats(8 * 8 * 9, 2), dev.activa.tensor.DType.F32, 8, 8, 3, 3);
        var spec = new dev.activa.backend.Conv2dSpec(1, 1);
        Tensor y = one.conv2d(x, w, spec);
        Tensor dw = one.conv2dBackwardWeight(y, x, w.shape(), spec);
        var three = new CpuBackend(3);
        Tensor y3 = three.conv2d(three.fromFloats(x.toFloats(), x.dtype(), x.shape()),
                three.fromFloats(w.toFloats(), w.dtype(), w.shape()), spec);
        org.junit.jupiter.api.Assertions.assertArrayEquals(y3.toFloats(), y.toFloats(), "the forward pass depends on the cut");
        float[] dw3 = three.conv2dBackwardWeight(y3, three.fromFloats(x.toFloats(), x.dtype(), x.shape()), w.shape(), spec).toFloats();
        float[] dw1 = dw.toFloats();
        boolean anyDiffers = false;
        for (int i = 0; i < dw1.length; i++) {
            assertEquals(dw3[i], dw1[i], 1e-4f * Math.max(1f, Math.abs(dw3[i])), "weight gradient " + i);
            anyDiffers |= dw3[i] != dw1[i];
        }
        assertTrue(anyDiffers, "one and three threads summed the weight gradient in the same pieces");
    }

    @Test
    void aThreadCountBelowOneIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> new CpuBackend(0));
        assertEquals("cpu backend: threads must be at least 1, got 0", e.getMessage());
    }

    private static float[] randomFloats(int n, long seed) {
        var rng = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rng.nextDouble(-1, 1);
        return a;
    }
}
