package dev.activa.backend.cuda;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUevent;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * The CUDA driver API through JCuda: one device, its primary context and one stream.
 *
 * <p>Nothing native is touched until {@link #initialize()} (directly or through another static
 * method) runs. It first loads {@code libcuda.so.1} itself, so a machine without the NVIDIA driver
 * gets a {@link CudaUnavailableException} that says so instead of JCuda's nested
 * UnsatisfiedLinkError (which would also poison the JCudaDriver class for good).
 *
 * <p>The primary context is the one the CUDA runtime uses too, so cuDNN and cuBLAS (which run on the
 * runtime) share it. A context is current per thread: a thread other than the one that called
 * {@link #open} must call {@link #makeCurrent()} first. All work is queued on {@link #stream()}, a
 * non-blocking stream, so the legacy default stream never serializes us.
 */
public final class CudaDriver implements AutoCloseable {
    public record DeviceInfo(int ordinal, String name, int major, int minor, long totalMemoryBytes, int multiprocessors) {
        public String computeCapability() { return major + "." + minor; }
    }

    public record MemInfo(long freeBytes, long totalBytes) {}

    /** Where {@code libcuda.so.1} lives when the system loader does not know (containers, WSL, compat). */
    static final List<String> LIBCUDA_FALLBACKS = List.of(
            "/usr/lib/x86_64-linux-gnu/libcuda.so.1",
            "/usr/lib64/libcuda.so.1",
            "/usr/lib/aarch64-linux-gnu/libcuda.so.1",
            "/usr/local/nvidia/lib64/libcuda.so.1",
            "/usr/local/cuda/compat/libcuda.so.1",
            "/usr/lib/wsl/lib/libcuda.so.1");

    private static final int CU_STREAM_NON_BLOCKING = 0x1; // cuda.h, CUstream_flags
    private static final int CUDA_ERROR_STUB_LIBRARY = 34, CUDA_ERROR_SYSTEM_DRIVER_MISMATCH = 803; // cuda.h, CUresult
    private static final long COPY_CHUNK = 1L << 30;       // ByteBuffer views stop at 2 GiB

    private static Path libcuda;                      // set once initialize() succeeded
    private static CudaUnavailableException failure;  // set once it failed: the answer does not change

    private final DeviceInfo device;
    private final CUdevice cuDevice;
    private final CUcontext context = new CUcontext();
    private final CudaStream stream = new CudaStream();
    private boolean closed;

    private CudaDriver(DeviceInfo device, CUdevice cuDevice) {
        this.device = device;
        this.cuDevice = cuDevice;
    }

    // ---------------------------------------------------------------- process-wide

    /**
     * Loads libcuda.so.1 and JCuda's native binding and calls cuInit; idempotent.
     *
     * @return the path of the libcuda.so.1 that was loaded
     * @throws CudaUnavailableException when the driver, the binding or a GPU is missing
     */
    public static synchronized Path initialize() {
        if (libcuda != null) return libcuda;
        if (failure != null) throw failure;
        try {
            Path path = loadLibcuda();
            loadJCuda();
            int rc;
            try {
                rc = JCudaDriver.cuInit(0);
            } catch (jcuda.CudaException e) {
                rc = statusCode(e.getMessage());
            }
            if (rc != CUresult.CUDA_SUCCESS) throw initFailure(rc, path);
            libcuda = path;
            return path;
        } catch (CudaUnavailableException e) {
            failure = e;
            throw e;
        }
    }

    /** True when {@link #initialize()} succeeds; never throws. */
    public static boolean isAvailable() {
        try {
            initialize();
            return true;
        } catch (CudaUnavailableException e) {
            return false;
        }
    }

    /** The driver's CUDA version as cuDriverGetVersion reports it, e.g. 13000 for 13.0. */
    public static int driverVersion() {
        initialize();
        int[] version = new int[1];
        check("cuDriverGetVersion", () -> JCudaDriver.cuDriverGetVersion(version));
        return version[0];
    }

    /** "13.0" for 13000. */
    public static String formatVersion(int cudaVersion) {
        return cudaVersion / 1000 + "." + (cudaVersion % 1000) / 10;
    }

    public static int deviceCount() {
        initialize();
        int[] count = new int[1];
        check("cuDeviceGetCount", () -> JCudaDriver.cuDeviceGetCount(count));
        return count[0];
    }

    public static List<DeviceInfo> devices() {
        int count = deviceCount();
        var out = new ArrayList<DeviceInfo>(count);
        for (int i = 0; i < count; i++) out.add(describe(i, device(i)));
        return out;
    }

    /** Retains device {@code ordinal}'s primary context, makes it current and creates a stream. */
    public static CudaDriver open(int ordinal) {
        initialize();
        int count = deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new CudaUnavailableException(
                    "GPU " + ordinal + " does not exist: the driver sees " + count + " GPU(s)", List.of(),
                    "pick an ordinal below " + count + "; check CUDA_VISIBLE_DEVICES and nvidia-smi");
        }
        CUdevice cuDevice = device(ordinal);
        var driver = new CudaDriver(describe(ordinal, cuDevice), cuDevice);
        check("cuDevicePrimaryCtxRetain", () -> JCudaDriver.cuDevicePrimaryCtxRetain(driver.context, cuDevice));
        driver.makeCurrent();
        check("cuStreamCreate", () -> JCudaDriver.cuStreamCreate(driver.stream, CU_STREAM_NON_BLOCKING));
        return driver;
    }

    // ---------------------------------------------------------------- per device

    public DeviceInfo device() { return device; }

    public CudaStream stream() { return stream; }

    /** The stream as a raw {@code cudaStream_t}, for cuDNN and cuBLAS. */
    public long streamAddress() { return stream.address(); }

    /** Binds this device's context to the calling thread. */
    public void makeCurrent() {
        check("cuCtxSetCurrent", () -> JCudaDriver.cuCtxSetCurrent(context));
    }

    /** cuMemAlloc; an out-of-memory status becomes {@link DeviceOutOfMemoryException}. */
    public long malloc(long bytes) {
        var pointer = new DevicePointer();
        try {
            check("cuMemAlloc", () -> JCudaDriver.cuMemAlloc(pointer, bytes));
        } catch (NativeCallException e) {
            if (e.status() == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
                throw new DeviceOutOfMemoryException(bytes, "cuMemAlloc of " + bytes + " bytes: out of memory");
            }
            throw e;
        }
        return pointer.address();
    }

    public void free(long address) {
        check("cuMemFree", () -> JCudaDriver.cuMemFree(DevicePointer.of(address)));
    }

    /** Free and total device memory (cuMemGetInfo). */
    public MemInfo memInfo() {
        long[] free = new long[1], total = new long[1];
        check("cuMemGetInfo", () -> JCudaDriver.cuMemGetInfo(free, total));
        return new MemInfo(free[0], total[0]);
    }

    /** This device's memory, uncached, as the caching allocator wants it. */
    public RawDeviceMemory rawMemory() {
        return new RawDeviceMemory() {
            public long malloc(long bytes) { return CudaDriver.this.malloc(bytes); }
            public void free(long address) { CudaDriver.this.free(address); }
            public long freeBytes() { return memInfo().freeBytes(); }
        };
    }

    /**
     * Queues a copy from native host memory to the device. Asynchronous: {@code src} must stay
     * alive and unchanged until the stream has been synchronized.
     */
    public void copyHostToDevice(long dst, MemorySegment src, long bytes) {
        requireNative(src, bytes);
        for (long off = 0; off < bytes; off += COPY_CHUNK) {
            long n = Math.min(COPY_CHUNK, bytes - off);
            var host = Pointer.to(src.asSlice(off, n).asByteBuffer());
            long at = dst + off;
            check("cuMemcpyHtoDAsync", () -> JCudaDriver.cuMemcpyHtoDAsync(DevicePointer.of(at), host, n, stream));
        }
    }

    /** Queues a copy from the device to native host memory; read {@code dst} after synchronizing. */
    public void copyDeviceToHost(MemorySegment dst, long src, long bytes) {
        requireNative(dst, bytes);
        for (long off = 0; off < bytes; off += COPY_CHUNK) {
            long n = Math.min(COPY_CHUNK, bytes - off);
            var host = Pointer.to(dst.asSlice(off, n).asByteBuffer());
            long at = src + off;
            check("cuMemcpyDtoHAsync", () -> JCudaDriver.cuMemcpyDtoHAsync(host, DevicePointer.of(at), n, stream));
        }
    }

    public void copyDeviceToDevice(long dst, long src, long bytes) {
        check("cuMemcpyDtoDAsync",
                () -> JCudaDriver.cuMemcpyDtoDAsync(DevicePointer.of(dst), DevicePointer.of(src), bytes, stream));
    }

    /** Copies a Java array to the device and waits: simple, for tests, the doctor and small tensors. */
    public void upload(long dst, float[] src) {
        check("cuMemcpyHtoDAsync",
                () -> JCudaDriver.cuMemcpyHtoDAsync(DevicePointer.of(dst), Pointer.to(src), 4L * src.length, stream));
        synchronize();
    }

    /** Waits for the stream, then copies device memory into a Java array. */
    public void download(long src, float[] dst) {
        check("cuMemcpyDtoHAsync",
                () -> JCudaDriver.cuMemcpyDtoHAsync(Pointer.to(dst), DevicePointer.of(src), 4L * dst.length, stream));
        synchronize();
    }

    /** Short (FP16 bit patterns) variants of {@link #upload(long, float[])} and {@link #download(long, float[])}. */
    public void upload(long dst, short[] src) {
        check("cuMemcpyHtoDAsync",
                () -> JCudaDriver.cuMemcpyHtoDAsync(DevicePointer.of(dst), Pointer.to(src), 2L * src.length, stream));
        synchronize();
    }

    public void download(long src, short[] dst) {
        check("cuMemcpyDtoHAsync",
                () -> JCudaDriver.cuMemcpyDtoHAsync(Pointer.to(dst), DevicePointer.of(src), 2L * dst.length, stream));
        synchronize();
    }

    /** Int variants (labels, argmax indices, flags) of {@link #upload(long, float[])} and {@link #download(long, float[])}. */
    public void upload(long dst, int[] src) {
        check("cuMemcpyHtoDAsync",
                () -> JCudaDriver.cuMemcpyHtoDAsync(DevicePointer.of(dst), Pointer.to(src), 4L * src.length, stream));
        synchronize();
    }

    public void download(long src, int[] dst) {
        check("cuMemcpyDtoHAsync",
                () -> JCudaDriver.cuMemcpyDtoHAsync(Pointer.to(dst), DevicePointer.of(src), 4L * dst.length, stream));
        synchronize();
    }

    /** Sets {@code count} 32-bit words to {@code bits} (e.g. a float's raw bits), queued on the stream. */
    public void fill32(long dst, int bits, long count) {
        check("cuMemsetD32Async", () -> JCudaDriver.cuMemsetD32Async(DevicePointer.of(dst), bits, count, stream));
    }

    /** Sets {@code count} 16-bit words to {@code bits} (e.g. an FP16 value), queued on the stream. */
    public void fill16(long dst, short bits, long count) {
        check("cuMemsetD16Async", () -> JCudaDriver.cuMemsetD16Async(DevicePointer.of(dst), bits, count, stream));
    }

    /** Sets {@code bytes} bytes to {@code value}, queued on the stream. */
    public void memset(long dst, int value, long bytes) {
        check("cuMemsetD8Async", () -> JCudaDriver.cuMemsetD8Async(DevicePointer.of(dst), (byte) value, bytes, stream));
    }

    public void synchronize() {
        check("cuStreamSynchronize", () -> JCudaDriver.cuStreamSynchronize(stream));
    }

    /** A timing event; {@link #record(Event)} it on the stream, then {@link #elapsedMillis}. */
    public Event createEvent() {
        var event = new CUevent();
        check("cuEventCreate", () -> JCudaDriver.cuEventCreate(event, 0));
        return new Event(event);
    }

    public void record(Event event) {
        check("cuEventRecord", () -> JCudaDriver.cuEventRecord(event.event, stream));
    }

    /** Milliseconds between two recorded events; waits for {@code end}. */
    public float elapsedMillis(Event start, Event end) {
        check("cuEventSynchronize", () -> JCudaDriver.cuEventSynchronize(end.event));
        float[] ms = new float[1];
        check("cuEventElapsedTime", () -> JCudaDriver.cuEventElapsedTime(ms, start.event, end.event));
        return ms[0];
    }

    public static final class Event implements AutoCloseable {
        private final CUevent event;
        private boolean closed;

        private Event(CUevent event) { this.event = event; }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            check("cuEventDestroy", () -> JCudaDriver.cuEventDestroy(event));
        }
    }

    /** Destroys the stream and releases the primary context (the driver keeps it while others hold it). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        check("cuStreamDestroy", () -> JCudaDriver.cuStreamDestroy(stream));
        check("cuDevicePrimaryCtxRelease", () -> JCudaDriver.cuDevicePrimaryCtxRelease(cuDevice));
    }

    // ---------------------------------------------------------------- helpers

    /** Runs a driver call; a failure (thrown by JCuda or returned) becomes a {@link NativeCallException}. */
    static void check(String function, IntSupplier call) {
        int rc;
        try {
            rc = call.getAsInt();
        } catch (jcuda.CudaException e) {
            rc = statusCode(e.getMessage());
        }
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new NativeCallException("CUDA driver", function, rc, CUresult.stringFor(rc), null);
        }
    }

    /** JCuda's exceptions carry only the CUresult name; map it back to the code. */
    static int statusCode(String name) {
        try {
            return CUresult.class.getField(name.strip()).getInt(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return CUresult.CUDA_ERROR_UNKNOWN;
        }
    }

    private static CUdevice device(int ordinal) {
        var device = new CUdevice();
        check("cuDeviceGet", () -> JCudaDriver.cuDeviceGet(device, ordinal));
        return device;
    }

    private static DeviceInfo describe(int ordinal, CUdevice device) {
        byte[] name = new byte[256];
        check("cuDeviceGetName", () -> JCudaDriver.cuDeviceGetName(name, name.length, device));
        int end = 0;
        while (end < name.length && name[end] != 0) end++;
        long[] total = new long[1];
        check("cuDeviceTotalMem", () -> JCudaDriver.cuDeviceTotalMem(total, device));
        return new DeviceInfo(ordinal, new String(name, 0, end, StandardCharsets.UTF_8),
                attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                total[0], attribute(device, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT));
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] value = new int[1];
        check("cuDeviceGetAttribute", () -> JCudaDriver.cuDeviceGetAttribute(value, attribute, device));
        return value[0];
    }

    private static void requireNative(MemorySegment segment, long bytes) {
        if (!segment.isNative()) throw new IllegalArgumentException("host memory for async copies must be native (off-heap)");
        if (segment.byteSize() < bytes) {
            throw new IllegalArgumentException("host segment holds " + segment.byteSize() + " bytes, copy wants " + bytes);
        }
    }

    /** libcuda.so.1 by soname first (LD_LIBRARY_PATH, ld.so cache), then by path in the usual places. */
    private static Path loadLibcuda() {
        var searched = new ArrayList<String>();
        try {
            return Dl.open("libcuda.so.1").path();
        } catch (Dl.LoadFailure e) {
            searched.add("system loader (LD_LIBRARY_PATH=" + System.getenv().getOrDefault("LD_LIBRARY_PATH", "")
                    + ", ld.so cache, /lib, /usr/lib): " + e.getMessage());
        }
        for (String candidate : LIBCUDA_FALLBACKS) {
            if (!new java.io.File(candidate).exists()) {
                searched.add(candidate + ": absent");
                continue;
            }
            try {
                // Loaded by path and RTLD_GLOBAL: JCuda's own dependency on the soname then resolves to it.
                return Dl.open(candidate).path();
            } catch (Dl.LoadFailure e) {
                searched.add(candidate + ": " + e.getMessage());
            }
        }
        throw new CudaUnavailableException(
                "no NVIDIA driver: libcuda.so.1 (the CUDA driver library) was not found, so there is no usable GPU here",
                searched,
                "on a GPU machine install the NVIDIA driver (nvidia-smi must list the GPU); in a container expose the GPU "
                        + "(docker --gpus all with the NVIDIA container toolkit); if libcuda.so.1 lives elsewhere, "
                        + "add its folder to LD_LIBRARY_PATH");
    }

    private static void loadJCuda() {
        try {
            JCudaDriver.setExceptionsEnabled(true);
        } catch (LinkageError | jcuda.CudaException e) {
            String detail = String.valueOf(e.getMessage()).lines().filter(l -> l.contains(".so")).reduce((a, b) -> b)
                    .orElse(String.valueOf(e.getMessage()).lines().findFirst().orElse(e.toString()));
            throw new CudaUnavailableException(
                    "JCuda's native driver binding (libJCudaDriver-12.6.0) did not load: " + detail.strip(),
                    List.of("jcuda-natives jar on the class path, extracted to java.io.tmpdir=" + System.getProperty("java.io.tmpdir")),
                    "keep jcuda-natives-12.6.0-linux-x86_64.jar on the class path, make java.io.tmpdir writable and "
                            + "executable (not mounted noexec), and run with --enable-native-access=ALL-UNNAMED", e);
        }
    }

    private static CudaUnavailableException initFailure(int rc, Path path) {
        String name = CUresult.stringFor(rc);
        String searched = "cuInit(0) with " + path;
        return switch (rc) {
            case CUresult.CUDA_ERROR_NO_DEVICE -> new CudaUnavailableException(
                    "the NVIDIA driver is installed but sees no GPU (" + name + ")", List.of(searched),
                    "check nvidia-smi, that CUDA_VISIBLE_DEVICES does not hide the GPUs, and that the container was started with the GPU");
            case CUDA_ERROR_STUB_LIBRARY -> new CudaUnavailableException(
                    "the libcuda.so.1 that was loaded is the CUDA toolkit's stub, not a driver (" + path + ")",
                    List.of(searched),
                    "remove the toolkit's stubs folder from LD_LIBRARY_PATH; install the NVIDIA driver");
            case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH -> new CudaUnavailableException(
                    "libcuda.so.1 and the kernel module are different driver versions (" + name + ")", List.of(searched),
                    "reboot after a driver update, or remove a mismatched compat libcuda from LD_LIBRARY_PATH");
            default -> new CudaUnavailableException(
                    "cuInit failed: " + name + " (" + rc + ")", List.of(searched),
                    "check nvidia-smi and dmesg for driver errors; make sure /dev/nvidia* are accessible to this user");
        };
    }
}
