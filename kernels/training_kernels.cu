// Activa: the non-activation kernels of a training step: softmax cross-entropy
// with label smoothing, NHWC global average pooling, FP32 <-> FP16 casts,
// the elementwise add, the loss-scaler check and SGD. The ABI is in
// kernels/README.md. All arithmetic is in float; FP16 is rounded once on store.
#include <cuda_fp16.h>

#include "elementwise.cuh"
#include "reduce.cuh"

namespace activa {
namespace training {

// Label-smoothed target for class c of a row whose label is `label`:
// (1 - s) * [c == label] + s / classes.
__device__ __forceinline__ float smoothed_target(int c, int label, float off_value, float on_value) {
    return c == label ? on_value : off_value;
}

// One block per row (blockIdx.x = row; a grid-stride over rows lets a smaller
// grid work too). Three passes over the row's logits (they stay in L1/L2):
//   1. m = max_c x_c
//   2. s = sum_c exp(x_c - m);  logZ = m + log(s)
//   3. lp_c = x_c - logZ;  probs_c = exp(lp_c);  sum_c lp_c
// loss = -((1 - eps) * lp_label + (eps / C) * sum_c lp_c), which is
// -sum_c target_c * lp_c with target = (1 - eps) onehot + eps / C.
// A label outside [0, classes) marks the row as ignored: loss 0 (probs still written).
template <typename T>
__device__ __forceinline__ void softmax_xent_fwd(const T* logits, const int* labels, float* loss_rows,
                                                 float* probs, int rows, int classes, float smoothing) {
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* x = logits + static_cast<long long>(r) * classes;
        float* p = probs + static_cast<long long>(r) * classes;

        float m = -INFINITY;
        for (int c = threadIdx.x; c < classes; c += blockDim.x) m = fmaxf(m, load1(x + c));
        m = block_allreduce(m, MaxOp());

        float s = 0.0f;
        for (int c = threadIdx.x; c < classes; c += blockDim.x) s += expf(load1(x + c) - m);
        s = block_allreduce(s, SumOp());
        const float log_z = m + logf(s);

        float sum_lp = 0.0f;
        for (int c = threadIdx.x; c < classes; c += blockDim.x) {
            const float lp = load1(x + c) - log_z;
            p[c] = expf(lp);
            sum_lp += lp;
        }
        sum_lp = block_allreduce(sum_lp, SumOp());

        if (threadIdx.x == 0) {
            const int label = labels[r];
            float loss = 0.0f;
            if (label >= 0 && label < classes) {
                const float lp_label = load1(x + label) - log_z;
                loss = -((1.0f - smoothing) * lp_label + (smoothing / classes) * sum_lp);
            }
            loss_rows[r] = loss;
        }
    }
}

// dlogits[r][c] = (probs[r][c] - target_c) * scale; 0 for an ignored row.
// Flat grid-stride over rows * classes.
template <typename T>
__device__ __forceinline__ void softmax_xent_bwd(const float* probs, const int* labels, T* dlogits,
                                                 int rows, int classes, float smoothing, float scale) {
    const long long total = static_cast<long long>(rows) * classes;
    const float off_value = smoothing / classes;
    const float on_value = (1.0f - smoothing) + off_value;
    for (long long i = grid_thread_index(); i < total; i += grid_thread_count()) {
        const int r = static_cast<int>(i / classes);
        const int c = static_cast<int>(i - static_cast<long long>(r) * classes);
        const int label = labels[r];
        float g = 0.0f;
        if (label >= 0 && label < classes) g = (probs[i] - smoothed_target(c, label, off_value, on_value)) * scale;
        store1(dlogits + i, g);
    }
}

// NHWC global average pool: y[b][ch] = (1/hw) sum_i x[b][i][ch]. One thread per
// output; consecutive threads take consecutive channels, so every load of the
// sum over i is coalesced.
template <typename T>
__device__ __forceinline__ void global_avgpool_fwd(const T* x, T* y, int n, int hw, int c) {
    const long long total = static_cast<long long>(n) * c;
    const float inv_hw = 1.0f / static_cast<float>(hw);
    for (long long o = grid_thread_index(); o < total; o += grid_thread_count()) {
        const long long b = o / c;
        const long long ch = o - b * c;
        const T* src = x + b * hw * c + ch;
        float s = 0.0f;
        for (int i = 0; i < hw; ++i) s += load1(src + static_cast<long long>(i) * c);
        store1(y + o, s * inv_hw);
    }
}

// dx[b][i][ch] = dy[b][ch] / hw, flat grid-stride over n * hw * c.
template <typename T>
__device__ __forceinline__ void global_avgpool_bwd(const T* dy, T* dx, int n, int hw, int c) {
    const long long plane = static_cast<long long>(hw) * c;
    const long long total = static_cast<long long>(n) * plane;
    const float inv_hw = 1.0f / static_cast<float>(hw);
    for (long long i = grid_thread_index(); i < total; i += grid_thread_count()) {
        const long long b = i / plane;
        const long long ch = (i - b * plane) % c;
        store1(dx + i, load1(dy + b * c + ch) * inv_hw);
    }
}

}  // namespace training
}  // namespace activa

// ------------------------------------------------------------ exported ABI ---

#define ACTIVA_TRAINING_KERNELS_DT(DT, T)                                                              \
    extern "C" __global__ void activa_softmax_xent_fwd_##DT(const T* logits, const int* labels,       \
                                                             float* loss_rows, float* probs, int rows, \
                                                             int classes, float smoothing) {           \
        ::activa::training::softmax_xent_fwd<T>(logits, labels, loss_rows, probs, rows, classes,      \
                                                smoothing);                                            \
    }                                                                                                  \
    extern "C" __global__ void activa_softmax_xent_bwd_##DT(const float* probs, const int* labels,    \
                                                             T* dlogits, int rows, int classes,        \
                                                             float smoothing, float scale) {           \
        ::activa::training::softmax_xent_bwd<T>(probs, labels, dlogits, rows, classes, smoothing,     \
                                                scale);                                                \
    }                                                                                                  \
    extern "C" __global__ void activa_global_avgpool_fwd_##DT(const T* x, T* y, int n, int hw, int c) { \
        ::activa::training::global_avgpool_fwd<T>(x, y, n, hw, c);                                     \
    }                                                                                                  \
    extern "C" __global__ void activa_global_avgpool_bwd_##DT(const T* dy, T* dx, int n, int hw,      \
                                                               int c) {                                \
        ::activa::training::global_avgpool_bwd<T>(dy, dx, n, hw, c);                                   \
    }                                                                                                  \
    extern "C" __global__ void activa_add_##DT(const T* a, const T* b, T* y, long long n) {           \
        ::activa::act_fwd_thread<T, true>(a, b, y, n, ::activa::Identity{},                           \
                                          ::activa::grid_thread_index(),                              \
                                          ::activa::grid_thread_count());                             \
    }

ACTIVA_TRAINING_KERNELS_DT(f32, float)
ACTIVA_TRAINING_KERNELS_DT(f16, __half)

#undef ACTIVA_TRAINING_KERNELS_DT

extern "C" __global__ void activa_cast_f32_f16(const float* x, __half* y, long long n) {
    ::activa::cast_thread(x, y, n, ::activa::grid_thread_index(), ::activa::grid_thread_count());
}

extern "C" __global__ void activa_cast_f16_f32(const __half* x, float* y, long long n) {
    ::activa::cast_thread(x, y, n, ::activa::grid_thread_index(), ::activa::grid_thread_count());
}

// grad *= inv_scale; *found_inf = 1 if any gradient is Inf or NaN before or
// after unscaling. The caller zeroes *found_inf before the launch; the kernel
// only ever stores 1 (a benign race between threads that all store 1).
extern "C" __global__ void activa_unscale_check_f32(float* grad, long long n, float inv_scale, int* found_inf) {
    bool bad = false;
    for (long long i = ::activa::grid_thread_index(); i < n; i += ::activa::grid_thread_count()) {
        const float g = grad[i];
        const float u = g * inv_scale;
        grad[i] = u;
        bad |= !isfinite(g) || !isfinite(u);
    }
    if (bad) *found_inf = 1;
}

// PyTorch SGD (dampening 0) over one flat parameter buffer:
//   g = grad + weight_decay * w
//   buf = momentum * buf + g          (buf zero-initialised by the caller, so step 1 gives buf = g)
//   g = nesterov ? g + momentum * buf : buf
//   w -= lr * g
// momentum_buf may be NULL, meaning plain SGD (g = grad + weight_decay * w).
// Skipped entirely when found_inf != NULL and *found_inf != 0 (read on the
// device: no host synchronisation needed after activa_unscale_check_f32).
extern "C" __global__ void activa_sgd_update_f32(float* w, const float* grad, float* momentum_buf, long long n,
                                                 float lr, float momentum, float weight_decay, int nesterov,
                                                 const int* found_inf) {
    if (found_inf != nullptr && *found_inf != 0) return;  // same value for every thread
    for (long long i = ::activa::grid_thread_index(); i < n; i += ::activa::grid_thread_count()) {
        const float wi = w[i];
        float g = grad[i] + weight_decay * wi;
        if (momentum_buf != nullptr) {
            const float buf = momentum * momentum_buf[i] + g;
            momentum_buf[i] = buf;
            g = nesterov ? g + momentum * buf : buf;
        }
        w[i] = wi - lr * g;
    }
}
