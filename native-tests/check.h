// Activa native tests: host-side helpers shared by every test program —
// a fixed-seed RNG, the activation test inputs, tolerances and error statistics.
// Plain C++ (no CUDA), so the CPU-only tests use it too.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "reference.h"

namespace check {

// splitmix64: small, fixed-seed, identical on every platform.
struct Rng {
    uint64_t state;
    explicit Rng(uint64_t seed) : state(seed) {}
    uint64_t next() {
        uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }  // [0, 1)
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
};

// Activation inputs: the special points first (+-100, +-80, +-30, +-20, 0, -0,
// values around 0, the reference grid -10..10 step 0.25), then random values:
// mostly in [-10, 10], some in [-1e-3, 1e-3], some in [-100, 100].
inline std::vector<float> activation_inputs(size_t n, uint64_t seed) {
    std::vector<float> x;
    x.reserve(n);
    const float specials[] = {100.f, -100.f, 80.f, -80.f, 30.f, -30.f, 20.f, -20.f, 0.f, -0.f,
                              1e-3f, -1e-3f, 1e-6f, -1e-6f, 1e-20f, -1e-20f, 1.4e-45f, -1.4e-45f,
                              0.5f, -0.5f, 1.f, -1.f, 3.f, -3.f, 5.f, -5.f, 8.f, -8.f, 12.f, -12.f};
    for (float s : specials)
        if (x.size() < n) x.push_back(s);
    for (int k = -40; k <= 40 && x.size() < n; ++k) x.push_back(0.25f * k);
    Rng rng(seed);
    while (x.size() < n) {
        const double u = rng.uniform();
        double v;
        if (u < 0.80) v = rng.uniform(-10.0, 10.0);
        else if (u < 0.90) v = rng.uniform(-1e-3, 1e-3);
        else v = rng.uniform(-100.0, 100.0);
        x.push_back(static_cast<float>(v));
    }
    return x;
}

// How much g moves when its argument is perturbed by a relative 2^-22 (a few
// float roundings of the argument, e.g. of the product w * x inside sin(w x)).
// Added to the tolerance so that an error the FP32 argument already carries is
// not blamed on the kernel.
template <typename G>
double sensitivity(G g, double x) {
    const double d = 0x1p-22;
    const double g0 = g(x);
    return std::max(std::fabs(g(x * (1 + d)) - g0), std::fabs(g(x * (1 - d)) - g0));
}

// FP32 tolerances: relative 1e-5 plus absolute 1e-6 (scaled by `scale`, e.g. |dy|).
constexpr double kRel32 = 1e-5;
constexpr double kAbs32 = 1e-6;

// Error statistics for one compared output.
struct Stats {
    std::string what;
    double max_abs = 0, max_rel = 0, max_ratio = 0, max_ulps = 0;
    long long count = 0, fails = 0;
    bool track_ulps = false;
    explicit Stats(std::string w, bool ulps = false) : what(std::move(w)), track_ulps(ulps) {}

    // got vs expected with an absolute tolerance tol (expected is what got
    // should equal up to tol: the FP64 reference, or that rounded to FP16).
    // NaN anywhere fails unless both are NaN.
    bool add(double got, double expected, double tol, long long index = -1, double input = NAN) {
        ++count;
        if (std::isnan(got) && std::isnan(expected)) return true;
        const double err = std::fabs(got - expected);
        const bool inf_match = std::isinf(got) && got == expected;
        const bool ok = inf_match || err <= tol;
        if (!inf_match) {
            if (!(err <= max_abs)) max_abs = err;
            const double rel = err / std::max(std::fabs(expected), 1e-30);
            if (!(rel <= max_rel)) max_rel = rel;
            const double ratio = tol > 0 ? err / tol : (err > 0 ? INFINITY : 0);
            if (!(ratio <= max_ratio)) max_ratio = ratio;
            if (track_ulps) {
                const double ulps = err / ref::half_ulp(expected);
                if (!(ulps <= max_ulps)) max_ulps = ulps;
            }
        }
        if (!ok) {
            if (fails < 5)
                std::printf("    MISMATCH %s [%lld] input %.9g: got %.9g expected %.9g (err %.3g > tol %.3g)\n",
                            what.c_str(), index, input, got, expected, err, tol);
            ++fails;
        }
        return ok;
    }
    bool passed() const { return fails == 0; }
    // One line: max |err|, max relative err, worst err/tol; PASS/FAIL.
    bool report() const {
        if (track_ulps)
            std::printf("  %-34s n=%-9lld max_abs=%.3e max_rel=%.3e max_ulp16=%.2f err/tol=%.3f  %s\n", what.c_str(),
                        count, max_abs, max_rel, max_ulps, max_ratio, passed() ? "PASS" : "FAIL");
        else
            std::printf("  %-34s n=%-9lld max_abs=%.3e max_rel=%.3e err/tol=%.3f  %s\n", what.c_str(), count,
                        max_abs, max_rel, max_ratio, passed() ? "PASS" : "FAIL");
        return passed();
    }
};

}  // namespace check
