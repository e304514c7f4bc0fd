package dev.activa.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.activa.backend.Conv2dSpec;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Shape;
import dev.activa.tensor.Tensor;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The FP32 activation kernels, and the CPU backend's other kernels, give the same bits interpreted
 * and JIT-compiled, so that a training run repeats exactly (a resumed run equals an uninterrupted
 * one whatever the JIT did meanwhile). This process runs the kernels until they are hot; a child
 * JVM runs them in the interpreter ({@code -Xint}); both print a digest of every output bit.
 */
class TierReproducibilityTest {
    private static final int N = 4096 + 37;
    /**
     * Enough calls for C2 to compile every loop of the backend: after 60, the direct weight
     * gradient's lane sums still ran C1's code (the Vector API's Java fallback, as -Xint does), and
     * this test missed the order of their reduceLanes.
     */
    private static final int BACKEND_WARM_ROUNDS = 400;

    /** SHA-256 over every activation's forward output, dx and parameter sums on fixed random inputs. */
    static String digest(int warmRounds) {
        SplittableRandom rng = new SplittableRandom(11);
        float[] x = new float[N], dy = new float[N], residual = new float[N];
        for (int i = 0; i < N; i++) {
            x[i] = (float) ((rng.nextDouble() * 2 - 1) * (i % 7 == 0 ? 40 : 5));
            dy[i] = (float) (rng.nextDouble() * 2 - 1);
            residual[i] = (float) (rng.nextDouble() - 0.5);
        }
        MessageDigest sha = sha256();
        for (String name : Activation.NAMES) {
            Activation act = Activation.of(name);
            float[] p = new float[act.parameters().size()];
            for (int k = 0; k < p.length; k++) p[k] = (float) act.parameters().get(k).initial();
            float[] y = new float[N], dx = new float[N];
            var block = new FloatBlock(p.length);
            for (int round = 0; round <= warmRounds; round++) {
                java.util.Arrays.fill(block.parameterSums, 0);
                block.forward(act, p, x, residual, y, 0, N);
                block.backward(act, p, x, residual, dy, dx, 0, N);
            }
            for (float v : y) update(sha, Float.floatToRawIntBits(v));
            for (float v : dx) update(sha, Float.floatToRawIntBits(v));
            for (double s : block.parameterSums) {
                long bits = Double.doubleToRawLongBits(s);
                update(sha, (int) bits);
                update(sha, (int) (bits >>> 32));
            }
        }
        return java.util.HexFormat.of().formatHex(sha.digest());
    }

    /**
     * SHA-256 over the FP32 CPU backend's ops on small shapes that reach each convolution path
     * (direct at 28 × 28 and, on 8 lanes, 14 × 14; im2col GEMMs; per-image 1 × 1 GEMMs), batch norm,
     * pooling, matmul, the loss and the optimiser, each call {@code warmRounds + 1} times.
     */
    static String backendDigest(int warmRounds) {
        var cpu = new CpuBackend();
        SplittableRandom rng = new SplittableRandom(12);
        MessageDigest sha = sha256();
        Function<int[], Tensor> random = shape -> {
            float[] v = new float[(int) Shape.numel(shape)];
            for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextDouble() * 2 - 1);
            return cpu.fromFloats(v, DType.F32, shape);
        };
        // {in channels, out channels, size, stride, kernel}
        int[][] convolutions = {{4, 8, 28, 1, 3}, {8, 8, 14, 1, 3}, {8, 16, 14, 2, 3}, {16, 16, 7, 1, 3}, {8, 16, 14, 2, 1}};
        for (int[] c : convolutions) {
            var spec = new Conv2dSpec(c[3], c[4] / 2);
            Tensor x = random.apply(new int[] {4, c[0], c[2], c[2]}), w = random.apply(new int[] {c[1], c[0], c[4], c[4]});
            Tensor dy = random.apply(cpu.conv2d(x, w, spec).shape());
            Tensor gamma = random.apply(new int[] {c[1]}), beta = random.apply(new int[] {c[1]});
            for (int round = 0; round <= warmRounds; round++) {
                Tensor y = cpu.conv2d(x, w, spec);
                var bn = cpu.batchNormTrain(y, gamma, beta, cpu.zeros(DType.F32, c[1]), cpu.full(DType.F32, 1, c[1]), 0.1, 1e-5);
                var bnGrad = cpu.batchNormBackward(y, dy, gamma, bn.savedMean(), bn.savedInvStd());
                var pool = cpu.maxPool(y, 3, new Conv2dSpec(2, 1));
                List<Tensor> outputs = List.of(y, cpu.conv2dBackwardInput(dy, w, x.shape(), spec),
                        cpu.conv2dBackwardWeight(dy, x, w.shape(), spec), bn.y(), bn.savedMean(), bn.savedInvStd(),
                        bnGrad.dx(), bnGrad.dgamma(), bnGrad.dbeta(), pool.y(),
                        cpu.maxPoolBackward(pool.y(), pool.argmax(), y.shape()), cpu.globalAvgPool(y), cpu.channelSum(dy));
                if (round == warmRounds)
                    for (Tensor t : outputs) for (float v : t.toFloats()) update(sha, Float.floatToRawIntBits(v));
            }
        }
        Tensor features = random.apply(new int[] {16, 64}), weights = random.apply(new int[] {10, 64});
        Tensor dLogits = random.apply(new int[] {16, 10}), momentumBefore = random.apply(new int[] {10, 64});
        int[] labels = new int[16];
        for (int i = 0; i < labels.length; i++) labels[i] = i % 10;
        for (int round = 0; round <= warmRounds; round++) {
            Tensor logits = cpu.matmul(features, weights, false, true);
            var loss = cpu.softmaxCrossEntropy(logits, labels, 0.1);
            Tensor grad = cpu.matmul(dLogits, features, true, false);
            Tensor w = cpu.fromFloats(weights.toFloats(), DType.F32, 10, 64);
            Tensor momentum = cpu.fromFloats(momentumBefore.toFloats(), DType.F32, 10, 64);
            cpu.sgdStep(w, grad, momentum, 0.1, 0.9, 5e-4, true, 0.5);
            List<Tensor> outputs = List.of(logits, loss.loss(), loss.probabilities(),
                    cpu.softmaxCrossEntropyBackward(loss.probabilities(), labels, 0.1, 1, DType.F32), grad,
                    cpu.rowSum(dLogits), w, momentum, cpu.sum(logits));
            if (round == warmRounds)
                for (Tensor t : outputs) for (float v : t.toFloats()) update(sha, Float.floatToRawIntBits(v));
        }
        return java.util.HexFormat.of().formatHex(sha.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static void update(MessageDigest sha, int bits) {
        sha.update(new byte[] {(byte) bits, (byte) (bits >> 8), (byte) (bits >> 16), (byte) (bits >> 24)});
    }

    /** The child JVM's entry point: prints the digests without warming anything up. */
    public static void main(String[] args) {
        System.out.println(digest(0) + " " + backendDigest(0));
    }

    @Test
    void interpretedAndCompiledKernelsAgreeBitForBit() throws IOException, InterruptedException {
        String compiled = digest(3000) + " " + backendDigest(BACKEND_WARM_ROUNDS);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xint", "--add-modules", "jdk.incubator.vector"));
        // this JVM's -XX and -Dactiva. options too (-XX:UseAVX=2, -Dactiva.vector.bits=512): the
        // child must have vectors of the same width
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments())
            if (option.startsWith("-XX:") || option.startsWith("-Dactiva.")) command.add(option);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), TierReproducibilityTest.class.getName()));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String interpreted = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!child.waitFor(120, TimeUnit.SECONDS)) child.destroyForcibly();
        assertEquals(compiled.split(" ")[0], interpreted.split(" ")[0], "interpreted (-Xint) activation kernels differ from compiled ones");
        assertEquals(compiled, interpreted, "interpreted (-Xint) CPU backend kernels differ from compiled ones");
    }
}
