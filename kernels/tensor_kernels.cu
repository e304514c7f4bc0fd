// Activa: the tensor kernels the Java CUDA backend needs besides activations and the
// training kernels: an out-of-place scale, a broadcast bias add, per-channel sums and
// NCHW max pooling with an argmax. The ABI is in kernels/README.md. All arithmetic is
// in float; FP16 is rounded once on store. Every kernel is deterministic (no atomics).
#include <cuda_fp16.h>

#include "elementwise.cuh"
#include "reduce.cuh"

namespace activa {
namespace tensor_ops {

// y = s * x (y may equal x).
template <typename T>
__device__ __forceinline__ void scale_copy(const T* x, T* y, long long n, float s) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) store1(y + i, load1(x + i) * s);
}

// y[i] = x[i] + bias[(i / inner) % channels]: a per-channel bias over NCHW (inner = H*W)
// or a per-column bias over a row-major matrix (inner = 1, channels = columns).
template <typename T>
__device__ __forceinline__ void bias_add(const T* x, const T* bias, T* y, long long n, int inner, int channels) {
    for (long long i = grid_thread_index(); i < n; i += grid_thread_count()) {
        const long long ch = (i / inner) % channels;
        store1(y + i, load1(x + i) + load1(bias + ch));
    }
}

// out[ch] = sum over o < outer, k < inner of x[(o * channels + ch) * inner + k], in float.
// One block per channel (blocks loop over channels when the grid is smaller); a fixed
// per-thread order and a fixed block reduction make it deterministic.
template <typename T>
__device__ __forceinline__ void channel_sum(const T* x, float* out, int outer, int channels, int inner) {
    const long long count = static_cast<long long>(outer) * inner;
    for (int ch = blockIdx.x; ch < channels; ch += gridDim.x) {
        float s = 0.0f;
        for (long long j = threadIdx.x; j < count; j += blockDim.x) {
            const long long o = j / inner;
            const long long k = j - o * inner;
            s += load1(x + (o * channels + ch) * inner + k);
        }
        s = block_allreduce(s, SumOp());
        if (threadIdx.x == 0) out[ch] = s;
    }
}

// Max pooling over NCHW planes with zero padding that never wins (padded cells are
// skipped). argmax[o] is the flat input index of the first maximum in window order,
// as the CPU reference picks it.
template <typename T>
__device__ __forceinline__ void maxpool_fwd(const T* x, T* y, int* argmax, int planes, int h, int w, int k,
                                            int stride, int pad, int ho, int wo) {
    const long long total = static_cast<long long>(planes) * ho * wo;
    for (long long o = grid_thread_index(); o < total; o += grid_thread_count()) {
        const int ox = static_cast<int>(o % wo);
        const long long t = o / wo;
        const int oy = static_cast<int>(t % ho);
        const long long plane = t / ho;
        float best = -INFINITY;
        long long where = -1;
        for (int i = 0; i < k; ++i) {
            const int iy = oy * stride - pad + i;
            if (iy < 0 || iy >= h) continue;
            for (int j = 0; j < k; ++j) {
                const int ix = ox * stride - pad + j;
                if (ix < 0 || ix >= w) continue;
                const long long idx = (plane * h + iy) * w + ix;
                const float v = load1(x + idx);
                if (where < 0 || v > best) {
                    best = v;
                    where = idx;
                }
            }
        }
        store1(y + o, best);
        argmax[o] = static_cast<int>(where);
    }
}

// dx[i] = sum of dy[o] over the windows o that cover input i and took it (argmax[o] == i).
// A gather, one thread per input element, so overlapping windows need no atomics; the
// sum runs in output order, as the CPU reference's scatter does.
template <typename T>
__device__ __forceinline__ void maxpool_bwd(const T* dy, const int* argmax, T* dx, int planes, int h, int w, int k,
                                            int stride, int pad, int ho, int wo) {
    const long long total = static_cast<long long>(planes) * h * w;
    for (long long i = grid_thread_index(); i < total; i += grid_thread_count()) {
        const int ix = static_cast<int>(i % w);
        const long long t = i / w;
        const int iy = static_cast<int>(t % h);
        const long long plane = t / h;
        // Windows covering iy: oy * stride - pad <= iy <= oy * stride - pad + k - 1.
        const int low_y = iy + pad - k + 1, low_x = ix + pad - k + 1;
        const int oy0 = low_y <= 0 ? 0 : (low_y + stride - 1) / stride;
        const int ox0 = low_x <= 0 ? 0 : (low_x + stride - 1) / stride;
        const int oy1 = min(ho - 1, (iy + pad) / stride);
        const int ox1 = min(wo - 1, (ix + pad) / stride);
        float g = 0.0f;
        for (int oy = oy0; oy <= oy1; ++oy)
            for (int ox = ox0; ox <= ox1; ++ox) {
                const long long o = (plane * ho + oy) * wo + ox;
                if (argmax[o] == i) g += load1(dy + o);
            }
        store1(dx + i, g);
    }
}

}  // namespace tensor_ops
}  // namespace activa

// ------------------------------------------------------------ exported ABI ---

#define ACTIVA_TENSOR_KERNELS_DT(DT, T)                                                                 \
    extern "C" __global__ void activa_scale_copy_##DT(const T* x, T* y, long long n, float s) {        \
        ::activa::tensor_ops::scale_copy<T>(x, y, n, s);                                               \
    }                                                                                                  \
    extern "C" __global__ void activa_bias_add_##DT(const T* x, const T* bias, T* y, long long n,      \
                                                    int inner, int channels) {                         \
        ::activa::tensor_ops::bias_add<T>(x, bias, y, n, inner, channels);                             \
    }                                                                                                  \
    extern "C" __global__ void activa_channel_sum_##DT(const T* x, float* out, int outer, int channels, \
                                                       int inner) {                                    \
        ::activa::tensor_ops::channel_sum<T>(x, out, outer, channels, inner);                          \
    }                                                                                                  \
    extern "C" __global__ void activa_maxpool_fwd_##DT(const T* x, T* y, int* argmax, int planes, int h, \
                                                       int w, int k, int stride, int pad, int ho,      \
                                                       int wo) {                                       \
        ::activa::tensor_ops::maxpool_fwd<T>(x, y, argmax, planes, h, w, k, stride, pad, ho, wo);      \
    }                                                                                                  \
    extern "C" __global__ void activa_maxpool_bwd_##DT(const T* dy, const int* argmax, T* dx, int planes, \
                                                       int h, int w, int k, int stride, int pad, int ho, \
                                                       int wo) {                                       \
        ::activa::tensor_ops::maxpool_bwd<T>(dy, argmax, dx, planes, h, w, k, stride, pad, ho, wo);    \
    }

ACTIVA_TENSOR_KERNELS_DT(f32, float)
ACTIVA_TENSOR_KERNELS_DT(f16, __half)

#undef ACTIVA_TENSOR_KERNELS_DT
