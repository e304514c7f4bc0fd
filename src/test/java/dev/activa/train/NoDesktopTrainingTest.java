package dev.activa.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.backend.cpu.CpuBackend;
import dev.activa.nn.ResNet;
import dev.activa.optim.Sgd;
import dev.activa.report.PlotSupport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training on a Java runtime without java.desktop, like the GPU bundle's (pom.xml's dist profile):
 * the run completes and writes its log and checkpoint, only the chart is left out.
 */
class NoDesktopTrainingTest {
    /** The dist profile's default modules. */
    private static final String BUNDLE_MODULES = "java.base,java.logging,java.sql,jdk.incubator.vector";

    /** The child JVM's entry point: one tiny epoch into args[0]; prints what it got. */
    public static void main(String[] args) {
        var model = new ResNet(new CpuBackend(), new ResNet.Config(18, 4, 1, 4, ResNet.Stem.CIFAR, "relu"), 11);
        var sgd = new Sgd(model.parameters(), new Sgd.Options(0.05, 0.9, 5e-4, false, false));
        var data = TinyData.make(16, 3);
        var result = new Trainer(model, sgd, data, data,
                TrainConfig.defaults().withEpochs(1).withBatchSize(16).withRunDir(Path.of(args[0]))).fit();
        System.out.println("plots=" + PlotSupport.available() + " curves=" + result.curves());
    }

    @Test
    void trainsWithoutChartsWhereJavaDesktopIsMissing(@TempDir Path dir) throws IOException, InterruptedException {
        assertTrue(PlotSupport.available(), "the JDK running the tests has java.desktop");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(List.of(java.toString(), "--limit-modules", BUNDLE_MODULES,
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                NoDesktopTrainingTest.class.getName(), dir.toString())).redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, child.exitValue(), output);
        assertTrue(output.contains("plots=false curves=null"), output);
        assertTrue(Files.exists(dir.resolve("relu_tiny.json")), output);
        assertTrue(Files.exists(dir.resolve("relu_tiny.safetensors")), output);
        assertFalse(Files.exists(dir.resolve("relu_tiny_curves.png")), output);
    }
}
