package dev.activa.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The search order and dependency preloading, with stand-in libraries in temporary folders. */
class NativeLibrariesTest {
    static NativeLibraries.Environment environment(Path home, Map<String, String> env, Map<String, String> properties) {
        return new NativeLibraries.Environment(properties::get, env::get, home, false);
    }

    @Test
    void dlReportsTheResolvedPathAndTheLoadersError() throws Exception {
        Dl.Library libm = Dl.open("libm.so.6");
        assertTrue(libm.path().isAbsolute() && libm.path().toString().contains("libm.so.6"), libm.path().toString());
        assertTrue(libm.find("cos").isPresent());
        assertTrue(libm.find("no_such_symbol_anywhere").isEmpty());
        var e = assertThrows(Dl.LoadFailure.class, () -> Dl.open("libactiva_missing.so.1"));
        assertTrue(e.getMessage().contains("cannot open shared object file"), e.getMessage());
    }

    @Test
    void nothingFoundListsEveryPlaceAndTheFix(@TempDir Path home) {
        var e = assertThrows(CudaUnavailableException.class,
                () -> NativeLibraries.find(NativeLibraries.CUDNN, environment(home, Map.of(), Map.of())));
        assertTrue(e.missing().contains("cuDNN was not found"), e.getMessage());
        assertTrue(e.searched().stream().anyMatch(s -> s.startsWith("system loader: libcudnn.so.9")), e.searched().toString());
        assertTrue(e.fix().contains("pip install nvidia-cudnn-cu13"), e.fix());
        assertTrue(e.getMessage().contains("ACTIVA_CUDNN_PATH"), e.getMessage());
    }

    @Test
    void explicitSettingThatDoesNotExistFailsLoudly(@TempDir Path home) {
        var env = Map.of("ACTIVA_CUBLAS_PATH", home.resolve("nowhere").toString());
        var e = assertThrows(CudaUnavailableException.class,
                () -> NativeLibraries.find(NativeLibraries.CUBLAS, environment(home, env, Map.of())));
        assertTrue(e.getMessage().contains("environment variable ACTIVA_CUBLAS_PATH="), e.getMessage());
        assertTrue(e.getMessage().contains("no such file or folder"), e.getMessage());
    }

    @Test
    void explicitFolderAndWheelFolderAreFoundWithCompanions(@TempDir Path tmp) throws Exception {
        assumeTrue(FakeLibraries.compilerAvailable(), "no C compiler to build stand-in libraries");
        // A folder named by the system property, with cuDNN's graph sub-library beside the main one.
        Path explicit = tmp.resolve("cudnn-explicit");
        FakeLibraries.build(explicit, "libcudnn.so.9", FakeLibraries.CUDNN);
        FakeLibraries.build(explicit, "libcudnn_graph.so.9", "int graph_marker(void) { return 1; }");
        var byProperty = NativeLibraries.find(NativeLibraries.CUDNN,
                environment(tmp, Map.of(), Map.of("activa.cudnn.path", explicit.toString())));
        assertEquals(explicit.resolve("libcudnn.so.9"), byProperty.path());
        assertEquals("9.6.0", byProperty.version());
        assertEquals(java.util.List.of(explicit.resolve("libcudnn_graph.so.9")), byProperty.companions());
        assertTrue(byProperty.symbols().find("cudnnConvolutionForward").isPresent());

        // The same in a pip wheel layout under ~/.local, found without any setting.
        Path wheel = tmp.resolve("home/.local/lib/python3.12/site-packages/nvidia/cudnn/lib");
        FakeLibraries.build(wheel, "libcudnn.so.9", FakeLibraries.CUDNN);
        var fromWheel = NativeLibraries.find(NativeLibraries.CUDNN, environment(tmp.resolve("home"), Map.of(), Map.of()));
        assertEquals(wheel.resolve("libcudnn.so.9"), fromWheel.path());
        assertTrue(fromWheel.searched().stream().anyMatch(s -> s.startsWith("system loader")), fromWheel.searched().toString());
    }

    @Test
    void cublasLoadsByPathBecauseLtIsPreloadedFromTheSameFolder(@TempDir Path tmp) throws Exception {
        assumeTrue(FakeLibraries.compilerAvailable(), "no C compiler to build stand-in libraries");
        Path lib = tmp.resolve("venv/lib/python3.11/site-packages/nvidia/cu13/lib");
        FakeLibraries.build(lib, "libcublasLt.so.13", "int lt_marker(void) { return 13; }", "-Wl,-soname,libcublasLt.so.13");
        // Linked against Lt by soname, without an rpath: like the real one outside LD_LIBRARY_PATH.
        FakeLibraries.build(lib, "libcublas.so.13", FakeLibraries.CUBLAS + "int lt_marker(void);\nint uses_lt(void) { return lt_marker(); }\n",
                "-L" + lib, "-l:libcublasLt.so.13");
        var direct = assertThrows(Dl.LoadFailure.class, () -> Dl.open(lib.resolve("libcublas.so.13").toString()));
        assertTrue(direct.getMessage().contains("libcublasLt.so.13"), direct.getMessage());

        var env = Map.of("VIRTUAL_ENV", tmp.resolve("venv").toString());
        var found = NativeLibraries.find(NativeLibraries.CUBLAS, environment(tmp.resolve("nohome"), env, Map.of()));
        assertEquals(lib.resolve("libcublas.so.13"), found.path());
        assertEquals("13.0.2", found.version());
        assertEquals(java.util.List.of(lib.resolve("libcublasLt.so.13")), found.companions());
    }

    @Test
    void sitePackagesCoverTheUsualPrefixes(@TempDir Path tmp) throws Exception {
        Path home = tmp.resolve("home");
        Files.createDirectories(home.resolve(".local/lib/python3.10/site-packages"));
        Files.createDirectories(home.resolve(".pyenv/versions/3.12.1/lib/python3.12/site-packages"));
        Files.createDirectories(tmp.resolve("conda/lib/python3.11/site-packages"));
        Files.createDirectories(tmp.resolve("conda/bin"));
        Path python = Files.createFile(tmp.resolve("conda/bin/python3"));
        python.toFile().setExecutable(true);
        var roots = NativeLibraries.sitePackages(environment(home, Map.of("PATH", tmp.resolve("conda/bin").toString()), Map.of()));
        assertTrue(roots.contains(home.resolve(".local/lib/python3.10/site-packages")), roots.toString());
        assertTrue(roots.contains(home.resolve(".pyenv/versions/3.12.1/lib/python3.12/site-packages")), roots.toString());
        assertTrue(roots.contains(tmp.resolve("conda/lib/python3.11/site-packages")), roots.toString());
    }
}
