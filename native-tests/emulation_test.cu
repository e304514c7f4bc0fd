// CPU-only test (no GPU needed): runs the per-thread bodies of the elementwise
// kernels (kernels/elementwise.cuh: activation fwd/bwd, fused add + activation,
// add, casts) on the host for every thread index of a simulated grid, exactly
// as the __global__ wrappers call them, and checks:
//   * the results against the FP64 reference with the same tolerances the GPU
//     tests use (act_refs.h) — host libm instead of CUDA's math library, so
//     this validates the functors' formulas and the tolerance model;
//   * that the 128-bit vector path and the scalar path give identical bits;
//   * that nothing outside [0, n) is written (guard zones), for sizes around
//     the vector width, misaligned pointers, in-place use and odd launch shapes;
//   * dparams: per-thread float partials summed per block in float, then added
//     block by block, like the kernel's block reduction + atomicAdd.
// What it cannot check: the device math library, warp shuffles, shared memory,
// atomics, real concurrency. act_test / add_act_test do that on a GPU.
#include <cstdlib>
#include <cstring>
#include <string>

#include "act_refs.h"
#include "activations.cuh"
#include "elementwise.cuh"

namespace {

// A host buffer with guard zones: [guard | offset | n elements | guard].
template <typename T>
struct GuardedBuf {
    static constexpr size_t kGuard = 64;
    T* base = nullptr;
    size_t total = 0;
    size_t n = 0, offset = 0;
    GuardedBuf(size_t count, size_t off) : n(count), offset(off) {
        total = kGuard + off + count + kGuard;
        const size_t bytes = ((total * sizeof(T) + 63) / 64) * 64;
        base = static_cast<T*>(std::aligned_alloc(64, bytes));
        unsigned char* raw = reinterpret_cast<unsigned char*>(base);
        for (size_t i = 0; i < bytes; ++i) raw[i] = 0xA5;  // sentinel pattern
    }
    ~GuardedBuf() { std::free(base); }
    GuardedBuf(const GuardedBuf&) = delete;
    GuardedBuf& operator=(const GuardedBuf&) = delete;
    T* data() { return base + kGuard + offset; }
    void fill(const std::vector<T>& v) { std::memcpy(data(), v.data(), v.size() * sizeof(T)); }
    std::vector<T> get() const {
        std::vector<T> out(n);
        std::memcpy(out.data(), base + kGuard + offset, n * sizeof(T));
        return out;
    }
    // True when every byte outside the n elements still holds the sentinel.
    bool guards_intact() const {
        const unsigned char* raw = reinterpret_cast<const unsigned char*>(base);
        const size_t lo = (kGuard + offset) * sizeof(T), hi = (kGuard + offset + n) * sizeof(T);
        for (size_t i = 0; i < total * sizeof(T); ++i)
            if ((i < lo || i >= hi) && raw[i] != 0xA5) return false;
        return true;
    }
};

struct Shape {
    int block = 256;
    int grid = 0;  // 0: the advised grid for an H100-sized device (132 SMs)
    size_t offset = 0;
    bool in_place = false;
    bool dparams = true;
};

int advised_grid(long long units, int block) {
    tst::Device dev;
    dev.sms = 132;
    return tst::grid_for(units, block, dev);
}

template <typename T, bool kAdd, typename Op>
void emulate_fwd(const T* a, const T* b, T* y, long long n, const Op& op, int grid, int block) {
    const long long stride = static_cast<long long>(grid) * block;
    for (long long t = 0; t < stride; ++t) activa::act_fwd_thread<T, kAdd>(a, b, y, n, op, t, stride);
}

template <typename T, bool kAdd, typename Op>
void emulate_bwd(const T* a, const T* b, const T* dy, T* dx, long long n, const Op& op, int grid, int block,
                 float* dparams) {
    const long long stride = static_cast<long long>(grid) * block;
    for (int blk = 0; blk < grid; ++blk) {
        float block_acc[3] = {0, 0, 0};
        for (int th = 0; th < block; ++th) {
            float acc[3] = {0, 0, 0};
            activa::act_bwd_thread<T, kAdd>(a, b, dy, dx, n, op, static_cast<long long>(blk) * block + th, stride,
                                            acc);
            for (int k = 0; k < 3; ++k) block_acc[k] += acc[k];
        }
        if (Op::kParams == 3 && dparams != nullptr)
            for (int k = 0; k < 3; ++k) dparams[k] += block_acc[k];
    }
}

struct Outputs {
    std::vector<unsigned char> y_bits, dx_bits;
};

template <typename T, bool kAdd, typename Op>
Outputs run_shape(const char* name, ref::Act act, const acttest::ParamSet& ps, const acttest::Data<T>& d,
                  const acttest::Refs& r, const Shape& s, check::Stats& fwd, check::Stats& bwd,
                  acttest::DparamStats& dst, check::Stats& guards) {
    (void)name;
    const size_t n = d.a.size();
    const long long nn = static_cast<long long>(n);
    constexpr int V = 16 / static_cast<int>(sizeof(T));
    const int grid = s.grid > 0 ? s.grid : advised_grid((nn + V - 1) / V, s.block);
    const Op op = Op::make(ps.w, ps.a, ps.b);
    GuardedBuf<T> A(n, s.offset), B(n, s.offset), DY(n, s.offset), Y(n, s.offset), DX(n, s.offset);
    A.fill(d.a);
    if (kAdd) B.fill(d.b);
    DY.fill(d.dy);
    T* y = s.in_place ? A.data() : Y.data();
    T* dx = s.in_place ? DY.data() : DX.data();

    emulate_fwd<T, kAdd>(A.data(), B.data(), y, nn, op, grid, s.block);
    const std::vector<T> y_got = s.in_place ? A.get() : Y.get();
    acttest::compare(fwd, y_got, r.y, r.y_tol, r.z);
    if (s.in_place) A.fill(d.a);

    float dp[3] = {0.5f, -0.25f, 2.0f};
    const float preset[3] = {0.5f, -0.25f, 2.0f};
    emulate_bwd<T, kAdd>(A.data(), B.data(), DY.data(), dx, nn, op, grid, s.block, s.dparams ? dp : nullptr);
    const std::vector<T> dx_got = s.in_place ? DY.get() : DX.get();
    acttest::compare(bwd, dx_got, r.dx, r.dx_tol, r.z);
    check::Stats* ds[3] = {&dst.dw, &dst.da, &dst.db};
    for (int k = 0; k < 3; ++k) {
        if (act == ref::Act::Nami && s.dparams)
            ds[k]->add(dp[k], preset[k] + r.dparams[k], r.dparams_tol[k], k);
        else
            ds[k]->add(dp[k], preset[k], 0.0, k);
    }
    const bool intact = A.guards_intact() && B.guards_intact() && DY.guards_intact() && Y.guards_intact() &&
                        DX.guards_intact();
    guards.add(intact ? 0.0 : 1.0, 0.0, 0.0);

    Outputs o;
    o.y_bits.resize(n * sizeof(T));
    o.dx_bits.resize(n * sizeof(T));
    if (n) {
        std::memcpy(o.y_bits.data(), y_got.data(), n * sizeof(T));
        std::memcpy(o.dx_bits.data(), dx_got.data(), n * sizeof(T));
    }
    return o;
}

template <typename T, bool kAdd, typename Op>
bool test_activation(const char* name, ref::Act act, const std::vector<float>& a, const std::vector<float>& b,
                     const std::vector<float>& dy) {
    const bool half = sizeof(T) == 2;
    std::vector<acttest::ParamSet> sets;
    if (act == ref::Act::Nami)
        sets.assign(std::begin(acttest::kNamiSets), std::end(acttest::kNamiSets));
    else
        sets.push_back(acttest::kIgnoredParams);
    bool ok = true;
    for (const acttest::ParamSet& ps : sets) {
        std::printf("-- emulated %s_%s_%s  [%s]\n", kAdd ? "add_act" : "act", name, tst::dtype_name<T>(), ps.label);
        check::Stats fwd("fwd  y", half), bwd("bwd  dx", half), guards("guard zones untouched"),
            same("vector path == scalar path (bits)");
        acttest::DparamStats dst("");
        // main size with the advised grid
        {
            const acttest::Data<T> d = acttest::make_data<T>(a, b, dy, a.size(), kAdd);
            run_shape<T, kAdd, Op>(name, act, ps, d, acttest::make_refs(act, ps, d, kAdd), Shape{}, fwd, bwd, dst,
                                   guards);
        }
        // sizes around the vector width
        for (size_t n : {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 1029}) {
            const acttest::Data<T> d = acttest::make_data<T>(a, b, dy, n, kAdd);
            run_shape<T, kAdd, Op>(name, act, ps, d, acttest::make_refs(act, ps, d, kAdd), Shape{}, fwd, bwd, dst,
                                   guards);
        }
        // shapes on 4099 elements; the aligned and misaligned runs must agree bit for bit
        const acttest::Data<T> d = acttest::make_data<T>(a, b, dy, 4099, kAdd);
        const acttest::Refs r = acttest::make_refs(act, ps, d, kAdd);
        Shape aligned, misaligned, in_place, odd, one_block, no_dp;
        misaligned.offset = 1;
        in_place.in_place = true;
        odd.block = 100;
        odd.grid = 3;
        one_block.block = 1024;
        one_block.grid = 1;
        no_dp.dparams = false;
        const Outputs o_vec = run_shape<T, kAdd, Op>(name, act, ps, d, r, aligned, fwd, bwd, dst, guards);
        const Outputs o_sca = run_shape<T, kAdd, Op>(name, act, ps, d, r, misaligned, fwd, bwd, dst, guards);
        for (const Shape& s : {in_place, odd, one_block, no_dp})
            run_shape<T, kAdd, Op>(name, act, ps, d, r, s, fwd, bwd, dst, guards);
        same.add(o_vec.y_bits == o_sca.y_bits ? 0.0 : 1.0, 0.0, 0.0);
        same.add(o_vec.dx_bits == o_sca.dx_bits ? 0.0 : 1.0, 0.0, 0.0);
        ok &= fwd.report();
        ok &= bwd.report();
        ok &= dst.report();
        ok &= guards.report();
        ok &= same.report();
    }
    return ok;
}

ref::Act act_of(const std::string& name) {
    for (ref::Act a : ref::kAllActs)
        if (name == ref::name(a)) return a;
    std::fprintf(stderr, "no reference for activation '%s'\n", name.c_str());
    std::exit(1);
}

// Casts and the plain add (Identity through the fused-add body).
bool test_casts_and_add() {
    bool ok = true;
    std::printf("-- emulated casts and add\n");
    std::vector<float> x = check::activation_inputs(5000, 3);
    const float specials[] = {65504.f, 65519.f, 65520.f, -65520.f, 1e5f, 6e-8f, 3e-8f, 2.9e-8f, 1e-10f, -0.f,
                              INFINITY, -INFINITY, NAN, 2049.f, 2051.f, 0.1f};
    for (size_t i = 0; i < sizeof(specials) / sizeof(float); ++i) x[i] = specials[i];
    check::Stats c16("cast f32->f16 (bit-exact)"), c32("cast f16->f32 (exact)"), add32("add f32"),
        add16("add f16", true), guards("guard zones untouched");
    for (size_t n : {0, 1, 3, 4, 5, 7, 8, 9, 4099})
        for (size_t off : {0, 1, 2})
            for (int grid : {0, 3}) {
                const int block = grid ? 100 : 256;
                const int g = grid ? grid : advised_grid((static_cast<long long>(n) + 3) / 4, block);
                const long long stride = static_cast<long long>(g) * block;
                GuardedBuf<float> src(n, off), back(n, off);
                GuardedBuf<__half> h(n, off);
                src.fill(std::vector<float>(x.begin(), x.begin() + n));
                for (long long t = 0; t < stride; ++t)
                    activa::cast_thread(src.data(), h.data(), static_cast<long long>(n), t, stride);
                for (long long t = 0; t < stride; ++t)
                    activa::cast_thread(static_cast<const __half*>(h.data()), back.data(), static_cast<long long>(n),
                                        t, stride);
                const std::vector<__half> hv = h.get();
                const std::vector<float> bv = back.get();
                for (size_t i = 0; i < n; ++i) {
                    const double expect = ref::round_half(x[i]);
                    c16.add(tst::to_double(hv[i]), expect, 0.0, static_cast<long long>(i), x[i]);
                    c32.add(bv[i], tst::to_double(hv[i]), 0.0, static_cast<long long>(i), x[i]);
                }
                // add: y = a + b in both types
                GuardedBuf<float> a32(n, off), b32(n, off), y32(n, off);
                GuardedBuf<__half> a16(n, off), b16(n, off), y16(n, off);
                std::vector<float> av(x.begin(), x.begin() + n), bv2(n);
                for (size_t i = 0; i < n; ++i) bv2[i] = 0.5f * x[(i * 7 + 1) % x.size()];
                a32.fill(av);
                b32.fill(bv2);
                a16.fill(tst::convert<__half>(av));
                b16.fill(tst::convert<__half>(bv2));
                for (long long t = 0; t < stride; ++t) {
                    activa::act_fwd_thread<float, true>(a32.data(), b32.data(), y32.data(), static_cast<long long>(n),
                                                        activa::Identity{}, t, stride);
                    activa::act_fwd_thread<__half, true>(a16.data(), b16.data(), y16.data(),
                                                         static_cast<long long>(n), activa::Identity{}, t, stride);
                }
                const std::vector<float> s32 = y32.get();
                const std::vector<__half> s16 = y16.get();
                const std::vector<__half> ah = tst::convert<__half>(av), bh = tst::convert<__half>(bv2);
                for (size_t i = 0; i < n; ++i) {
                    const double e32 = static_cast<double>(av[i]) + bv2[i];
                    add32.add(s32[i], ref::round_float(e32), 0.0, static_cast<long long>(i), av[i]);
                    const double e16 = tst::to_double(ah[i]) + tst::to_double(bh[i]);
                    // float sum of two halves, rounded once to half: within one half ulp of the exact sum
                    add16.add(tst::to_double(s16[i]), ref::round_half(e16), ref::half_ulp(e16),
                              static_cast<long long>(i), av[i]);
                }
                const bool intact = src.guards_intact() && back.guards_intact() && h.guards_intact() &&
                                    a32.guards_intact() && b32.guards_intact() && y32.guards_intact() &&
                                    a16.guards_intact() && b16.guards_intact() && y16.guards_intact();
                guards.add(intact ? 0.0 : 1.0, 0.0, 0.0);
            }
    ok &= c16.report();
    ok &= c32.report();
    ok &= add32.report();
    ok &= add16.report();
    ok &= guards.report();
    return ok;
}

}  // namespace

int main() {
    const size_t n = (1u << 16) + 3;  // the main size (the GPU tests use 2^20 + 3)
    std::vector<float> a, b, dy;
    bool ok = true;
    for (bool add : {false, true}) {
        acttest::make_inputs(n, add, a, b, dy);
#define EMU_ACT(NAME, OP)                                                                      \
    if (add) {                                                                                 \
        ok &= test_activation<float, true, OP>(#NAME, act_of(#NAME), a, b, dy);                \
        ok &= test_activation<__half, true, OP>(#NAME, act_of(#NAME), a, b, dy);               \
    } else {                                                                                   \
        ok &= test_activation<float, false, OP>(#NAME, act_of(#NAME), a, b, dy);               \
        ok &= test_activation<__half, false, OP>(#NAME, act_of(#NAME), a, b, dy);              \
    }
        ACTIVA_FOR_EACH_ACTIVATION(EMU_ACT)
#undef EMU_ACT
    }
    ok &= test_casts_and_add();
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
