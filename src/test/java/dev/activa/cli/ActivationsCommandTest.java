package dev.activa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ActivationsCommandTest {
    record Result(int status, String out, String err) {}

    static Result run(String... args) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void printsCsvWithParameterGradientsForNami(@TempDir Path dir) throws Exception {
        Path points = Files.writeString(dir.resolve("p.txt"), "-1.0\n# comment\n\n0.5\n");
        Result r = run("activations", "--name", "nami", "--params", "w=0.3,a=1.0,b=1.5", "--points", points.toString(),
                "--dtype", "fp64");
        assertEquals(0, r.status(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals("name,x,y,dy_dx,dy_dw,dy_da,dy_db", lines[0]);
        assertEquals(3, lines.length);
        String[] neg = lines[1].split(",");
        assertEquals(Math.sin(-0.3) / 1.5, Double.parseDouble(neg[2]), 1e-15); // a·sin(w·x)/b at x = −1
        assertEquals(1.0 * -1 * Math.cos(-0.3) / 1.5, Double.parseDouble(neg[4]), 1e-15);
    }

    @Test
    void parameterColumnsAreEmptyWithoutParameters(@TempDir Path dir) throws Exception {
        Path points = Files.writeString(dir.resolve("p.txt"), "2\n");
        Result r = run("activations", "--name", "relu", "--points", points.toString(), "--dtype", "fp32");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().strip().endsWith(",,,"), r.out());
    }

    @Test
    void missingOrMalformedPointsFileIsAClearUsageError(@TempDir Path dir) throws Exception {
        Result missing = run("activations", "--name", "mish", "--points", dir.resolve("nope.txt").toString());
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("nope.txt") && missing.err().contains("does not exist"), missing.err());
        assertFalse(missing.err().contains("Exception"), missing.err());

        Path bad = Files.writeString(dir.resolve("bad.txt"), "1.0\nabc\n");
        Result malformed = run("activations", "--name", "mish", "--points", bad.toString());
        assertEquals(2, malformed.status());
        assertTrue(malformed.err().contains("line 2") && malformed.err().contains("'abc'"), malformed.err());

        Result unknown = run("activations", "--name", "gelu", "--points", bad.toString());
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("unknown activation 'gelu'"), unknown.err());
    }
}
