package dev.activa.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.RandomArrays;
import dev.activa.activation.Activation;
import dev.activa.backend.Backend;
import dev.activa.data.Dataset;
import dev.activa.nn.ResNet;
import dev.activa.optim.Sgd;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import dev.activa.train.TrainConfig;
import dev.activa.train.TinyData;
import dev.activa.train.Trainer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A CPU backend's own thread count: where its loops run, and that a fixed count repeats a run on another machine. */
class CpuThreadsTest {

    /**
     * The weights after one epoch of a small ResNet-18 on 28 × 28 images, as a digest of their
     * bits: at that size the convolutions take the direct paths, whose weight gradients add one
     * partial sum per thread.
     */
    static String trainedDigest(Backend backend) {
        Dataset data = TinyData.random28(32, 6);
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
        Path errors = Files.createTempFile("cpu-threads-child", ".txt");
        try {
            Process child = new ProcessBuilder(command).redirectError(errors.toFile()).start();
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            child.waitFor(120, TimeUnit.SECONDS); // the output ended, so the child is ending
            assertTrue(out.matches("[0-9a-f]{64}"), "the child JVM printed '" + out + "' instead of a digest; its "
                    + "errors:\n" + Files.readString(errors));
            return out;
        } finally {
            Files.deleteIfExists(errors);
        }
    }

    @Test
    void aFixedThreadCountRepeatsARunOnAMachineWithFewerCores() throws IOException, InterruptedException {
        assertEquals(trainedDigest(new CpuBackend(3)), digestOnOneCore("3"),
                "three threads on one core trained other weights than three threads here");
        // Without a fixed count the loops are cut by the cores: what the fixed count is for. Not
        // asserted (the weights could coincide), but said, as the reason for this test.
        var everyCore = new CpuBackend();
        if (everyCore.threads() > 1)
            System.out.println("CpuThreadsTest: the default backend (" + everyCore.threads() + " threads here) and on one "
                    + "core trained " + (trainedDigest(everyCore).equals(digestOnOneCore("default")) ? "the same" : "other")
                    + " weights");
    }

    /**
     * The threads a forward pass of 2^18 elements runs on, seen by an activation's formula: a kink
     * away from zero keeps the tables away, so every element is computed in double, on whichever
     * thread runs its piece of the loop.
     */
    private static Set<String> threadsOfAForwardPass(CpuBackend backend) {
        Set<String> seen = ConcurrentHashMap.newKeySet();
        Activation recording = Activation.define("recording", (x, p) -> {
            seen.add(Thread.currentThread().getName());
            return Math.abs(x - 0.3);
        }, (x, p) -> Math.signum(x - 0.3));
        int n = 1 << 18;
        backend.activationForward(recording, new double[0], backend.fromFloats(RandomArrays.uniform(n, 5), DType.F32, n), null);
        return seen;
    }

    @Test
    void theLoopsRunOnTheBackendsOwnThreads() throws Exception {
        String caller = Thread.currentThread().getName();
        try (var own = new CpuBackend(2)) {
            Set<String> seen = threadsOfAForwardPass(own);
            assertTrue(!seen.isEmpty() && !seen.contains(caller) && seen.stream().noneMatch(t -> t.contains("commonPool")),
                    "a backend with threads of its own ran on " + seen);
        }
        assertEquals(Set.of(caller), threadsOfAForwardPass(new CpuBackend(1)), "one thread: the caller alone");

        var pool = new ForkJoinPool(2, p -> {
            var worker = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            worker.setName("given-" + worker.getName());
            return worker;
        }, null, false);
        try {
            var given = new CpuBackend(pool);
            assertEquals(2, given.threads());
            Set<String> seen = threadsOfAForwardPass(given);
            assertTrue(!seen.isEmpty() && seen.stream().allMatch(t -> t.startsWith("given-")), "a given pool's backend ran on " + seen);
            // The default backend called from a worker of that pool still runs on the common pool.
            Set<String> fromAWorker = pool.submit(() -> threadsOfAForwardPass(new CpuBackend())).get();
            assertTrue(fromAWorker.stream().noneMatch(t -> t.startsWith("given-")),
                    "the default backend, called from another pool's worker, ran on " + fromAWorker);
            assertEquals(trainedDigest(new CpuBackend(2)), trainedDigest(given),
                    "a given pool of two and a backend's own two threads trained other weights");
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void aFormulaThatThrowsOnAPoolThreadReachesTheCallerAsThrown() {
        Activation failing = Activation.define("failing", (x, p) -> {
            // only at the one input that holds it (the tables' fitting, on the caller, never meets it)
            if (x == (double) 0.95f) throw new IllegalArgumentException("no values above 0.9, got " + (float) x);
            return Math.abs(x - 0.3);
        }, (x, p) -> 1);
        int n = 1 << 18;
        for (var backend : new CpuBackend[] {new CpuBackend(), new CpuBackend(2)}) {
            // which thread runs the failing piece, and how many joins it passes, vary: several rounds
            for (int round = 0; round < 8; round++) {
                float[] xs = new float[n];
                xs[n - 1 - round * (n / 8)] = 0.95f;
                var e = assertThrows(IllegalArgumentException.class, () ->
                        backend.activationForward(failing, new double[0], backend.fromFloats(xs, DType.F32, n), null));
                assertEquals("no values above 0.9, got 0.95", e.getMessage());
            }
            backend.close();
        }
    }

    @Test
    void aClosedBackendSaysSo() {
        var backend = new CpuBackend(2);
        backend.close();
        var x = backend.fromFloats(new float[8], DType.F32, 8);
        var e = assertThrows(IllegalStateException.class, () -> backend.scale(x, 2));
        assertEquals("cpu backend: closed, its threads ended; make a new CpuBackend", e.getMessage());
        new CpuBackend().close(); // the common pool's backend: nothing of its own to end
        assertEquals(2, new CpuBackend().scale(backend(1).fromFloats(new float[] {1}, DType.F32, 1), 2).item(), 0);
    }

    private static CpuBackend backend(int threads) { return new CpuBackend(threads); }

    @Test
    void theForwardPassIgnoresTheThreadsAndTheWeightGradientFollowsTheirCut() {
        // The forward pass computes each output in one piece, whatever the threads; the direct
        // weight gradient adds one partial sum per thread, so one and three threads round apart.
        var one = new CpuBackend(1);
        assertEquals(1, one.threads());
        var x = one.fromFloats(RandomArrays.uniform(16 * 8 * 28 * 28, 1), DType.F32, 16, 8, 28, 28);
        var w = one.fromFloats(RandomArrays.uniform(8 * 8 * 9, 2), DType.F32, 8, 8, 3, 3);
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
    void aThreadCountOutsideWhatAPoolTakesIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> new CpuBackend(0));
        assertEquals("cpu backend: threads must be from 1 to 32767, got 0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CpuBackend(40000));
    }

}
