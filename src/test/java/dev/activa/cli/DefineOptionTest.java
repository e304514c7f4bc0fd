package dev.activa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.checkpoint.Safetensors;
import dev.activa.data.DataFiles;
import dev.activa.report.RunLog;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --define NAME=FORMULA}: an activation from the command line, trained, logged and evaluated. */
class DefineOptionTest {
    private static final String SOFTSIGN = "softsign=x/(1+abs(x))";

    @Test
    void aDefinedActivationTrainsAndItsCheckpointEvaluates(@TempDir Path dir) throws Exception {
        DataFiles.writeFashionMnist(dir, "train", 48, 28, 28, 1);
        DataFiles.writeFashionMnist(dir, "t10k", 16, 28, 28, 2);
        Path out = dir.resolve("runs");
        var train = ActivationsCommandTest.run("train", "--data", dir.toString(), "--epochs", "1", "--width", "4",
                "--batch", "16", "--define", "tiny=x*sigmoid(x); " + SOFTSIGN, "--activation", "softsign", "--quiet",
                "--out", out.toString());
        assertEquals(0, train.status(), train.err());
        assertTrue(train.out().contains("softsign, fashion-mnist on cpu"), train.out());
        var log = RunLog.read(out.resolve("softsign_fashion-mnist.json"));
        assertEquals("softsign", log.activation());
        assertEquals(SOFTSIGN, log.config().get("activationDefinition"));
        Path checkpoint = out.resolve("softsign_fashion-mnist.safetensors");
        assertEquals(SOFTSIGN, Safetensors.read(checkpoint).metadata().get("activation_definition"));

        var eval = ActivationsCommandTest.run("eval", "--checkpoint", checkpoint.toString(), "--data", dir.toString());
        assertEquals(0, eval.status(), eval.err());
        var trained = Pattern.compile("loss ([0-9.]+), macro F1").matcher(train.out());
        assertTrue(trained.find() && eval.out().contains("loss " + trained.group(1)), train.out() + eval.out());
    }

    @Test
    void mistakesInADefinitionAreUsageErrorsThatSayWhere() {
        var typo = ActivationsCommandTest.run("train", "--epochs", "1", "--define", "soft=x/(1+abz(x))", "--activation", "soft");
        assertEquals(2, typo.status(), typo.err());
        assertTrue(typo.err().contains("--define: formula 'x/(1+abz(x))': unknown name 'abz'")
                && typo.err().contains("at character 6"), typo.err());
        var undefined = ActivationsCommandTest.run("compare", "--activations", "relu,soft", "--epochs", "1",
                "--define", "softer=x/(2+abs(x))");
        assertEquals(2, undefined.status(), undefined.err());
        assertTrue(undefined.err().contains("compare: unknown activation 'soft'"), undefined.err());
        var ownName = ActivationsCommandTest.run("train", "--epochs", "1", "--define", "relu=max(x,0)", "--activation", "relu");
        assertEquals(2, ownName.status(), ownName.err());
        assertTrue(ownName.err().contains("is the engine's own relu"), ownName.err());
    }

    @Test
    void theActivationsVerbPrintsADefinedOnesValuesAndSlopes(@TempDir Path dir) throws Exception {
        Path points = dir.resolve("points.txt");
        java.nio.file.Files.writeString(points, "-2\n0.5\n3\n");
        var r = ActivationsCommandTest.run("activations", "--define", "cube=x^3 - x", "--name", "cube", "--points",
                points.toString());
        assertEquals(0, r.status(), r.err());
        var rows = r.out().strip().lines().toList();
        assertEquals("name,x,y,dy_dx,dy_dw,dy_da,dy_db", rows.get(0));
        // y = x³ − x, dy/dx = 3x² − 1, through the engine's ops and autograd in FP64
        for (int row = 1; row <= 3; row++) {
            String[] f = rows.get(row).split(",", -1);
            double x = Double.parseDouble(f[1]);
            assertEquals("cube", f[0]);
            assertEquals(x * x * x - x, Double.parseDouble(f[2]), 1e-12, rows.get(row));
            assertEquals(3 * x * x - 1, Double.parseDouble(f[3]), 1e-12, rows.get(row));
        }
    }
}
