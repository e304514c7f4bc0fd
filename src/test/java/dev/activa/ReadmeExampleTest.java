package dev.activa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.data.FashionMnist;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Compiles and runs, unchanged, the Java examples that the README shows. */
class ReadmeExampleTest {
    @Test
    void theEmbeddingExampleCompilesAndTrains(@TempDir Path dir) throws Exception {
        compileAndRun("embedding-example", "Example", dir);
    }

    @Test
    void theCustomActivationExampleCompilesAndTrains(@TempDir Path dir) throws Exception {
        compileAndRun("custom-activation-example", "CustomActivation", dir);
    }

    private void compileAndRun(String marker, String className, Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "Fashion-MNIST is not installed");
        String readme = Files.readString(Path.of("README.md"));
        int at = readme.indexOf("<!-- " + marker + " -->");
        assertTrue(at >= 0, "README has the " + marker);
        int start = readme.indexOf("```java\n", at) + "```java\n".length();
        String code = readme.substring(start, readme.indexOf("```", start));
        assertTrue(code.lines().count() < 25, "the " + marker + " stays under 25 lines");
        Path src = dir.resolve(className + ".java");
        Files.writeString(src, code);
        var compiler = ToolProvider.getSystemJavaCompiler();
        int status = compiler.run(null, null, null, "--add-modules", "jdk.incubator.vector", "-proc:none",
                "-cp", System.getProperty("java.class.path"), "-d", dir.toString(), src.toString());
        assertEquals(0, status, "the README's " + marker + " compiles");
        try (var loader = new URLClassLoader(new java.net.URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            var main = loader.loadClass(className).getMethod("main", String[].class);
            main.invoke(null, (Object) new String[0]);
        }
        assertTrue(List.of(dir.toFile().list()).contains(className + ".class"));
    }
}
