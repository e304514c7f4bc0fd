// Activa: the tensor kernels the Java CUDA backend needs besides activations and the
// training kernels: a scale (y = s·x, y may be x), a broadcast bias add, per-channel sums, max
// pooling with an argmax and the NCHW <-> NHWC transpose (both from layout.cuh, in either
// layout). The ABI is in kernels/README.md. All arithmetic is in float; FP16 is rounded
// once on store. Every kernel is deterministic (no atomics).
#include <cuda_fp16.h>

#include "elementwise.cuh"
#include "layout.cuh"
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
                                                       int wo, int channels, int channels_last) {      \
        const ::activa::ImageGeometry in{channels, h, w, channels_last != 0};                          \
        const ::activa::ImageGeometry out{channels, ho, wo, channels_last != 0};                       \
        const long long total = static_cast<long long>(planes) * ho * wo;                              \
        for (long long o = ::activa::grid_thread_index(); o < total; o += ::activa::grid_thread_count()) \
            ::activa::maxpool_fwd_at<T>(o, x, y, argmax, in, out, k, stride, pad);                      \
    }                                                                                                  \
    extern "C" __global__ void activa_maxpool_bwd_##DT(const T* dy, const int* argmax, T* dx, int planes, \
                                                       int h, int w, int k, int stride, int pad, int ho, \
                                                       int wo, int channels, int channels_last) {      \
        const ::activa::ImageGeometry in{channels, h, w, channels_last != 0};                          \
        const ::activa::ImageGeometry out{channels, ho, wo, channels_last != 0};                       \
        const long long total = static_cast<long long>(planes) * h * w;                                \
        for (long long i = ::activa::grid_thread_index(); i < total; i += ::activa::grid_thread_count()) \
            ::activa::maxpool_bwd_at<T>(i, dy, argmax, dx, in, out, k, stride, pad);                    \
    }                                                                                                  \
    extern "C" __global__ void activa_transpose_##DT(const T* x, T* y, int batch, int rows, int cols) { \
        const long long total = static_cast<long long>(batch) * rows * cols;                           \
        for (long long t = ::activa::grid_thread_index(); t < total; t += ::activa::grid_thread_count()) \
            ::activa::transpose_at<T>(t, x, y, rows, cols);                                            \
    }

ACTIVA_TENSOR_KERNELS_DT(f32, float)
ACTIVA_TENSOR_KERNELS_DT(f16, __half)

#undef ACTIVA_TENSOR_KERNELS_DT
