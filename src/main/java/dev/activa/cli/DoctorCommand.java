package dev.activa.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.activa.activation.Activation;
import dev.activa.backend.cuda.ConvAlgorithmCache;
import dev.activa.backend.cuda.Cublas;
import dev.activa.backend.cuda.CudaDriver;
import dev.activa.backend.cuda.CudaUnavailableException;
import dev.activa.backend.cuda.Cudnn;
import dev.activa.backend.cuda.CudnnDescriptor.Convolution;
import dev.activa.backend.cuda.CudnnDescriptor.ConvolutionShape;
import dev.activa.backend.cuda.CudnnDescriptor.Filter;
import dev.activa.backend.cuda.CudnnDescriptor.Tensor;
import dev.activa.backend.cuda.CudnnTypes.DataType;
import dev.activa.backend.cuda.CudnnTypes.MathType;
import dev.activa.backend.cuda.CudnnTypes.TensorFormat;
import dev.activa.backend.cuda.KernelModule;
import dev.activa.backend.cuda.NativeLibraries;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * {@code activa doctor}: is this machine ready to train on a GPU? Checks the JVM, the NVIDIA driver,
 * the GPUs, Activa's kernels, cuDNN and cuBLAS, then proves each GPU path with a tiny computation
 * checked against a CPU reference. Every line says "ok" or what is missing and how to fix it. Exit
 * status 0 only when everything works, 1 otherwise, 2 for a usage error.
 */
public final class DoctorCommand {
    static final String USAGE = """
            usage: activa doctor [--json]

            Checks that this machine can train on a GPU: JVM, NVIDIA driver (libcuda.so.1), GPUs,
            Activa's CUDA kernels, cuDNN 9 and cuBLAS, then runs one activation kernel, one cuDNN
            convolution and one cuBLAS GEMM against CPU references.

              --json   print the same report as JSON
              --help   print this help

            Exit status: 0 when everything works, 1 when something is missing, 2 for a usage error.
            """;

    /** One line of the report. {@code status} is "ok", "fail" or "skip" (could not run: something before it failed). */
    public record Check(String id, String title, String status, String message, String fix, List<String> searched,
                        Map<String, Object> data) {}

    /** The whole report, as printed and as serialized by --json. */
    public record Report(boolean ok, int exitCode, String summary, List<Check> checks) {}

    private static final String OK = "ok", FAIL = "fail", SKIP = "skip";
    private static final String MISH_KERNEL = "activa_act_fwd_mish_f32";

    private final List<Check> checks = new ArrayList<>();
    private boolean driverOk, kernelsOk, cudnnOk, cublasOk;
    private int gpuCount;
    private CudaDriver gpu;

    private DoctorCommand() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        boolean json = false;
        for (String arg : args) {
            switch (arg) {
                case "--json" -> json = true;
                case "--help", "-h" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> {
                    err.println("activa doctor: unknown option '" + arg + "'");
                    err.print(USAGE);
                    return 2;
                }
            }
        }
        Report report = new DoctorCommand().examine();
        if (json) printJson(report, out);
        else printText(report, out);
        return report.exitCode();
    }

    // ---------------------------------------------------------------- the checks, in order

    private Report examine() {
        try {
            checkJvm();
            checkDriver();
            checkGpus();
            checkKernels();
            checkCudnn();
            checkCublas();
            proveActivation();
            proveConvolution();
            proveGemm();
        } finally {
            if (gpu != null) {
                try {
                    gpu.close();
                } catch (RuntimeException ignored) {
                    // the report matters more than a failed release at exit
                }
            }
        }
        boolean ok = checks.stream().allMatch(c -> c.status().equals(OK));
        long failed = checks.stream().filter(c -> c.status().equals(FAIL)).count();
        String summary;
        if (ok) summary = "Ready: every check passed.";
        else if (!driverOk) summary = "No GPU: the NVIDIA driver (libcuda.so.1) was not found or did not start, so nothing can run on a GPU here.";
        else summary = "Not ready: " + failed + " check" + (failed == 1 ? "" : "s") + " failed.";
        return new Report(ok, ok ? 0 : 1, summary, List.copyOf(checks));
    }

    private void checkJvm() {
        Runtime.Version version = Runtime.version();
        boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        boolean nativeAccess = DoctorCommand.class.getModule().isNativeAccessEnabled();
        var data = data("vm", System.getProperty("java.vm.name"), "version", version.toString(),
                "vendor", System.getProperty("java.vendor"), "home", System.getProperty("java.home"),
                "vectorModule", vector, "nativeAccess", nativeAccess);
        String message = System.getProperty("java.vm.name") + " " + version + " (" + System.getProperty("java.vendor") + ")"
                + "; jdk.incubator.vector " + (vector ? "present" : "MISSING")
                + "; native access " + (nativeAccess ? "enabled" : "NOT enabled");
        boolean ok = version.feature() >= 25 && vector && nativeAccess;
        add("jvm", "JVM", ok ? OK : FAIL, message,
                ok ? null : "run Java 25+ with --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED (bin/activa does this)",
                List.of(), data);
    }

    private void checkDriver() {
        try {
            var path = CudaDriver.initialize();
            int version = CudaDriver.driverVersion();
            driverOk = true;
            add("driver", "CUDA driver", OK, "libcuda.so.1 at " + path + ", CUDA " + CudaDriver.formatVersion(version)
                    + " driver API, JCuda binding loaded", null, List.of(),
                    data("libcuda", path.toString(), "cudaVersion", CudaDriver.formatVersion(version)));
        } catch (CudaUnavailableException e) {
            add("driver", "CUDA driver", FAIL, e.missing(), e.fix(), e.searched(), data());
        }
    }

    private void checkGpus() {
        if (!driverOk) {
            skip("gpus", "GPUs", "needs the CUDA driver");
            return;
        }
        attempt("gpus", "GPUs", () -> {
            var devices = CudaDriver.devices();
            gpuCount = devices.size();
            if (devices.isEmpty()) {
                return fail("gpus", "GPUs", "the driver sees no GPU", "check nvidia-smi and CUDA_VISIBLE_DEVICES");
            }
            var lines = new ArrayList<String>();
            var list = new ArrayList<Map<String, Object>>();
            for (var d : devices) {
                lines.add("#" + d.ordinal() + " " + d.name() + ", compute capability " + d.computeCapability() + ", "
                        + gib(d.totalMemoryBytes()) + ", " + d.multiprocessors() + " SMs");
                list.add(data("ordinal", d.ordinal(), "name", d.name(), "computeCapability", d.computeCapability(),
                        "memoryBytes", d.totalMemoryBytes(), "multiprocessors", d.multiprocessors()));
            }
            return new Check("gpus", "GPUs", OK, String.join("; ", lines), null, List.of(), data("devices", list));
        });
    }

    private void checkKernels() {
        if (!KernelModule.resourcePresent()) {
            try {
                KernelModule.readFatbin();
            } catch (CudaUnavailableException e) {
                add("kernels", "Kernels", FAIL, e.missing(), e.fix(), e.searched(), data());
            }
            return;
        }
        if (gpuCount == 0) {
            skip("kernels", "Kernels", KernelModule.RESOURCE + " is packaged; loading it needs a GPU");
            return;
        }
        attempt("kernels", "Kernels", () -> {
            int bytes = KernelModule.readFatbin().length;
            try (var module = KernelModule.load(gpu())) {
                module.function(MISH_KERNEL);
                kernelsOk = true;
                var device = gpu().device();
                return new Check("kernels", "Kernels", OK, KernelModule.RESOURCE + " (" + bytes + " bytes) loads on "
                        + device.name() + " (sm_" + device.major() + device.minor() + ")", null, List.of(),
                        data("resource", KernelModule.RESOURCE, "bytes", bytes));
            }
        });
    }

    private void checkCudnn() {
        checkLibrary("cudnn", "cuDNN", NativeLibraries::cudnn);
        cudnnOk = lastOk();
    }

    private void checkCublas() {
        checkLibrary("cublas", "cuBLAS", NativeLibraries::cublas);
        cublasOk = lastOk();
    }

    private void checkLibrary(String id, String title, Supplier<NativeLibraries.Library> find) {
        try {
            var library = find.get();
            add(id, title, OK, title + " " + library.version() + " at " + library.path(), null, library.searched(),
                    data("path", library.path().toString(), "version", library.version(),
                            "preloaded", library.companions().stream().map(Object::toString).toList()));
        } catch (CudaUnavailableException e) {
            add(id, title, FAIL, e.missing(), e.fix(), e.searched(), data());
        }
    }

    /** Mish through the kernel on 1000 points in [-8, 8] against {@link Activation#value}. */
    private void proveActivation() {
        String id = "proof-activation", title = "Kernel proof";
        if (!kernelsOk) {
            skip(id, title, "needs a GPU and the kernels");
            return;
        }
        attempt(id, title, () -> {
            CudaDriver d = gpu();
            int n = 1000;
            float[] x = new float[n], y = new float[n];
            for (int i = 0; i < n; i++) x[i] = -8f + 16f * i / (n - 1);
            long dx = d.malloc(4L * n), dy = d.malloc(4L * n);
            try (var module = KernelModule.load(d)) {
                d.upload(dx, x);
                module.launch(MISH_KERNEL, KernelModule.gridFor(n, KernelModule.BLOCK, 1), KernelModule.BLOCK, 0,
                        dx, dy, (long) n, 0f, 0f, 0f);
                d.download(dy, y);
            } finally {
                d.free(dx);
                d.free(dy);
            }
            Activation mish = Activation.of("mish");
            double worst = 0;
            for (int i = 0; i < n; i++) {
                double reference = mish.value(x[i], new double[0]);
                worst = Math.max(worst, Math.abs(y[i] - reference) / Math.max(1, Math.abs(reference)));
            }
            return verdict(id, title, MISH_KERNEL + " on " + n + " points in [-8, 8] vs Activation.value", worst, 1e-4);
        });
    }

    /** A 2×3×6×6 FP32 NCHW convolution with a 4×3×3×3 filter (pad 1) against a direct loop. */
    private void proveConvolution() {
        String id = "proof-conv", title = "cuDNN proof";
        if (!cudnnOk || gpuCount == 0) {
            skip(id, title, "needs a GPU and cuDNN");
            return;
        }
        attempt(id, title, () -> {
            CudaDriver d = gpu();
            int n = 2, c = 3, h = 6, w = 6, k = 4, r = 3, pad = 1;
            var random = new Random(11);
            float[] x = new float[n * c * h * w], f = new float[k * c * r * r];
            for (int i = 0; i < x.length; i++) x[i] = random.nextFloat() * 2 - 1;
            for (int i = 0; i < f.length; i++) f[i] = random.nextFloat() * 2 - 1;
            float[] expected = convolve(x, f, n, c, h, w, k, r, pad);
            float[] y = new float[expected.length];
            long dx = d.malloc(4L * x.length), df = d.malloc(4L * f.length), dy = d.malloc(4L * y.length);
            String algorithm;
            try (Cudnn cudnn = Cudnn.create(d);
                 Tensor xDesc = Tensor.of(TensorFormat.NCHW, DataType.FLOAT, n, c, h, w);
                 Filter fDesc = Filter.of(TensorFormat.NCHW, DataType.FLOAT, k, c, r, r);
                 Convolution conv = Convolution.of(ConvolutionShape.of(pad, 1, MathType.FMA_MATH));
                 Tensor yDesc = Tensor.of(conv.outputShape(xDesc, fDesc))) {
                if (yDesc.shape().elements() != expected.length) {
                    return fail(id, title, "cuDNN computed an output shape of " + yDesc.shape() + ", expected " + n + "×" + k + "×" + h + "×" + w,
                            "check the cuDNN installation");
                }
                var choice = cudnn.algorithms(ConvAlgorithmCache.Direction.FORWARD, xDesc, fDesc, conv, yDesc,
                        ConvAlgorithmCache.Mode.HEURISTIC).getFirst();
                algorithm = choice.algorithmName();
                d.upload(dx, x);
                d.upload(df, f);
                long workspace = choice.workspaceBytes() > 0 ? d.malloc(choice.workspaceBytes()) : 0;
                try {
                    cudnn.convolutionForward(1f, xDesc, dx, fDesc, df, conv, choice, workspace, choice.workspaceBytes(),
                            0f, yDesc, dy);
                    d.download(dy, y);
                } finally {
                    if (workspace != 0) d.free(workspace);
                }
            } finally {
                d.free(dx);
                d.free(df);
                d.free(dy);
            }
            return verdict(id, title, "2×3×6×6 ⊛ 4×3×3×3 FP32 NCHW convolution (" + algorithm + ") vs a direct loop",
                    relativeError(y, expected), 5e-3);
        });
    }

    /** A 64×80 · 80×48 row-major SGEMM against a triple loop. */
    private void proveGemm() {
        String id = "proof-gemm", title = "cuBLAS proof";
        if (!cublasOk || gpuCount == 0) {
            skip(id, title, "needs a GPU and cuBLAS");
            return;
        }
        attempt(id, title, () -> {
            CudaDriver d = gpu();
            int m = 64, k = 80, n = 48;
            var random = new Random(5);
            float[] a = new float[m * k], b = new float[k * n], c = new float[m * n], expected = new float[m * n];
            for (int i = 0; i < a.length; i++) a[i] = random.nextFloat() * 2 - 1;
            for (int i = 0; i < b.length; i++) b[i] = random.nextFloat() * 2 - 1;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += (double) a[i * k + p] * b[p * n + j];
                    expected[i * n + j] = (float) s;
                }
            }
            long da = d.malloc(4L * a.length), db = d.malloc(4L * b.length), dc = d.malloc(4L * c.length);
            try (Cublas cublas = Cublas.create(d)) {
                d.upload(da, a);
                d.upload(db, b);
                cublas.gemmRowMajor(Cublas.Operation.N, Cublas.Operation.N, m, n, k, 1f, da, k, db, n, 0f, dc, n);
                d.download(dc, c);
            } finally {
                d.free(da);
                d.free(db);
                d.free(dc);
            }
            return verdict(id, title, "64×80 · 80×48 row-major SGEMM vs a triple loop", relativeError(c, expected), 1e-4);
        });
    }

    // ---------------------------------------------------------------- helpers

    /** Direct cross-correlation, stride 1, zero padding: y[n][k][i][j] = Σ x[n][c][i+r−pad][j+s−pad]·w[k][c][r][s]. */
    static float[] convolve(float[] x, float[] w, int n, int c, int h, int wd, int k, int r, int pad) {
        float[] y = new float[n * k * h * wd];
        for (int b = 0; b < n; b++)
            for (int o = 0; o < k; o++)
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < wd; j++) {
                        double s = 0;
                        for (int ch = 0; ch < c; ch++)
                            for (int p = 0; p < r; p++)
                                for (int q = 0; q < r; q++) {
                                    int yi = i + p - pad, xj = j + q - pad;
                                    if (yi < 0 || yi >= h || xj < 0 || xj >= wd) continue;
                                    s += (double) x[((b * c + ch) * h + yi) * wd + xj] * w[((o * c + ch) * r + p) * r + q];
                                }
                        y[((b * k + o) * h + i) * wd + j] = (float) s;
                    }
        return y;
    }

    /** max |got − expected| / max(1, max |expected|). */
    static double relativeError(float[] got, float[] expected) {
        double worst = 0, scale = 1;
        for (int i = 0; i < got.length; i++) {
            worst = Math.max(worst, Math.abs(got[i] - expected[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        return worst / scale;
    }

    private Check verdict(String id, String title, String what, double error, double tolerance) {
        String numbers = String.format(Locale.ROOT, "relative error %.2e (tolerance %.0e)", error, tolerance);
        boolean ok = error <= tolerance;
        return new Check(id, title, ok ? OK : FAIL, what + ": " + numbers, ok ? null
                : "the GPU result disagrees with the CPU reference; rerun, then report it with this output",
                List.of(), data("error", error, "tolerance", tolerance));
    }

    private CudaDriver gpu() {
        if (gpu == null) gpu = CudaDriver.open(0);
        return gpu;
    }

    /** Runs a check; anything unexpected becomes a failed line, never a stack trace. */
    private void attempt(String id, String title, Supplier<Check> check) {
        try {
            checks.add(check.get());
        } catch (CudaUnavailableException e) {
            add(id, title, FAIL, e.missing(), e.fix(), e.searched(), data());
        } catch (RuntimeException | LinkageError e) {
            add(id, title, FAIL, e.getClass().getSimpleName() + ": " + e.getMessage(),
                    "see the message; rerun with the same setup and report it if it persists", List.of(), data());
        }
    }

    private static Check fail(String id, String title, String message, String fix) {
        return new Check(id, title, FAIL, message, fix, List.of(), Map.of());
    }

    private void skip(String id, String title, String why) {
        add(id, title, SKIP, "not run: " + why, null, List.of(), data());
    }

    private void add(String id, String title, String status, String message, String fix, List<String> searched,
                     Map<String, Object> data) {
        checks.add(new Check(id, title, status, message, fix, List.copyOf(searched), data));
    }

    private boolean lastOk() {
        return checks.getLast().status().equals(OK);
    }

    private static Map<String, Object> data(Object... keysAndValues) {
        var map = new LinkedHashMap<String, Object>();
        for (int i = 0; i < keysAndValues.length; i += 2) map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        return map;
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }

    // ---------------------------------------------------------------- output

    private static void printText(Report report, PrintStream out) {
        out.println("Activa doctor");
        int width = report.checks().stream().mapToInt(c -> c.title().length()).max().orElse(10);
        String indent = " ".repeat(8 + width + 2);
        for (Check c : report.checks()) {
            String mark = switch (c.status()) {
                case OK -> "ok  ";
                case FAIL -> "FAIL";
                default -> "skip";
            };
            out.printf("  %s  %-" + width + "s  %s%n", mark, c.title(), c.message());
            if (!c.status().equals(OK)) {
                if (!c.searched().isEmpty()) {
                    out.println(indent + "searched: " + String.join("\n" + indent + "          ", c.searched()));
                }
                if (c.fix() != null) out.println(indent + "fix: " + c.fix());
            }
        }
        out.println(report.summary());
    }

    private static void printJson(Report report, PrintStream out) {
        try {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
