package dev.activa.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.data.DataFiles;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A training stopped by a signal (Ctrl-C, a kill) says which checkpoint holds what, and how to go on. */
class InterruptedTrainingTest {
    @Test
    void aKilledRunNamesItsLastCheckpointAndTheResumeFlag(@TempDir Path dir) throws Exception {
        DataFiles.writeFashionMnist(dir, "train", 256, 28, 28, 1);
        DataFiles.writeFashionMnist(dir, "t10k", 16, 28, 28, 2);
        Path runs = dir.resolve("runs");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "train", "--data", dir.toString(),
                "--epochs", "1000", "--width", "4", "--quiet", "--out", runs.toString()))
                .redirectErrorStream(true).start();
        // A child that hangs before its first epoch must not hang the build.
        Thread.ofVirtual().start(() -> {
            try {
                if (!child.waitFor(180, TimeUnit.SECONDS)) child.destroyForcibly();
            } catch (InterruptedException ignored) {
                child.destroyForcibly();
            }
        });
        var output = new StringBuilder();
        try (var lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                output.append(line).append('\n');
                // SIGTERM, as Ctrl-C's SIGINT, runs the JVM's shutdown hooks. Through the handle, which
                // (unlike Process.destroy) leaves the output open for what the hook prints.
                if (line.startsWith("epoch 1:")) child.toHandle().destroy();
            }
        } finally {
            if (!child.waitFor(60, TimeUnit.SECONDS)) child.destroyForcibly();
        }
        Path checkpoint = runs.resolve("relu_fashion-mnist.safetensors");
        String text = output.toString();
        assertTrue(text.contains("interrupted: " + checkpoint + " holds epoch ") && text.contains(" of 1000; go on with"
                + " the same flags and --resume " + checkpoint), text);
        assertTrue(Files.size(checkpoint) > 0, text);
    }
}
