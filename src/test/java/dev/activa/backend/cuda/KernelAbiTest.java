package dev.activa.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.activa.activation.Activation;
import dev.activa.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Every launch of {@link CudaKernels} (all of CudaBackend's; only the doctor's one proof launch
 * is made elsewhere) against the kernels' compiled signatures, without a GPU. A launch passes each
 * argument's bytes by pointer, so an {@code int} where the kernel takes a {@code long long}, a
 * missing argument or a misspelt name would only show on a GPU, as garbage or a failed launch.
 * Here each {@link CudaKernels} method runs against a recorder, for every dtype and activation,
 * and each launch is matched to its entry in the PTX that kernels/build.sh keeps as text (the
 * Maven build passes its path as {@code activa.kernels.ptx}).
 */
class KernelAbiTest {
    private record Launch(String name, int grid, int block, int sharedBytes, List<Object> args) {}

    private record Entry(List<String> parameterTypes, int maxThreads) {}

    /** The built kernels' entries; the calling test is skipped, saying why, where there are none. */
    private static Map<String, Entry> builtEntries() throws IOException {
        Path ptx = Path.of(System.getProperty("activa.kernels.ptx", "target/kernels/activa.ptx"));
        Assumptions.assumeTrue(Files.exists(ptx), () -> {
            String reason = "KernelAbiTest skipped: no kernel PTX at " + ptx
                    + " (kernels/build.sh writes it where nvcc is found; without nvcc the kernels were not built)";
            System.out.println(reason);
            return reason;
        });
        return entries(Files.readString(ptx));
    }

    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)([^{]*)\\{");
    private static final Pattern PARAMETER = Pattern.compile("\\.param\\s+(\\.\\w+)");
    private static final Pattern MAX_THREADS = Pattern.compile("\\.maxntid\\s+(\\d+)");

    /** Each kernel's parameter types in order (".u64", ".f32", …) and its .maxntid (1024 where it has none). */
    static Map<String, Entry> entries(String ptx) {
        var out = new LinkedHashMap<String, Entry>();
        var m = ENTRY.matcher(ptx);
        while (m.find()) {
            var types = new ArrayList<String>();
            for (String declaration : m.group(2).split(",")) {
                if (declaration.isBlank()) continue;
                var p = PARAMETER.matcher(declaration);
                if (!p.find()) throw new IllegalStateException("unreadable parameter of " + m.group(1) + ": " + declaration);
                types.add(p.group(1) + (declaration.contains("[") ? "[]" : ""));
            }
            var bound = MAX_THREADS.matcher(m.group(3));
            out.put(m.group(1), new Entry(types, bound.find() ? Integer.parseInt(bound.group(1)) : 1024));
        }
        return out;
    }

    /** The PTX parameter types that the argument's Java type (see {@link KernelModule#parameters}) fills exactly. */
    private static List<String> ptxTypesFor(Object arg) {
        return switch (arg) {
            case Long _, DevicePointer _ -> List.of(".u64", ".s64", ".b64");
            case Integer _ -> List.of(".u32", ".s32", ".b32");
            case Float _ -> List.of(".f32");
            case Double _ -> List.of(".f64");
            default -> List.of();
        };
    }

    /** One call of every launching method of {@link CudaKernels}, for every dtype, activation and variant. */
    private static List<Launch> everyLaunch() {
        var launches = new ArrayList<Launch>();
        var kernels = new CudaKernels((name, grid, block, shared, args) -> launches.add(
                new Launch(name, grid, block, shared, List.of(args))), 132);
        long a = 0x1000, b = 0x2000, c = 0x3000, d = 0x4000, n = 1000;
        float[] p = {0.3f, 1f, 1.5f};
        for (DType dt : new DType[] {DType.F32, DType.F16}) {
            kernels.add(dt, a, b, c, n);
            kernels.scale(dt, a, b, n, 0.5f);
            kernels.biasAdd(dt, a, b, c, n, 10, 10);
            kernels.channelSum(dt, a, b, 2, 10, 50);
            for (String name : Activation.NAMES) {
                Activation act = Activation.of(name);
                for (long residual : new long[] {0, d}) {
                    kernels.activationForward(act, dt, p, a, residual, b, n);
                    kernels.activationBackward(act, dt, p, a, residual, b, c, n, 0x5000);
                }
            }
            kernels.softmaxCrossEntropyForward(dt, a, b, c, d, 10, 100, 0.1f);
            kernels.softmaxCrossEntropyBackward(dt, a, b, c, 10, 100, 0.1f, 0.5f);
            kernels.globalAvgPoolForward(dt, a, b, 4, 49, 64);
            kernels.globalAvgPoolBackward(dt, a, b, 4, 49, 64);
            for (boolean channelsLast : new boolean[] {false, true}) {
                var g = new CudaKernels.PoolGeometry(6, 32, 32, 3, 2, 1, 16, 16, 3, channelsLast);
                kernels.maxPoolForward(dt, g, a, b, c);
                kernels.maxPoolBackward(dt, g, a, b, c);
            }
            kernels.transpose(dt, a, b, 4, 16, 49);
        }
        kernels.cast(DType.F32, DType.F16, a, b, n);
        kernels.cast(DType.F16, DType.F32, a, b, n);
        kernels.unscaleCheck(a, n, 0.5f, b);
        for (boolean nesterov : new boolean[] {false, true}) kernels.sgdUpdate(a, b, c, n, 0.1f, 0.9f, 5e-4f, nesterov, d);
        return launches;
    }

    @Test
    void everyLaunchMatchesItsKernelsParameters() throws IOException {
        var entries = builtEntries();
        var problems = new ArrayList<String>();
        for (Launch l : everyLaunch()) {
            Entry e = entries.get(l.name());
            if (e == null) {
                problems.add(l.name() + ": no such kernel in the PTX");
                continue;
            }
            if (e.parameterTypes().size() != l.args().size()) {
                problems.add(l.name() + ": launched with " + l.args().size() + " arguments, takes "
                        + e.parameterTypes().size() + " " + e.parameterTypes());
                continue;
            }
            for (int i = 0; i < l.args().size(); i++) {
                Object arg = l.args().get(i);
                String type = e.parameterTypes().get(i);
                if (!ptxTypesFor(arg).contains(type))
                    problems.add(l.name() + ": argument " + i + " is " + arg.getClass().getSimpleName()
                            + ", the kernel takes " + type);
            }
            if (l.grid() < 1 || l.grid() > KernelModule.MAX_GRID || l.block() < 1 || l.block() > e.maxThreads()
                    || l.sharedBytes() != 0)
                problems.add(l.name() + ": launch of " + l.grid() + " × " + l.block() + " threads, " + l.sharedBytes()
                        + " bytes of shared memory (at most " + e.maxThreads() + " threads a block; the kernels take no dynamic shared memory)");
        }
        if (!problems.isEmpty()) fail(problems.size() + " launches do not match the kernels:\n  " + String.join("\n  ", problems));
    }

    /** Kernels the Java side does not launch, each for a reason; any other unlaunched kernel is dead code or a name the Java side lost. */
    private static final Map<String, String> NOT_LAUNCHED_FROM_JAVA = Map.of();

    @Test
    void everyKernelIsLaunchedFromJava() throws IOException {
        var entries = builtEntries();
        var launched = new TreeSet<String>();
        for (Launch l : everyLaunch()) launched.add(l.name());
        var unlaunched = new TreeSet<>(entries.keySet());
        unlaunched.removeAll(launched);
        unlaunched.removeAll(NOT_LAUNCHED_FROM_JAVA.keySet());
        assertEquals(new TreeSet<String>(), unlaunched, "kernels in the PTX that no CudaKernels method launches");
        assertTrue(entries.keySet().containsAll(NOT_LAUNCHED_FROM_JAVA.keySet()), "the exceptions name existing kernels");
    }

    @Test
    void theParserReadsAPtxEntry() {
        var parsed = entries("""
                .visible .entry activa_example_f32(
                	.param .u64 activa_example_f32_param_0,
                	.param .u32 activa_example_f32_param_1,
                	.param .f32 activa_example_f32_param_2,
                	.param .align 8 .b8 activa_example_f32_param_3[16]
                )
                .maxntid 256, 1, 1
                {
                	ret;
                }
                .visible .entry activa_none()
                {
                	ret;
                }
                """);
        assertEquals(new Entry(List.of(".u64", ".u32", ".f32", ".align[]"), 256), parsed.get("activa_example_f32"));
        assertEquals(new Entry(List.of(), 1024), parsed.get("activa_none"));
    }
}
