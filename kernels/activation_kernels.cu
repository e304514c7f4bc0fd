// Activa: activation kernels, forward and backward, plain and fused with a
// preceding residual add, for every activation in ACTIVA_FOR_EACH_ACTIVATION
// and for FP32 (f32) and FP16 (f16) storage. The ABI is in kernels/README.md.
//
// Symbols (extern "C", so unmangled), {act} in relu elu swish mish tanhrelu nami,
// {dt} in f32 f16, T = float / __half:
//   activa_act_fwd_{act}_{dt}    (const T* x, T* y, long long n, float w, float a, float b)
//   activa_act_bwd_{act}_{dt}    (const T* x, const T* dy, T* dx, long long n,
//                                 float w, float a, float b, float* dparams)
//   activa_add_act_fwd_{act}_{dt}(const T* a_in, const T* b_in, T* y, long long n,
//                                 float w, float a, float b)
//   activa_add_act_bwd_{act}_{dt}(const T* a_in, const T* b_in, const T* dy, T* dz, long long n,
//                                 float w, float a, float b, float* dparams)
// Any grid and any 1-D block size work (grid-stride loops); 16-byte aligned
// pointers take the 128-bit vector path, others a correct scalar path.
#include <cuda_fp16.h>

#include "activations.cuh"
#include "elementwise.cuh"
#include "reduce.cuh"

namespace activa {

__device__ __forceinline__ long long global_thread_index() {
    return static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ long long global_thread_count() {
    return static_cast<long long>(gridDim.x) * blockDim.x;
}

template <typename T, bool kAdd, typename Op>
__device__ __forceinline__ void act_fwd_kernel(const T* x, const T* x2, T* y, long long n, Op op) {
    act_fwd_thread<T, kAdd>(x, x2, y, n, op, global_thread_index(), global_thread_count());
}

template <typename T, bool kAdd, typename Op>
__device__ __forceinline__ void act_bwd_kernel(const T* x, const T* x2, const T* dy, T* dx, long long n,
                                               Op op, float* dparams) {
    float acc[3] = {0.0f, 0.0f, 0.0f};
    act_bwd_thread<T, kAdd>(x, x2, dy, dx, n, op, global_thread_index(), global_thread_count(), acc);
    if constexpr (Op::kParams == 3) {
        // dparams is a kernel argument, so this branch is uniform across the block.
        if (dparams != nullptr) block_sum3_atomic_add(acc, dparams);
    }
}

}  // namespace activa

#define ACTIVA_ACT_KERNELS_DT(NAME, OP, DT, T)                                                          \
    extern "C" __global__ void activa_act_fwd_##NAME##_##DT(const T* x, T* y, long long n, float w,    \
                                                             float a, float b) {                       \
        ::activa::act_fwd_kernel<T, false>(x, static_cast<const T*>(nullptr), y, n, OP::make(w, a, b)); \
    }                                                                                                  \
    extern "C" __global__ void activa_act_bwd_##NAME##_##DT(const T* x, const T* dy, T* dx, long long n, \
                                                             float w, float a, float b, float* dparams) { \
        ::activa::act_bwd_kernel<T, false>(x, static_cast<const T*>(nullptr), dy, dx, n,               \
                                           OP::make(w, a, b), dparams);                                \
    }                                                                                                  \
    extern "C" __global__ void activa_add_act_fwd_##NAME##_##DT(const T* a_in, const T* b_in, T* y,    \
                                                                 long long n, float w, float a, float b) { \
        ::activa::act_fwd_kernel<T, true>(a_in, b_in, y, n, OP::make(w, a, b));                        \
    }                                                                                                  \
    extern "C" __global__ void activa_add_act_bwd_##NAME##_##DT(const T* a_in, const T* b_in,         \
                                                                 const T* dy, T* dz, long long n,      \
                                                                 float w, float a, float b,            \
                                                                 float* dparams) {                     \
        ::activa::act_bwd_kernel<T, true>(a_in, b_in, dy, dz, n, OP::make(w, a, b), dparams);          \
    }

#define ACTIVA_ACT_KERNELS(NAME, OP)               \
    ACTIVA_ACT_KERNELS_DT(NAME, OP, f32, float)    \
    ACTIVA_ACT_KERNELS_DT(NAME, OP, f16, __half)

ACTIVA_FOR_EACH_ACTIVATION(ACTIVA_ACT_KERNELS)

#undef ACTIVA_ACT_KERNELS
#undef ACTIVA_ACT_KERNELS_DT
