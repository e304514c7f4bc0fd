// Activa native tests: CUDA runtime helpers shared by the GPU test programs —
// error checking, the "no GPU -> SKIP (exit 77)" rule, device buffers, the
// launch configuration the Java side is advised to use (kernels/README.md),
// and cudaEvent timing next to a device-to-device cudaMemcpy.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CUDA_CHECK(call)                                                                                \
    do {                                                                                                \
        const cudaError_t e_ = (call);                                                                  \
        if (e_ != cudaSuccess) {                                                                        \
            std::fprintf(stderr, "CUDA error %s at %s:%d: %s\n  in: %s\n", cudaGetErrorName(e_), __FILE__, \
                         __LINE__, cudaGetErrorString(e_), #call);                                      \
            std::exit(1);                                                                               \
        }                                                                                               \
    } while (0)

// Checks a kernel launch and waits for it, so a fault is reported at its launch.
#define CUDA_CHECK_LAUNCH()                      \
    do {                                         \
        CUDA_CHECK(cudaGetLastError());          \
        CUDA_CHECK(cudaDeviceSynchronize());     \
    } while (0)

namespace tst {

constexpr int kSkipExitCode = 77;  // ctest SKIP_RETURN_CODE

struct Device {
    int sms = 0;
    int major = 0, minor = 0;
};

// Exits with 77 ("SKIP: no CUDA device (reason)") unless a usable GPU is visible.
inline Device init_device_or_skip() {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        std::printf("SKIP: no CUDA device (%s: %s)\n", cudaGetErrorName(e), cudaGetErrorString(e));
        std::exit(kSkipExitCode);
    }
    if (count == 0) {
        std::printf("SKIP: no CUDA device (cudaGetDeviceCount found 0 devices)\n");
        std::exit(kSkipExitCode);
    }
    CUDA_CHECK(cudaSetDevice(0));
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    if (prop.major < 8) {
        std::printf("SKIP: no CUDA device (device 0, %s, is sm_%d%d; the kernels target sm_80 and newer)\n",
                    prop.name, prop.major, prop.minor);
        std::exit(kSkipExitCode);
    }
    std::printf("device: %s, sm_%d%d, %d SMs, %.1f GiB\n", prop.name, prop.major, prop.minor,
                prop.multiProcessorCount, prop.totalGlobalMem / 1073741824.0);
    return Device{prop.multiProcessorCount, prop.major, prop.minor};
}

// The advised grid for a grid-stride kernel: one thread per work unit (a pack of
// 16 bytes for the activation kernels), capped at 8 blocks per SM.
inline int grid_for(long long units, int block, const Device& dev) {
    long long g = (units + block - 1) / block;
    g = std::min<long long>(g, 8LL * dev.sms);
    return static_cast<int>(std::max<long long>(g, 1));
}

// A device allocation of `n` elements plus `pad` spare ones (for misaligned views).
template <typename T>
struct DevBuf {
    T* p = nullptr;
    size_t n = 0;
    explicit DevBuf(size_t count, size_t pad = 0) : n(count) {
        CUDA_CHECK(cudaMalloc(&p, (count + pad) * sizeof(T) + 16));
    }
    ~DevBuf() { cudaFree(p); }
    DevBuf(const DevBuf&) = delete;
    DevBuf& operator=(const DevBuf&) = delete;
};

template <typename T>
void upload(T* dst, const std::vector<T>& src) {
    if (src.empty()) return;
    CUDA_CHECK(cudaMemcpy(dst, src.data(), src.size() * sizeof(T), cudaMemcpyHostToDevice));
}
template <typename T>
std::vector<T> download(const T* src, size_t n) {
    std::vector<T> out(n);
    if (n == 0) return out;
    CUDA_CHECK(cudaMemcpy(out.data(), src, n * sizeof(T), cudaMemcpyDeviceToHost));
    return out;
}

// Host-side element conversions.
template <typename T>
T from_float(float v);
template <>
inline float from_float<float>(float v) { return v; }
template <>
inline __half from_float<__half>(float v) { return __float2half_rn(v); }
inline double to_double(float v) { return v; }
inline double to_double(__half v) { return static_cast<double>(__half2float(v)); }

template <typename T>
std::vector<T> convert(const std::vector<float>& v) {
    std::vector<T> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = from_float<T>(v[i]);
    return out;
}

template <typename T>
constexpr const char* dtype_name();
template <>
constexpr const char* dtype_name<float>() { return "f32"; }
template <>
constexpr const char* dtype_name<__half>() { return "f16"; }

// Average milliseconds per call of `launch` over `reps` calls (after 2 warm-ups).
template <typename F>
float time_ms(F launch, int reps) {
    for (int i = 0; i < 2; ++i) launch();
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
    cudaEvent_t t0, t1;
    CUDA_CHECK(cudaEventCreate(&t0));
    CUDA_CHECK(cudaEventCreate(&t1));
    CUDA_CHECK(cudaEventRecord(t0));
    for (int i = 0; i < reps; ++i) launch();
    CUDA_CHECK(cudaEventRecord(t1));
    CUDA_CHECK(cudaEventSynchronize(t1));
    CUDA_CHECK(cudaGetLastError());
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, t0, t1));
    CUDA_CHECK(cudaEventDestroy(t0));
    CUDA_CHECK(cudaEventDestroy(t1));
    return ms / reps;
}

// Reference bandwidth: a device-to-device cudaMemcpy that moves the same number
// of bytes (copying B/2 bytes reads B/2 and writes B/2).
struct CopyBench {
    char* src = nullptr;
    char* dst = nullptr;
    size_t cap = 0;  // bytes per side
    explicit CopyBench(size_t max_bytes_moved) : cap(max_bytes_moved / 2) {
        CUDA_CHECK(cudaMalloc(&src, cap));
        CUDA_CHECK(cudaMalloc(&dst, cap));
        CUDA_CHECK(cudaMemset(src, 0, cap));
    }
    ~CopyBench() {
        cudaFree(src);
        cudaFree(dst);
    }
    // GB/s (1e9 bytes) of a D2D copy moving `bytes_moved` bytes in total.
    double gbps(size_t bytes_moved, int reps) {
        const size_t half = std::min(cap, bytes_moved / 2);
        const float ms = time_ms([&] { CUDA_CHECK(cudaMemcpyAsync(dst, src, half, cudaMemcpyDeviceToDevice)); }, reps);
        return 2.0 * half / (ms * 1e-3) / 1e9;
    }
};

// Prints one benchmark line: time, effective bandwidth of the kernel counting
// `bytes_moved`, and that as a fraction of the D2D copy's bandwidth.
inline void report_bandwidth(const char* what, size_t elements, size_t bytes_moved, float ms, double copy_gbps) {
    const double gbps = bytes_moved / (ms * 1e-3) / 1e9;
    std::printf("  %-30s n=%zu  %8.4f ms  %7.1f GB/s  | D2D memcpy %7.1f GB/s  | %5.1f%% of copy\n", what, elements,
                ms, gbps, copy_gbps, 100.0 * gbps / copy_gbps);
}

// Test-local initialiser for the large benchmark buffers: x_i uniform in
// [lo, hi) from a hash of i (no host round trip for 2^26 elements).
template <typename T>
__global__ void bench_fill_uniform(T* x, long long n, float lo, float hi, unsigned seed) {
    for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        unsigned h = static_cast<unsigned>(i) * 0x9E3779B1u ^ seed ^ static_cast<unsigned>(i >> 32) * 0x85EBCA77u;
        h ^= h >> 16;
        h *= 0x7FEB352Du;
        h ^= h >> 15;
        h *= 0x846CA68Bu;
        h ^= h >> 16;
        const float u = (h >> 8) * (1.0f / 16777216.0f);
        x[i] = static_cast<T>(lo + (hi - lo) * u);
    }
}

template <typename T>
void fill_uniform(T* x, long long n, float lo, float hi, unsigned seed, const Device& dev) {
    bench_fill_uniform<T><<<grid_for(n, 256, dev), 256>>>(x, n, lo, hi, seed);
    CUDA_CHECK_LAUNCH();
}

}  // namespace tst
