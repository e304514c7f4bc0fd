// Activa native tests: CPU reference implementations in double precision.
//
// Deliberately written from the definitions in shared/reference/ACTIVATIONS.md
// with plain C++ <cmath>, independent of the device functors in
// kernels/activations.cuh, so a test compares two separate implementations.
// reference_check verifies these functions against the 50-digit CSV values.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace ref {

enum class Act { Relu, Elu, Swish, Mish, TanhRelu, Nami };
constexpr Act kAllActs[] = {Act::Relu, Act::Elu, Act::Swish, Act::Mish, Act::TanhRelu, Act::Nami};

inline const char* name(Act act) {
    switch (act) {
        case Act::Relu: return "relu";
        case Act::Elu: return "elu";
        case Act::Swish: return "swish";
        case Act::Mish: return "mish";
        case Act::TanhRelu: return "tanhrelu";
        case Act::Nami: return "nami";
    }
    return "?";
}

// Nami's effective (clamped) scalars; ignored by the other activations.
struct Params {
    double w = 0.3, a = 1.0, b = 1.5;
};

inline double sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
    const double e = std::exp(x);
    return e / (1.0 + e);
}

inline double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }

// 1 - tanh(y)^2, computed as 1 / cosh(y)^2 to keep relative accuracy for large |y|.
inline double sech2(double y) {
    const double c = std::cosh(y);
    return 1.0 / (c * c);
}

inline double value(Act act, double x, const Params& p = Params()) {
    switch (act) {
        case Act::Relu: return x > 0 ? x : 0.0;
        case Act::Elu: return x > 0 ? x : std::expm1(x);
        case Act::Swish: return x * sigmoid(x);
        case Act::Mish: return x * std::tanh(softplus(x));
        case Act::TanhRelu: return x >= 0 ? x : std::tanh(x);
        case Act::Nami: return x > 0 ? std::tanh(p.a * x) : p.a * std::sin(p.w * x) / p.b;
    }
    return NAN;
}

inline double derivative(Act act, double x, const Params& p = Params()) {
    switch (act) {
        case Act::Relu: return x > 0 ? 1.0 : 0.0;
        case Act::Elu: return x > 0 ? 1.0 : std::exp(x);
        case Act::Swish: {
            const double s = sigmoid(x);
            return s * (1.0 + x * sigmoid(-x));  // sigma(-x) = 1 - sigma(x)
        }
        case Act::Mish: {
            const double sp = softplus(x);
            return std::tanh(sp) + x * sech2(sp) * sigmoid(x);
        }
        case Act::TanhRelu: return x >= 0 ? 1.0 : sech2(x);
        case Act::Nami:
            return x > 0 ? p.a * sech2(p.a * x) : p.a * p.w * std::cos(p.w * x) / p.b;
    }
    return NAN;
}

// d f / d {w, a, b} of Nami at x, with effective scalars p.
inline void nami_partials(double x, const Params& p, double out[3]) {
    if (x > 0) {
        out[0] = 0.0;
        out[1] = x * sech2(p.a * x);
        out[2] = 0.0;
    } else {
        const double s = std::sin(p.w * x), c = std::cos(p.w * x);
        out[0] = p.a * x * c / p.b;
        out[1] = s / p.b;
        out[2] = -p.a * s / (p.b * p.b);
    }
}

// ------------------------------------------------------------------ FP16 ---

// Spacing of IEEE binary16 numbers at magnitude |v| (2^-24 in the subnormal range).
inline double half_ulp(double v) {
    const double a = std::fabs(v);
    if (!(a >= 0x1p-14)) return 0x1p-24;  // also for NaN
    int e;
    std::frexp(a, &e);  // a = m 2^e, m in [0.5, 1)  ->  binade 2^(e-1)
    return std::ldexp(1.0, (e - 1) - 10);
}

// v rounded to the nearest binary16 value (ties to even), returned as double.
// Overflow gives +-inf (|v| >= 65520, the midpoint above 65504).
inline double round_half(double v) {
    if (std::isnan(v) || std::isinf(v)) return v;
    if (std::fabs(v) >= 65520.0) return std::copysign(INFINITY, v);
    const double u = half_ulp(v);
    const double r = std::nearbyint(v / u) * u;  // v / u is exact (u is a power of two)
    return r == 0.0 ? std::copysign(0.0, v) : r;
}

// v rounded to float (the FP32 storage of a reference value).
inline double round_float(double v) { return static_cast<double>(static_cast<float>(v)); }

// ---------------------------------------------------------- training ops ---

// Softmax cross-entropy with label smoothing for one row; returns the loss and
// fills probs. A label outside [0, classes) is an ignored row: loss 0.
inline double softmax_xent_row(const double* x, int classes, int label, double smoothing, double* probs) {
    double m = -INFINITY;
    for (int c = 0; c < classes; ++c) m = std::max(m, x[c]);
    double s = 0;
    for (int c = 0; c < classes; ++c) s += std::exp(x[c] - m);
    const double log_z = m + std::log(s);
    double loss = 0;
    for (int c = 0; c < classes; ++c) {
        const double lp = x[c] - log_z;
        probs[c] = std::exp(lp);
        const double target = (c == label ? 1.0 - smoothing : 0.0) + smoothing / classes;
        loss -= target * lp;
    }
    if (label < 0 || label >= classes) loss = 0;
    return loss;
}

inline double smoothed_target(int c, int label, int classes, double smoothing) {
    return (c == label ? 1.0 - smoothing : 0.0) + smoothing / classes;
}

// One PyTorch SGD step (dampening 0) on one element; buf is the momentum buffer.
inline void sgd_step(double& w, double grad, double& buf, double lr, double momentum, double weight_decay,
                     bool nesterov, bool use_buffer) {
    double g = grad + weight_decay * w;
    if (use_buffer) {
        buf = momentum * buf + g;
        g = nesterov ? g + momentum * buf : buf;
    }
    w -= lr * g;
}

}  // namespace ref
