package dev.activa.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import org.junit.jupiter.api.Test;

/**
 * The FP32 activation kernels give the same bits interpreted and JIT-compiled, so that a training
 * run repeats exactly (a resumed run equals an uninterrupted one whatever the JIT did meanwhile).
 * This process runs the kernels until they are hot; a child JVM runs them in the interpreter
 * ({@code -Xint}); both print a digest of every output bit.
 */
class TierReproducibilityTest {
    private static final int N = 4096 + 37;

    /** SHA-256 over every activation's forward output, dx and parameter sums on fixed random inputs. */
    static String digest(int warmRounds) {
        SplittableRandom rng = new SplittableRandom(11);
        float[] x = new float[N], dy = new float[N], residual = new float[N];
        for (int i = 0; i < N; i++) {
            x[i] = (float) ((rng.nextDouble() * 2 - 1) * (i % 7 == 0 ? 40 : 5));
            dy[i] = (float) (rng.nextDouble() * 2 - 1);
            residual[i] = (float) (rng.nextDouble() - 0.5);
        }
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
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

    private static void update(MessageDigest sha, int bits) {
        sha.update(new byte[] {(byte) bits, (byte) (bits >> 8), (byte) (bits >> 16), (byte) (bits >> 24)});
    }

    /** The child JVM's entry point: prints the digest without warming anything up. */
    public static void main(String[] args) {
        System.out.println(digest(0));
    }

    @Test
    void interpretedAndCompiledKernelsAgreeBitForBit() throws IOException, InterruptedException {
        String compiled = digest(3000);
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
        assertEquals(compiled, interpreted, "interpreted (-Xint) kernels differ from compiled ones");
    }
}
