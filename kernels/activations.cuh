// Activa: one device functor per activation function.
//
// Every activation kernel, for every storage type (FP32, FP16), is instantiated
// from these functors, so each activation's math is written exactly once.
// All math is in float: FP16 data is converted to float on load, computed here,
// and rounded once on store.
//
// A functor is a small struct with
//   static constexpr int kParams;             // learnable scalars (0, or 3 for Nami)
//   static F make(float w, float a, float b);  // build from the kernel arguments
//   float value(float x) const;                // f(x)
//   float derivative(float x) const;           // f'(x)
// and, when kParams == 3,
//   void partials(float x, float& dw, float& da, float& db) const;  // df/dw, df/da, df/db
//   void grad(float x, float& d, float& dw, float& da, float& db) const;  // all four at once
//
// The members are __host__ __device__ so that the host-side unit tests in
// native-tests/ can exercise the very same code on the CPU; the kernels only
// ever call them on the device.
//
// Definitions and conventions at the kinks: shared/reference/ACTIVATIONS.md.
#pragma once

#include <math.h>

#if defined(__CUDACC__)
#define ACTIVA_HD __host__ __device__ __forceinline__
#else
#define ACTIVA_HD inline
#endif

namespace activa {

// ---------------------------------------------------------------- helpers ---

// e = exp(-|x|) in (0, 1], then sigma(x) and 1 - sigma(x) from it without
// cancellation and without overflow for any x (x = +-100 gives exact limits).
ACTIVA_HD void sigmoid_pair(float x, float e, float& s, float& one_minus_s) {
    const float r = 1.0f / (1.0f + e);
    if (x >= 0.0f) {
        s = r;
        one_minus_s = e * r;
    } else {
        s = e * r;
        one_minus_s = r;
    }
}

// sech^2(y) = 1 - tanh^2(y) = 4 e / (1 + e)^2 with e = exp(-2|y|).
// Unlike 1 - tanh(y)^2 this keeps full relative accuracy when |y| is large.
ACTIVA_HD float sech2(float y) {
    const float e = expf(-2.0f * fabsf(y));
    const float d = 1.0f + e;
    return 4.0f * e / (d * d);
}

// ------------------------------------------------------------ activations ---

struct Relu {
    static constexpr int kParams = 0;
    static ACTIVA_HD Relu make(float, float, float) { return Relu{}; }
    // NaN propagates (x != x), as in PyTorch; f(0) = 0.
    ACTIVA_HD float value(float x) const { return x > 0.0f ? x : (x != x ? x : 0.0f); }
    // f'(0) = 0.
    ACTIVA_HD float derivative(float x) const { return x > 0.0f ? 1.0f : 0.0f; }
};

struct Elu {  // alpha = 1
    static constexpr int kParams = 0;
    static ACTIVA_HD Elu make(float, float, float) { return Elu{}; }
    ACTIVA_HD float value(float x) const { return x > 0.0f ? x : expm1f(x); }
    ACTIVA_HD float derivative(float x) const { return x > 0.0f ? 1.0f : expf(x); }
};

struct Swish {  // SiLU, beta = 1
    static constexpr int kParams = 0;
    static ACTIVA_HD Swish make(float, float, float) { return Swish{}; }
    ACTIVA_HD float value(float x) const {
        float s, sm;
        sigmoid_pair(x, expf(-fabsf(x)), s, sm);
        return x * s;
    }
    ACTIVA_HD float derivative(float x) const {
        float s, sm;
        sigmoid_pair(x, expf(-fabsf(x)), s, sm);
        return s * (1.0f + x * sm);
    }
};

struct Mish {
    static constexpr int kParams = 0;
    static ACTIVA_HD Mish make(float, float, float) { return Mish{}; }
    // softplus(x) = max(x, 0) + log1p(exp(-|x|)), with e = exp(-|x|) shared with sigma.
    ACTIVA_HD static float softplus_from(float x, float e) { return fmaxf(x, 0.0f) + log1pf(e); }
    ACTIVA_HD float value(float x) const {
        const float e = expf(-fabsf(x));
        return x * tanhf(softplus_from(x, e));
    }
    // f' = tanh(sp) + x * sech^2(sp) * sigma(x)
    ACTIVA_HD float derivative(float x) const {
        const float e = expf(-fabsf(x));
        const float sp = softplus_from(x, e);
        float s, sm;
        sigmoid_pair(x, e, s, sm);
        return tanhf(sp) + x * sech2(sp) * s;
    }
};

struct TanhRelu {
    static constexpr int kParams = 0;
    static ACTIVA_HD TanhRelu make(float, float, float) { return TanhRelu{}; }
    // x >= 0 takes the identity branch, so f'(0) = 1.
    ACTIVA_HD float value(float x) const { return x >= 0.0f ? x : tanhf(x); }
    ACTIVA_HD float derivative(float x) const { return x >= 0.0f ? 1.0f : sech2(x); }
};

// Nami with effective (already clamped) scalars w, a, b. The kernels do not
// clamp; routing the gradient through the clamp is the caller's job.
struct Nami {
    static constexpr int kParams = 3;
    float w, a, b;
    float inv_b;     // 1 / b
    float a_over_b;  // a / b
    static ACTIVA_HD Nami make(float w, float a, float b) {
        Nami n;
        n.w = w;
        n.a = a;
        n.b = b;
        n.inv_b = 1.0f / b;
        n.a_over_b = a / b;
        return n;
    }
    // x > 0: tanh(a x);  x <= 0: a sin(w x) / b
    ACTIVA_HD float value(float x) const {
        return x > 0.0f ? tanhf(a * x) : a_over_b * sinf(w * x);
    }
    // The derivative and the three parameter partials, sharing one evaluation.
    //   x > 0:  d = a sech^2(ax),    dw = 0,              da = x sech^2(ax), db = 0
    //   x <= 0: d = a w cos(wx) / b, dw = a x cos(wx) / b, da = sin(wx) / b, db = -a sin(wx) / b^2
    ACTIVA_HD void grad(float x, float& d, float& dw, float& da, float& db) const {
        if (x > 0.0f) {
            const float s2 = sech2(a * x);
            d = a * s2;
            dw = 0.0f;
            da = x * s2;
            db = 0.0f;
        } else {
            float s, c;
            sincosf(w * x, &s, &c);
            d = a_over_b * w * c;
            dw = a_over_b * x * c;
            da = s * inv_b;
            db = -a_over_b * s * inv_b;
        }
    }
    ACTIVA_HD float derivative(float x) const {
        float d, dw, da, db;
        grad(x, d, dw, da, db);
        return d;
    }
    ACTIVA_HD void partials(float x, float& dw, float& da, float& db) const {
        float d;
        grad(x, d, dw, da, db);
    }
};

}  // namespace activa

// The activations the kernels are instantiated for: X(cli_name, functor).
// Adding an activation = a functor above + one line here (see kernels/README.md).
#define ACTIVA_FOR_EACH_ACTIVATION(X) \
    X(relu, ::activa::Relu)           \
    X(elu, ::activa::Elu)             \
    X(swish, ::activa::Swish)         \
    X(mish, ::activa::Mish)           \
    X(tanhrelu, ::activa::TanhRelu)   \
    X(nami, ::activa::Nami)
