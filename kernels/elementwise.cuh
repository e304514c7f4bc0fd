// Activa: 128-bit packed loads/stores and the per-thread bodies of the
// elementwise kernels (activation forward/backward, fused add + activation,
// plain add, casts).
//
// A thread body takes its global thread index `tid` and the total thread count
// `stride` explicitly and walks a grid-stride loop:
//   1. the vector part: packs of 16 bytes (4 floats / 8 halves) while every
//      pointer involved is 16-byte aligned;
//   2. the scalar tail: the last n % V elements (or all n elements when some
//      pointer is not 16-byte aligned; correct, just slower).
// The bodies are __host__ __device__ so native-tests/ can run them on the CPU
// for every tid of a simulated grid and check the indexing bit-exactly.
#pragma once

#include <cuda_fp16.h>
#include <stdint.h>

#include "activations.cuh"

namespace activa {

// ------------------------------------------------------------------ packs ---

template <typename T>
struct Pack16;  // elements per 16-byte pack
template <>
struct Pack16<float> {
    static constexpr int N = 4;
};
template <>
struct Pack16<__half> {
    static constexpr int N = 8;
};

ACTIVA_HD bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

ACTIVA_HD float half_bits_to_float(unsigned int bits16) {
    return __half2float(__ushort_as_half(static_cast<unsigned short>(bits16)));
}
ACTIVA_HD unsigned int float_to_half_bits(float v) {
    return static_cast<unsigned int>(__half_as_ushort(__float2half_rn(v)));
}
// Two halves in one 32-bit word: element 2k in the low 16 bits (lower address
// on a little-endian machine), element 2k+1 in the high 16 bits.
ACTIVA_HD void unpack_half2(unsigned int u, float& lo, float& hi) {
    lo = half_bits_to_float(u & 0xffffu);
    hi = half_bits_to_float(u >> 16);
}
ACTIVA_HD unsigned int pack_half2(float lo, float hi) {
    return float_to_half_bits(lo) | (float_to_half_bits(hi) << 16);
}

// 16-byte pack <-> floats. p must be 16-byte aligned.
ACTIVA_HD void load16(const float* p, float (&v)[4]) {
    const float4 q = *reinterpret_cast<const float4*>(p);
    v[0] = q.x;
    v[1] = q.y;
    v[2] = q.z;
    v[3] = q.w;
}
ACTIVA_HD void load16(const __half* p, float (&v)[8]) {
    const uint4 q = *reinterpret_cast<const uint4*>(p);
    unpack_half2(q.x, v[0], v[1]);
    unpack_half2(q.y, v[2], v[3]);
    unpack_half2(q.z, v[4], v[5]);
    unpack_half2(q.w, v[6], v[7]);
}
ACTIVA_HD void store16(float* p, const float (&v)[4]) {
    *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
}
ACTIVA_HD void store16(__half* p, const float (&v)[8]) {
    uint4 q;
    q.x = pack_half2(v[0], v[1]);
    q.y = pack_half2(v[2], v[3]);
    q.z = pack_half2(v[4], v[5]);
    q.w = pack_half2(v[6], v[7]);
    *reinterpret_cast<uint4*>(p) = q;
}

// 4 elements <-> 4 floats (16 bytes of float, 8 bytes of half); used by the
// casts. p must be aligned to 4 * sizeof(T).
ACTIVA_HD void load4(const float* p, float (&v)[4]) { load16(p, v); }
ACTIVA_HD void load4(const __half* p, float (&v)[4]) {
    const uint2 q = *reinterpret_cast<const uint2*>(p);
    unpack_half2(q.x, v[0], v[1]);
    unpack_half2(q.y, v[2], v[3]);
}
ACTIVA_HD void store4(float* p, const float (&v)[4]) { store16(p, v); }
ACTIVA_HD void store4(__half* p, const float (&v)[4]) {
    uint2 q;
    q.x = pack_half2(v[0], v[1]);
    q.y = pack_half2(v[2], v[3]);
    *reinterpret_cast<uint2*>(p) = q;
}
ACTIVA_HD bool aligned_for4(const float* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }
ACTIVA_HD bool aligned_for4(const __half* p) { return (reinterpret_cast<uintptr_t>(p) & 7u) == 0; }

// One element <-> float; FP16 is rounded to nearest even, once, on store.
ACTIVA_HD float load1(const float* p) { return *p; }
ACTIVA_HD float load1(const __half* p) { return __half2float(*p); }
ACTIVA_HD void store1(float* p, float v) { *p = v; }
ACTIVA_HD void store1(__half* p, float v) { *p = __float2half_rn(v); }

// Identity "activation": turns the fused add + activation into a plain add.
struct Identity {
    static constexpr int kParams = 0;
    static ACTIVA_HD Identity make(float, float, float) { return Identity{}; }
    ACTIVA_HD float value(float x) const { return x; }
    ACTIVA_HD float derivative(float) const { return 1.0f; }
};

// ---------------------------------------------------------- thread bodies ---

// y = act(x)            (kAdd = false; x2 unused)
// y = act(x + x2)       (kAdd = true; the sum is formed in float, not rounded to T)
template <typename T, bool kAdd, typename Op>
ACTIVA_HD void act_fwd_thread(const T* x, const T* x2, T* y, long long n, const Op& op,
                              long long tid, long long stride) {
    constexpr int V = Pack16<T>::N;
    const bool vec = aligned16(x) && aligned16(y) && (!kAdd || aligned16(x2));
    const long long nvec = vec ? n / V : 0;  // whole packs handled by the vector loop
    for (long long i = tid; i < nvec; i += stride) {
        float v[V];
        load16(x + i * V, v);
        if constexpr (kAdd) {
            float u[V];
            load16(x2 + i * V, u);
#pragma unroll
            for (int k = 0; k < V; ++k) v[k] += u[k];
        }
#pragma unroll
        for (int k = 0; k < V; ++k) v[k] = op.value(v[k]);
        store16(y + i * V, v);
    }
    for (long long i = nvec * V + tid; i < n; i += stride) {
        float v = load1(x + i);
        if constexpr (kAdd) v += load1(x2 + i);
        store1(y + i, op.value(v));
    }
}

// dy * f'(z) for one element; for activations with parameters also adds
// dy * df/dp to acc[0..2] (w, a, b).
template <typename Op>
ACTIVA_HD float bwd_element(const Op& op, float z, float g, float (&acc)[3]) {
    if constexpr (Op::kParams == 3) {
        float d, pw, pa, pb;
        op.grad(z, d, pw, pa, pb);
        acc[0] += g * pw;
        acc[1] += g * pa;
        acc[2] += g * pb;
        return g * d;
    } else {
        return g * op.derivative(z);
    }
}

// dx = dy * f'(z), z = x (kAdd = false) or z = x + x2 (kAdd = true, recomputed
// in float exactly as the forward pass formed it). acc: this thread's partial
// sums of dy * df/d{w,a,b}; the caller reduces them.
template <typename T, bool kAdd, typename Op>
ACTIVA_HD void act_bwd_thread(const T* x, const T* x2, const T* dy, T* dx, long long n, const Op& op,
                              long long tid, long long stride, float (&acc)[3]) {
    constexpr int V = Pack16<T>::N;
    const bool vec = aligned16(x) && aligned16(dy) && aligned16(dx) && (!kAdd || aligned16(x2));
    const long long nvec = vec ? n / V : 0;
    for (long long i = tid; i < nvec; i += stride) {
        float z[V], g[V];
        load16(x + i * V, z);
        if constexpr (kAdd) {
            float u[V];
            load16(x2 + i * V, u);
#pragma unroll
            for (int k = 0; k < V; ++k) z[k] += u[k];
        }
        load16(dy + i * V, g);
#pragma unroll
        for (int k = 0; k < V; ++k) g[k] = bwd_element(op, z[k], g[k], acc);
        store16(dx + i * V, g);
    }
    for (long long i = nvec * V + tid; i < n; i += stride) {
        float z = load1(x + i);
        if constexpr (kAdd) z += load1(x2 + i);
        store1(dx + i, bwd_element(op, z, load1(dy + i), acc));
    }
}

// y = (Dst) x, 4 elements per step while both pointers are aligned for it.
template <typename Src, typename Dst>
ACTIVA_HD void cast_thread(const Src* x, Dst* y, long long n, long long tid, long long stride) {
    const bool vec = aligned_for4(x) && aligned_for4(y);
    const long long nvec = vec ? n / 4 : 0;
    for (long long i = tid; i < nvec; i += stride) {
        float v[4];
        load4(x + i * 4, v);
        store4(y + i * 4, v);
    }
    for (long long i = nvec * 4 + tid; i < n; i += stride) store1(y + i, load1(x + i));
}

}  // namespace activa
