package dev.activa.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Activa's own kernels: the fatbin built by {@code kernels/build.sh}, loaded into the current
 * context, with functions looked up once by their extern "C" name.
 *
 * <p>Kernel arguments are passed by value in the order of the C signature: {@code Long} for
 * device pointers ({@code T*}) and {@code long long}, {@code Integer} for {@code int},
 * {@code Float} for {@code float}, {@code Double} for {@code double}, or a {@link DevicePointer}.
 */
public final class KernelModule implements AutoCloseable {
    /** Where the Maven build puts the fatbin on the class path. */
    public static final String RESOURCE = "/kernels/activa.fatbin";
    /** Threads per block for elementwise kernels; they use grid-stride loops, so any grid is correct. */
    public static final int BLOCK = 256;
    /** More blocks than a few waves buys nothing; 65535 is also valid for every grid dimension. */
    public static final int MAX_GRID = 65_535;

    private final CudaDriver driver;
    private final CUmodule module;
    private final Map<String, CUfunction> functions = new ConcurrentHashMap<>();
    private boolean closed;

    private KernelModule(CudaDriver driver, CUmodule module) {
        this.driver = driver;
        this.module = module;
    }

    /** True when the build packaged the fatbin (nvcc was found at build time). */
    public static boolean resourcePresent() {
        return KernelModule.class.getResource(RESOURCE) != null;
    }

    /** The fatbin bytes from the class path. */
    public static byte[] readFatbin() {
        try (InputStream in = KernelModule.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new CudaUnavailableException(
                        "kernels were not built: " + RESOURCE + " is not on the class path (nvcc was not found at build time)",
                        List.of("class path resource " + RESOURCE),
                        "rebuild with CUDA's nvcc on PATH (kernels/build.sh runs during the Maven build)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE, e);
        }
    }

    /** Loads the packaged fatbin into {@code driver}'s context. */
    public static KernelModule load(CudaDriver driver) {
        return load(driver, readFatbin());
    }

    /** Loads a cubin, fatbin or NUL-terminated PTX image into {@code driver}'s context. */
    public static KernelModule load(CudaDriver driver, byte[] image) {
        driver.makeCurrent();
        var module = new CUmodule();
        try {
            CudaDriver.check("cuModuleLoadData", () -> JCudaDriver.cuModuleLoadData(module, image));
        } catch (NativeCallException e) {
            throw loadFailure(driver.device(), e);
        }
        return new KernelModule(driver, module);
    }

    /** The function named {@code name}, looked up once. */
    public CUfunction function(String name) {
        return functions.computeIfAbsent(name, this::lookup);
    }

    /** Whether the module exports {@code name}. */
    public boolean has(String name) {
        try {
            function(name);
            return true;
        } catch (CudaUnavailableException e) {
            return false;
        }
    }

    /** Blocks for an n-element grid-stride kernel handling {@code perThread} elements per thread per step. */
    public static int gridFor(long n, int block, int perThread) {
        long blocks = (n + (long) block * perThread - 1) / ((long) block * perThread);
        return (int) Math.max(1, Math.min(MAX_GRID, blocks));
    }

    /** A 1-D launch on the driver's stream. */
    public void launch(String name, int grid, int block, int sharedBytes, Object... args) {
        launch(name, grid, 1, 1, block, 1, 1, sharedBytes, args);
    }

    public void launch(String name, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                       int sharedBytes, Object... args) {
        CUfunction function = function(name);
        Pointer params = parameters(args);
        CudaDriver.check("cuLaunchKernel(" + name + ")", () -> JCudaDriver.cuLaunchKernel(function,
                gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, driver.stream(), params, null));
    }

    /** The {@code void**} kernelParams array: one pointer per argument, each to the argument's value. */
    static Pointer parameters(Object... args) {
        var slots = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            slots[i] = switch (args[i]) {
                case Long v -> Pointer.to(new long[] {v});
                case Integer v -> Pointer.to(new int[] {v});
                case Float v -> Pointer.to(new float[] {v});
                case Double v -> Pointer.to(new double[] {v});
                case DevicePointer p -> Pointer.to(new long[] {p.address()});
                case null -> throw new IllegalArgumentException("kernel argument " + i + " is null");
                default -> throw new IllegalArgumentException("kernel argument " + i + " has unsupported type "
                        + args[i].getClass().getName() + "; use Long, Integer, Float, Double or DevicePointer");
            };
        }
        return Pointer.to(slots);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        functions.clear();
        CudaDriver.check("cuModuleUnload", () -> JCudaDriver.cuModuleUnload(module));
    }

    private CUfunction lookup(String name) {
        var function = new CUfunction();
        try {
            CudaDriver.check("cuModuleGetFunction", () -> JCudaDriver.cuModuleGetFunction(function, module, name));
        } catch (NativeCallException e) {
            if (e.status() == CUresult.CUDA_ERROR_NOT_FOUND) {
                throw new CudaUnavailableException(
                        "kernel " + name + " is not in the fatbin", List.of(RESOURCE),
                        "the fatbin is older than this code or the kernel name is misspelled; rebuild the kernels (kernels/build.sh)", e);
            }
            throw e;
        }
        return function;
    }

    private static RuntimeException loadFailure(CudaDriver.DeviceInfo device, NativeCallException e) {
        String sm = "sm_" + device.major() + device.minor();
        String what = switch (e.status()) {
            case CUresult.CUDA_ERROR_NO_BINARY_FOR_GPU ->
                    "the kernel fatbin has no image for this GPU (" + device.name() + ", compute capability "
                            + device.computeCapability() + ")";
            case CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION ->
                    "the kernel fatbin's PTX is newer than this driver can compile (" + e.statusName() + ")";
            case CUresult.CUDA_ERROR_INVALID_IMAGE, CUresult.CUDA_ERROR_INVALID_PTX ->
                    "the kernel fatbin is not a valid CUDA image (" + e.statusName() + ")";
            default -> null;
        };
        if (what == null) return e;
        return new CudaUnavailableException(what, List.of(RESOURCE),
                "rebuild the kernels with -gencode arch=compute_" + device.major() + device.minor() + ",code=" + sm
                        + " (kernels/build.sh) using an nvcc no newer than the driver's CUDA version", e);
    }
}
