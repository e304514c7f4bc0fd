package dev.activa.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Finds and loads cuDNN 9 and cuBLAS for the FFM bindings.
 *
 * <p>Search order, first hit wins: (1) the system property {@code activa.cudnn.path} /
 * {@code activa.cublas.path} or the environment variable {@code ACTIVA_CUDNN_PATH} /
 * {@code ACTIVA_CUBLAS_PATH}, naming the library file or its folder; (2) the standard sonames
 * through the system loader (LD_LIBRARY_PATH, the ld.so cache); (3) NVIDIA's Python wheels,
 * {@code site-packages/nvidia/{cudnn,cublas,cu13}/lib}, in the usual Python prefixes; (4) as a last
 * resort, the folders {@code python3} itself reports.
 *
 * <p>Loading by full path works without LD_LIBRARY_PATH because dependencies are loaded first from
 * the same folder (libcublasLt before libcublas; cuDNN's sub-libraries, which libcudnn.so.9 dlopens
 * by soname on first use and which the loader then finds among the loaded objects). The launcher
 * still puts these folders on LD_LIBRARY_PATH, which also covers what cuDNN's engines dlopen later
 * (e.g. libnvrtc for runtime-compiled kernels).
 */
public final class NativeLibraries {
    /** A loaded library. {@code version} is what the library itself reports. */
    public record Library(String name, Path path, String version, List<Path> companions, List<String> searched,
                          SymbolLookup symbols) {}

    /** Where the search reads settings from; {@link #system()} in production, fixed values in tests. */
    record Environment(UnaryOperator<String> property, UnaryOperator<String> env, Path home, boolean askPython) {
        static Environment system() {
            return new Environment(System::getProperty, System::getenv, Path.of(System.getProperty("user.home", "/root")), true);
        }
    }

    /** What to look for. {@code companions(soname)} are loaded from the same folder first, best effort. */
    record Spec(String name, String property, String envVar, List<String> sonames, List<String> wheelFolders,
                Function<String, List<String>> companions, Function<SymbolLookup, String> version, String fix) {}

    static final Spec CUDNN = new Spec("cuDNN", "activa.cudnn.path", "ACTIVA_CUDNN_PATH",
            List.of("libcudnn.so.9"),
            List.of("nvidia/cudnn/lib", "nvidia/cu13/lib"),
            // cuDNN 9 splits into sub-libraries that libcudnn.so.9 dlopens on demand; graph first (the others need it).
            soname -> List.of("libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9",
                    "libcudnn_engines_runtime_compiled.so.9", "libcudnn_heuristic.so.9", "libcudnn_ops.so.9",
                    "libcudnn_cnn.so.9"),
            NativeLibraries::cudnnVersion,
            "install cuDNN 9 for CUDA 13 (pip install nvidia-cudnn-cu13), or set ACTIVA_CUDNN_PATH "
                    + "(or -Dactiva.cudnn.path) to libcudnn.so.9 or the folder holding it");

    static final Spec CUBLAS = new Spec("cuBLAS", "activa.cublas.path", "ACTIVA_CUBLAS_PATH",
            List.of("libcublas.so.13", "libcublas.so.12"),
            List.of("nvidia/cublas/lib", "nvidia/cu13/lib"),
            // libcublas needs the libcublasLt of the same major version.
            soname -> List.of(soname.replace("libcublas.", "libcublasLt.")),
            NativeLibraries::cublasVersion,
            "install cuBLAS for CUDA 13 (pip install nvidia-cublas), or set ACTIVA_CUBLAS_PATH "
                    + "(or -Dactiva.cublas.path) to libcublas.so.13 or the folder holding it");

    private static final Map<Spec, Object> loaded = new java.util.concurrent.ConcurrentHashMap<>();

    private NativeLibraries() {}

    /** cuDNN, loaded once; throws {@link CudaUnavailableException} naming every place searched. */
    public static Library cudnn() { return cached(CUDNN); }

    /** cuBLAS, loaded once; throws {@link CudaUnavailableException} naming every place searched. */
    public static Library cublas() { return cached(CUBLAS); }

    /**
     * Every {@code site-packages/nvidia/<package>/lib} folder present: what the launcher puts on
     * LD_LIBRARY_PATH, listed by the doctor.
     */
    public static List<Path> wheelLibraryFolders() {
        var out = new ArrayList<Path>();
        for (Path root : sitePackages(Environment.system())) {
            Path nvidia = root.resolve("nvidia");
            if (!Files.isDirectory(nvidia)) continue;
            try (Stream<Path> packages = Files.list(nvidia)) {
                packages.map(p -> p.resolve("lib")).filter(Files::isDirectory).sorted().forEach(out::add);
            } catch (IOException e) {
                // unreadable folder: nothing to offer from it
            }
        }
        return out;
    }

    private static Library cached(Spec spec) {
        Object outcome = loaded.computeIfAbsent(spec, s -> {
            try {
                return find(s, Environment.system());
            } catch (CudaUnavailableException e) {
                return e;
            }
        });
        if (outcome instanceof CudaUnavailableException e) throw e;
        return (Library) outcome;
    }

    // ---------------------------------------------------------------- the search

    static Library find(Spec spec, Environment environment) {
        var searched = new ArrayList<String>();

        // 1. explicit setting: a file or a folder; if set, it must work
        String[] explicit = {
                spec.property(), environment.property().apply(spec.property()),
                spec.envVar(), environment.env().apply(spec.envVar())};
        for (int i = 0; i < explicit.length; i += 2) {
            String value = explicit[i + 1];
            if (value == null || value.isBlank()) continue;
            String origin = (i == 0 ? "property " : "environment variable ") + explicit[i] + "=" + value;
            Path path = Path.of(value.strip());
            Library library = Files.isDirectory(path)
                    ? fromFolder(spec, path, searched, origin)
                    : Files.isRegularFile(path) ? fromFile(spec, path, searched, origin) : null;
            if (library != null) return library;
            if (!Files.exists(path)) searched.add(origin + ": no such file or folder");
            throw unavailable(spec, searched, "the " + spec.name() + " named by " + origin + " could not be loaded");
        }

        // 2. the system loader, by soname
        for (String soname : spec.sonames()) {
            try {
                Dl.Library main = Dl.open(soname);
                var companions = loadCompanions(spec, soname, main.path().getParent(), searched);
                return complete(spec, main, companions, searched);
            } catch (Dl.LoadFailure e) {
                searched.add("system loader: " + e.getMessage() + " (LD_LIBRARY_PATH="
                        + nullToEmpty(environment.env().apply("LD_LIBRARY_PATH")) + ", ld.so cache)");
            }
        }

        // 3. Python wheels in the usual prefixes, 4. then wherever python3 says
        Set<Path> roots = new LinkedHashSet<>(sitePackages(environment));
        Library library = fromWheels(spec, roots, searched);
        if (library != null) return library;
        if (environment.askPython()) {
            var asked = new LinkedHashSet<>(askPython());
            asked.removeAll(roots);
            library = fromWheels(spec, asked, searched);
            if (library != null) return library;
            if (asked.isEmpty()) searched.add("python3 -c 'import site': no further site-packages folders");
        }
        throw unavailable(spec, searched, spec.name() + " was not found");
    }

    private static Library fromWheels(Spec spec, Set<Path> roots, List<String> searched) {
        if (roots.isEmpty()) return null;
        var without = new ArrayList<String>();
        for (Path root : roots) {
            boolean any = false;
            for (String sub : spec.wheelFolders()) {
                Path folder = root.resolve(sub);
                if (!Files.isDirectory(folder)) continue;
                any = true;
                Library library = fromFolder(spec, folder, searched, "wheel folder " + folder);
                if (library != null) return library;
            }
            if (!any) without.add(root.toString());
        }
        if (!without.isEmpty()) {
            searched.add("python site-packages without " + String.join(" or ", spec.wheelFolders()) + ": "
                    + String.join(", ", without));
        }
        return null;
    }

    private static Library fromFolder(Spec spec, Path folder, List<String> searched, String origin) {
        for (String soname : spec.sonames()) {
            Path file = folder.resolve(soname);
            if (Files.exists(file)) return fromFile(spec, file, searched, origin);
        }
        searched.add(origin + ": no " + String.join(" or ", spec.sonames()) + " in " + folder);
        return null;
    }

    private static Library fromFile(Spec spec, Path file, List<String> searched, String origin) {
        String soname = spec.sonames().stream().filter(s -> file.getFileName().toString().startsWith(s))
                .findFirst().orElse(spec.sonames().getFirst());
        var companions = loadCompanions(spec, soname, file.toAbsolutePath().getParent(), searched);
        try {
            return complete(spec, Dl.open(file.toAbsolutePath().toString()), companions, searched);
        } catch (Dl.LoadFailure e) {
            searched.add(origin + ": " + e.getMessage());
            return null;
        }
    }

    private static List<Path> loadCompanions(Spec spec, String soname, Path folder, List<String> searched) {
        var out = new ArrayList<Path>();
        if (folder == null) return out;
        for (String companion : spec.companions().apply(soname)) {
            Path file = folder.resolve(companion);
            if (!Files.exists(file)) continue;
            try {
                out.add(Dl.open(file.toString()).path());
            } catch (Dl.LoadFailure e) {
                searched.add("companion " + file + " did not load (" + spec.name() + " may fail later): " + e.getMessage());
            }
        }
        return out;
    }

    private static Library complete(Spec spec, Dl.Library main, List<Path> companions, List<String> searched) {
        String version;
        try {
            version = spec.version().apply(main);
        } catch (RuntimeException e) {
            version = "unknown (" + e.getMessage() + ")";
        }
        return new Library(spec.name(), main.path(), version, List.copyOf(companions), List.copyOf(searched), main);
    }

    private static CudaUnavailableException unavailable(Spec spec, List<String> searched, String what) {
        return new CudaUnavailableException(what, searched, spec.fix());
    }

    // ---------------------------------------------------------------- Python prefixes

    /** site-packages and dist-packages folders under the usual Python prefixes, without running Python. */
    static List<Path> sitePackages(Environment environment) {
        var prefixes = new LinkedHashSet<Path>();
        for (String base : List.of("/usr/lib", "/usr/local/lib", "/opt/conda/lib", "/opt/venv/lib")) prefixes.add(Path.of(base));
        Path home = environment.home();
        prefixes.add(home.resolve(".local/lib"));
        prefixes.add(home.resolve("miniconda3/lib"));
        prefixes.add(home.resolve("anaconda3/lib"));
        for (String variable : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String value = environment.env().apply(variable);
            if (value != null && !value.isBlank()) prefixes.add(Path.of(value, "lib"));
        }
        children(home.resolve(".pyenv/versions")).forEach(v -> prefixes.add(v.resolve("lib")));
        // A python3 on PATH lives in <prefix>/bin: venvs, conda, /usr/local.
        String path = environment.env().apply("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (dir.isBlank() || !Files.isExecutable(Path.of(dir, "python3"))) continue;
                Path parent = Path.of(dir).toAbsolutePath().getParent();
                if (parent != null) prefixes.add(parent.resolve("lib"));
            }
        }
        var out = new LinkedHashSet<Path>();
        String pythonPath = environment.env().apply("PYTHONPATH");
        if (pythonPath != null) {
            for (String dir : pythonPath.split(File.pathSeparator)) if (!dir.isBlank() && Files.isDirectory(Path.of(dir))) out.add(Path.of(dir));
        }
        for (Path prefix : prefixes) {
            for (Path python : children(prefix)) {
                if (!python.getFileName().toString().startsWith("python3")) continue;
                for (String kind : List.of("site-packages", "dist-packages")) {
                    Path candidate = python.resolve(kind);
                    if (Files.isDirectory(candidate)) out.add(candidate);
                }
            }
        }
        return List.copyOf(out);
    }

    /** Asks python3 for its site-packages folders; empty when there is no python3 or it takes too long. */
    static List<Path> askPython() {
        var command = List.of("python3", "-c",
                "import site,sys\nfor p in site.getsitepackages()+[site.getusersitepackages()]: print(p)");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(false)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            process.getOutputStream().close();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return List.of();
            }
            if (process.exitValue() != 0) return List.of();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return output.lines().map(String::strip).filter(s -> !s.isEmpty()).map(Path::of).filter(Files::isDirectory).toList();
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    private static List<Path> children(Path folder) {
        if (!Files.isDirectory(folder)) return List.of();
        try (Stream<Path> list = Files.list(folder)) {
            return list.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String nullToEmpty(String s) { return s == null ? "" : s; }

    // ---------------------------------------------------------------- versions (no GPU needed)

    /** cudnnGetVersion() (cudnn_graph.h): major*10000 + minor*100 + patch for cuDNN 9. */
    static String cudnnVersion(SymbolLookup library) {
        MethodHandle get = Linker.nativeLinker().downcallHandle(library.find("cudnnGetVersion").orElseThrow(
                () -> new IllegalStateException("no cudnnGetVersion symbol")), FunctionDescriptor.of(JAVA_LONG));
        try {
            long v = (long) get.invokeExact();
            return v / 10000 + "." + (v % 10000) / 100 + "." + v % 100;
        } catch (Throwable t) {
            throw new IllegalStateException("cudnnGetVersion failed", t);
        }
    }

    /** cublasGetProperty(MAJOR_VERSION / MINOR_VERSION / PATCH_LEVEL) (cublas_api.h; enum in library_types.h: 0, 1, 2). */
    static String cublasVersion(SymbolLookup library) {
        MethodHandle get = Linker.nativeLinker().downcallHandle(library.find("cublasGetProperty").orElseThrow(
                () -> new IllegalStateException("no cublasGetProperty symbol")), FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            int[] parts = new int[3];
            for (int property = 0; property < 3; property++) {
                int status = (int) get.invokeExact(property, value);
                if (status != 0) throw new IllegalStateException("cublasGetProperty returned status " + status);
                parts[property] = value.get(JAVA_INT, 0);
            }
            return parts[0] + "." + parts[1] + "." + parts[2];
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cublasGetProperty failed", t);
        }
    }
}
