// Activa native tests: the FP64 references, tolerances and comparison of the
// activation kernels' outputs; shared by act_harness.h (GPU) and
// emulation_test.cu (the same kernel code run on the CPU). No kernel here.
#pragma once

#include <string>
#include <vector>

#include "check.h"
#include "cuda_common.h"
#include "reference.h"

namespace acttest {

struct ParamSet {
    const char* label;
    float w, a, b;
};
// Nami: the initial values, the range corners, and the clamped CSV case.
constexpr ParamSet kNamiSets[] = {{"w=0.3 a=1 b=1.5", 0.3f, 1.0f, 1.5f},
                                  {"w=0.5 a=3 b=0.5", 0.5f, 3.0f, 0.5f},
                                  {"w=0.1 a=3 b=0.8", 0.1f, 3.0f, 0.8f}};
// The other activations must ignore w, a, b: pass NaNs.
constexpr ParamSet kIgnoredParams = {"w,a,b = NaN (ignored)", NAN, NAN, NAN};

// Host data of one case, already in storage type T.
template <typename T>
struct Data {
    std::vector<T> a, b, dy;  // b is empty unless kAdd
};

// FP64 references for one case (z = the activation input as the kernel sees it).
struct Refs {
    std::vector<double> z, y, y_tol, dx, dx_tol;
    double dparams[3] = {0, 0, 0};      // sum of dy * df/dp (without the preset)
    double dparams_tol[3] = {0, 0, 0};
};

template <typename T>
Refs make_refs(ref::Act act, const ParamSet& ps, const Data<T>& d, bool add) {
    const ref::Params p{ps.w, ps.a, ps.b};  // the float values the kernel gets, exactly
    const size_t n = d.a.size();
    Refs r;
    r.z.resize(n);
    r.y.resize(n);
    r.y_tol.resize(n);
    r.dx.resize(n);
    r.dx_tol.resize(n);
    double abs_sum[3] = {0, 0, 0}, sens_sum[3] = {0, 0, 0};
    for (size_t i = 0; i < n; ++i) {
        const double z = tst::to_double(d.a[i]) + (add ? tst::to_double(d.b[i]) : 0.0);
        const double g = tst::to_double(d.dy[i]);
        auto f = [&](double v) { return ref::value(act, v, p); };
        auto fp = [&](double v) { return ref::derivative(act, v, p); };
        r.z[i] = z;
        r.y[i] = f(z);
        r.y_tol[i] = check::kAbs32 + check::kRel32 * std::fabs(r.y[i]) + check::sensitivity(f, z);
        r.dx[i] = g * fp(z);
        r.dx_tol[i] = check::kRel32 * std::fabs(r.dx[i]) + std::fabs(g) * (check::kAbs32 + check::sensitivity(fp, z));
        if (act == ref::Act::Nami) {
            double pk[3];
            ref::nami_partials(z, p, pk);
            for (int k = 0; k < 3; ++k) {
                auto pf = [&](double v) {
                    double q[3];
                    ref::nami_partials(v, p, q);
                    return q[k];
                };
                r.dparams[k] += g * pk[k];
                abs_sum[k] += std::fabs(g * pk[k]);
                sens_sum[k] += std::fabs(g) * check::sensitivity(pf, z);
            }
        }
    }
    // Float accumulation (per thread, per block, then one atomicAdd per block):
    // 1e-6 of the sum of magnitudes covers both the per-term FP32 error
    // (a few ulps) and the rounding of the float partial sums; the summed
    // sensitivities cover the rounding of the FP32 arguments (w x, a x), which
    // for x = -100 alone moves dy * df/dw by ~5e-5.
    for (int k = 0; k < 3; ++k)
        r.dparams_tol[k] = 1e-6 * abs_sum[k] + sens_sum[k] + 1e-5 * std::fabs(r.dparams[k]) + 1e-6;
    return r;
}

// got (storage type T) vs the FP64 reference. FP32: |got - ref| <= tol32.
// FP16: |got - round_half(ref)| <= one half ulp at ref + tol32.
template <typename T>
void compare(check::Stats& st, const std::vector<T>& got, const std::vector<double>& expect,
             const std::vector<double>& tol32, const std::vector<double>& input) {
    for (size_t i = 0; i < got.size(); ++i) {
        const double g = tst::to_double(got[i]);
        if (sizeof(T) == 4)
            st.add(g, expect[i], tol32[i], static_cast<long long>(i), input[i]);
        else
            st.add(g, ref::round_half(expect[i]), ref::half_ulp(expect[i]) + tol32[i], static_cast<long long>(i),
                   input[i]);
    }
}

template <typename T>
Data<T> make_data(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& dy, size_t n,
                  bool add) {
    Data<T> d;
    d.a = tst::convert<T>(std::vector<float>(a.begin(), a.begin() + n));
    if (add) d.b = tst::convert<T>(std::vector<float>(b.begin(), b.begin() + n));
    d.dy = tst::convert<T>(std::vector<float>(dy.begin(), dy.begin() + n));
    return d;
}

struct Launch {
    int block = 256;
    int grid = 0;        // 0: the advised grid (tst::grid_for over 16-byte packs)
    size_t offset = 0;   // element offset of every pointer (1 = misaligned -> scalar path)
    bool in_place = false;  // y = a_in (forward), dx = dy (backward)
    bool dparams = true;    // pass a dparams buffer (else NULL)
};

// dparams[w], dparams[a], dparams[b] (checked to be untouched where they must be).
struct DparamStats {
    check::Stats dw, da, db;
    explicit DparamStats(const std::string& label)
        : dw(label + " dparams[w]"), da(label + " dparams[a]"), db(label + " dparams[b]") {}
    bool report() const { return dw.report() & da.report() & db.report(); }
};

// The test inputs: a (the activation input, or the first addend), b (the
// second addend), dy. The special points of `a` come first; b = 0 there, so
// they reach the activation unchanged; with add, element 200 is 1.5 + -1.5 = 0
// (the kink, reached through the sum).
inline void make_inputs(size_t n, bool add, std::vector<float>& a, std::vector<float>& b, std::vector<float>& dy) {
    a = check::activation_inputs(n, 42);
    b.assign(n, 0.0f);
    dy.assign(n, 0.0f);
    check::Rng rng(7);
    for (size_t i = 0; i < n; ++i) {
        dy[i] = static_cast<float>(rng.uniform(-1.0, 1.0));
        b[i] = i < 200 ? 0.0f : static_cast<float>(rng.uniform(-2.0, 2.0));
    }
    if (add && n > 200) {
        a[200] = 1.5f;
        b[200] = -1.5f;
    }
}

}  // namespace acttest
