// Activa: warp and block reductions (device only).
//
// They accept any 1-D block size from 1 to 1024: a last, partial warp is
// handled (only lanes that exist are summed), so blockDim.x need not be a
// multiple of 32. Every thread of the block must call a block-level reduction
// (they contain __syncthreads()).
#pragma once

namespace activa {

struct SumOp {
    __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
};
struct MaxOp {
    // fmaxf ignores a NaN operand; callers that must see NaNs get them via the
    // sum that follows a max (exp(NaN - m) is NaN).
    __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

// Grid-stride loops: this thread's first index and the stride, as 64-bit values.
__device__ __forceinline__ long long grid_thread_index() {
    return static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ long long grid_thread_count() {
    return static_cast<long long>(gridDim.x) * blockDim.x;
}

// Number of threads that exist in the calling thread's warp.
__device__ __forceinline__ unsigned warp_lane_count() {
    const unsigned left = blockDim.x - (threadIdx.x & ~31u);
    return left < 32u ? left : 32u;
}

// Reduces v over the existing lanes of the warp; the result is valid in lane 0.
template <typename Op>
__device__ __forceinline__ float warp_reduce_lane0(float v, Op op) {
    const unsigned lanes = warp_lane_count();
    const unsigned mask = lanes == 32u ? 0xffffffffu : ((1u << lanes) - 1u);
    const unsigned lane = threadIdx.x & 31u;
#pragma unroll
    for (unsigned off = 16; off > 0; off >>= 1) {
        const float o = __shfl_down_sync(mask, v, off);
        if (lane + off < lanes) v = op(v, o);  // a missing source lane contributes nothing
    }
    return v;
}

// Reduces v over the whole block and returns the result to every thread.
// Deterministic (fixed combination order). Safe to call several times in a row.
template <typename Op>
__device__ __forceinline__ float block_allreduce(float v, Op op) {
    __shared__ float partial[32];
    v = warp_reduce_lane0(v, op);
    const unsigned nwarps = (blockDim.x + 31u) >> 5;
    __syncthreads();  // a previous call's readers are done with `partial`
    if ((threadIdx.x & 31u) == 0) partial[threadIdx.x >> 5] = v;
    __syncthreads();
    float r = partial[0];
    for (unsigned i = 1; i < nwarps; ++i) r = op(r, partial[i]);
    return r;
}

// Sums acc[0..2] over the block and atomically adds the three totals to
// out[0..2]: one atomicAdd per block per value.
__device__ __forceinline__ void block_sum3_atomic_add(float (&acc)[3], float* out) {
    __shared__ float partial[3][32];
    SumOp sum;
    const float s0 = warp_reduce_lane0(acc[0], sum);
    const float s1 = warp_reduce_lane0(acc[1], sum);
    const float s2 = warp_reduce_lane0(acc[2], sum);
    if ((threadIdx.x & 31u) == 0) {
        const unsigned wid = threadIdx.x >> 5;
        partial[0][wid] = s0;
        partial[1][wid] = s1;
        partial[2][wid] = s2;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        const unsigned nwarps = (blockDim.x + 31u) >> 5;
        float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f;
        for (unsigned i = 0; i < nwarps; ++i) {
            t0 += partial[0][i];
            t1 += partial[1][i];
            t2 += partial[2][i];
        }
        atomicAdd(out + 0, t0);
        atomicAdd(out + 1, t1);
        atomicAdd(out + 2, t2);
    }
}

}  // namespace activa
