// Activa native tests: the harness behind act_test (activa_act_*) and
// add_act_test (activa_add_act_*). kAdd selects which kernel family is tested;
// for kAdd the activation input is z = a_in + b_in.
//
// For every activation and both storage types:
//   * correctness against the FP64 reference (reference.h) on 2^20 + 3 inputs
//     (special points first: +-100, +-80, 0, -0, values around 0, ...), for
//     Nami with three parameter sets, including dparams accumulation;
//   * variants on small inputs: sizes around the vector width (tail handling),
//     misaligned pointers (scalar path), in-place operation, unusual launch
//     configurations (block 100 with a partial warp, one block of 1024), and
//     dparams == NULL;
//   * timing over 2^26 elements next to a D2D cudaMemcpy moving the same bytes.
#pragma once

#include "activation_kernels.cu"  // the kernels under test, compiled into this program
#include "act_refs.h"
#include "check.h"
#include "cuda_common.h"

namespace acttest {

template <typename T>
struct Kernels {
    void (*fwd)(const T*, T*, long long, float, float, float);
    void (*bwd)(const T*, const T*, T*, long long, float, float, float, float*);
    void (*add_fwd)(const T*, const T*, T*, long long, float, float, float);
    void (*add_bwd)(const T*, const T*, const T*, T*, long long, float, float, float, float*);
};

struct Entry {
    const char* name;
    ref::Act act;
    Kernels<float> f32;
    Kernels<__half> f16;
};

#define ACTTEST_KERNELS(NAME, DT)                                                                    \
    {activa_act_fwd_##NAME##_##DT, activa_act_bwd_##NAME##_##DT, activa_add_act_fwd_##NAME##_##DT, \
     activa_add_act_bwd_##NAME##_##DT}
#define ACTTEST_ENTRY(NAME, ACT) {#NAME, ref::Act::ACT, ACTTEST_KERNELS(NAME, f32), ACTTEST_KERNELS(NAME, f16)}

inline const Entry kEntries[] = {ACTTEST_ENTRY(relu, Relu),   ACTTEST_ENTRY(elu, Elu),
                                 ACTTEST_ENTRY(swish, Swish), ACTTEST_ENTRY(mish, Mish),
                                 ACTTEST_ENTRY(tanhrelu, TanhRelu), ACTTEST_ENTRY(nami, Nami)};

template <typename T>
const Kernels<T>& kernels_of(const Entry& e);
template <>
inline const Kernels<float>& kernels_of<float>(const Entry& e) { return e.f32; }
template <>
inline const Kernels<__half>& kernels_of<__half>(const Entry& e) { return e.f16; }

// Runs forward and backward once on the GPU and folds the comparison into st.
template <typename T, bool kAdd>
void run_case(const Entry& e, const ParamSet& ps, const Data<T>& d, const Refs& r, const Launch& L,
              DparamStats& st, check::Stats& fwd_st, check::Stats& bwd_st, const tst::Device& dev) {
    const Kernels<T>& k = kernels_of<T>(e);
    const size_t n = d.a.size();
    const long long nn = static_cast<long long>(n);
    constexpr int V = 16 / static_cast<int>(sizeof(T));
    const int grid = L.grid > 0 ? L.grid : tst::grid_for((nn + V - 1) / V, L.block, dev);
    const bool is_nami = e.act == ref::Act::Nami;

    tst::DevBuf<T> A(n, 8), B(n, 8), DY(n, 8), Y(n, 8), DX(n, 8);
    tst::DevBuf<float> DP(3);
    T* a_p = A.p + L.offset;
    T* b_p = B.p + L.offset;
    T* dy_p = DY.p + L.offset;
    T* y_p = L.in_place ? a_p : Y.p + L.offset;
    T* dx_p = L.in_place ? dy_p : DX.p + L.offset;
    if (n > 0) {
        tst::upload(a_p, d.a);
        if (kAdd) tst::upload(b_p, d.b);
        tst::upload(dy_p, d.dy);
    }

    // forward
    if constexpr (kAdd)
        k.add_fwd<<<grid, L.block>>>(a_p, b_p, y_p, nn, ps.w, ps.a, ps.b);
    else
        k.fwd<<<grid, L.block>>>(a_p, y_p, nn, ps.w, ps.a, ps.b);
    CUDA_CHECK_LAUNCH();
    compare(fwd_st, tst::download(y_p, n), r.y, r.y_tol, r.z);
    if (L.in_place && n > 0) tst::upload(a_p, d.a);  // the forward pass overwrote it

    // backward
    const std::vector<float> preset = {0.5f, -0.25f, 2.0f};
    tst::upload(DP.p, preset);
    float* dp = L.dparams ? DP.p : nullptr;
    if constexpr (kAdd)
        k.add_bwd<<<grid, L.block>>>(a_p, b_p, dy_p, dx_p, nn, ps.w, ps.a, ps.b, dp);
    else
        k.bwd<<<grid, L.block>>>(a_p, dy_p, dx_p, nn, ps.w, ps.a, ps.b, dp);
    CUDA_CHECK_LAUNCH();
    compare(bwd_st, tst::download(dx_p, n), r.dx, r.dx_tol, r.z);

    const std::vector<float> got = tst::download(DP.p, 3);
    check::Stats* dst[3] = {&st.dw, &st.da, &st.db};
    for (int j = 0; j < 3; ++j) {
        if (is_nami && L.dparams)  // accumulated onto the preset
            dst[j]->add(got[j], preset[j] + r.dparams[j], r.dparams_tol[j], j);
        else  // not touched
            dst[j]->add(got[j], preset[j], 0.0, j);
    }
}

// Correctness of one activation in one storage type. Returns true when all pass.
template <typename T, bool kAdd>
bool test_correctness(const Entry& e, const std::vector<float>& a, const std::vector<float>& b,
                      const std::vector<float>& dy, const tst::Device& dev) {
    const std::string dt = tst::dtype_name<T>();
    const bool is_nami = e.act == ref::Act::Nami;
    const std::string fam = kAdd ? "add_act" : "act";
    bool ok = true;
    std::vector<ParamSet> sets;
    if (is_nami)
        sets.assign(std::begin(kNamiSets), std::end(kNamiSets));
    else
        sets.push_back(kIgnoredParams);
    const bool half = sizeof(T) == 2;

    for (const ParamSet& ps : sets) {
        std::printf("-- %s_%s_%s  [%s]\n", fam.c_str(), e.name, dt.c_str(), ps.label);
        // main case
        {
            const Data<T> d = make_data<T>(a, b, dy, a.size(), kAdd);
            const Refs r = make_refs(e.act, ps, d, kAdd);
            DparamStats st("main");
            check::Stats fwd("main fwd  y", half), bwd("main bwd  dx", half);
            run_case<T, kAdd>(e, ps, d, r, Launch{}, st, fwd, bwd, dev);
            ok &= fwd.report();
            ok &= bwd.report();
            ok &= st.report();
        }
        // variants
        {
            DparamStats st("variants");
            check::Stats fwd("variants fwd  y", half), bwd("variants bwd  dx", half);
            const size_t sizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 1029};
            for (size_t n : sizes) {
                const Data<T> d = make_data<T>(a, b, dy, n, kAdd);
                run_case<T, kAdd>(e, ps, d, make_refs(e.act, ps, d, kAdd), Launch{}, st, fwd, bwd, dev);
            }
            const Data<T> d = make_data<T>(a, b, dy, 4099, kAdd);
            const Refs r = make_refs(e.act, ps, d, kAdd);
            Launch misaligned;
            misaligned.offset = 1;
            Launch in_place;
            in_place.in_place = true;
            Launch odd;  // partial last warp, many grid-stride iterations
            odd.block = 100;
            odd.grid = 3;
            Launch one_block;
            one_block.block = 1024;
            one_block.grid = 1;
            Launch no_dparams;
            no_dparams.dparams = false;
            for (const Launch& L : {misaligned, in_place, odd, one_block, no_dparams})
                run_case<T, kAdd>(e, ps, d, r, L, st, fwd, bwd, dev);
            ok &= fwd.report();
            ok &= bwd.report();
            ok &= st.report();
        }
    }
    return ok;
}

// Timing over n elements for one activation in one storage type.
template <typename T, bool kAdd>
void bench(const Entry& e, long long n, T* a, T* b, T* dy, T* out, float* dparams, tst::CopyBench& copy,
           const tst::Device& dev) {
    const Kernels<T>& k = kernels_of<T>(e);
    const ParamSet ps = e.act == ref::Act::Nami ? kNamiSets[0] : kIgnoredParams;
    constexpr int V = 16 / static_cast<int>(sizeof(T));
    const int block = 256;
    const int grid = tst::grid_for((n + V - 1) / V, block, dev);
    const size_t es = sizeof(T);
    const int reps = 10;
    float* dp = e.act == ref::Act::Nami ? dparams : nullptr;
    const std::string base = std::string(kAdd ? "add_act_" : "act_") + e.name + "_" + tst::dtype_name<T>();

    // forward: reads the input(s), writes y
    const size_t fwd_bytes = (kAdd ? 3 : 2) * es * n;
    const float ms_f = tst::time_ms(
        [&] {
            if constexpr (kAdd)
                k.add_fwd<<<grid, block>>>(a, b, out, n, ps.w, ps.a, ps.b);
            else
                k.fwd<<<grid, block>>>(a, out, n, ps.w, ps.a, ps.b);
        },
        reps);
    tst::report_bandwidth((base + " fwd").c_str(), n, fwd_bytes, ms_f, copy.gbps(fwd_bytes, reps));

    // backward: reads the input(s) and dy, writes dx
    const size_t bwd_bytes = (kAdd ? 4 : 3) * es * n;
    const float ms_b = tst::time_ms(
        [&] {
            if constexpr (kAdd)
                k.add_bwd<<<grid, block>>>(a, b, dy, out, n, ps.w, ps.a, ps.b, dp);
            else
                k.bwd<<<grid, block>>>(a, dy, out, n, ps.w, ps.a, ps.b, dp);
        },
        reps);
    tst::report_bandwidth((base + " bwd").c_str(), n, bwd_bytes, ms_b, copy.gbps(bwd_bytes, reps));
}

template <typename T, bool kAdd>
void bench_all(long long n, const tst::Device& dev) {
    tst::DevBuf<T> a(n), b(n), dy(n), out(n);
    tst::DevBuf<float> dparams(3);
    CUDA_CHECK(cudaMemset(dparams.p, 0, 3 * sizeof(float)));
    tst::fill_uniform(a.p, n, -10.0f, 10.0f, 1u, dev);
    tst::fill_uniform(b.p, n, -1.0f, 1.0f, 2u, dev);
    tst::fill_uniform(dy.p, n, -1.0f, 1.0f, 3u, dev);
    tst::CopyBench copy((kAdd ? 4 : 3) * sizeof(T) * n);
    for (const Entry& e : kEntries) bench<T, kAdd>(e, n, a.p, b.p, dy.p, out.p, dparams.p, copy, dev);
}

// The whole program: correctness, then timing. Exit code 0 / 1 / 77 (skip).
template <bool kAdd>
int run_all() {
    const tst::Device dev = tst::init_device_or_skip();
    const size_t n = (1u << 20) + 3;
    std::vector<float> a, b, dy;
    make_inputs(n, kAdd, a, b, dy);
    bool ok = true;
    std::printf("== correctness (%s kernels) ==\n", kAdd ? "activa_add_act_*" : "activa_act_*");
    for (const Entry& e : kEntries) {
        ok &= test_correctness<float, kAdd>(e, a, b, dy, dev);
        ok &= test_correctness<__half, kAdd>(e, a, b, dy, dev);
    }
    std::printf("== bandwidth over 2^26 elements (GB/s = 1e9 bytes/s; bytes = inputs read + outputs written) ==\n");
    const long long nb = 1LL << 26;
    bench_all<float, kAdd>(nb, dev);
    bench_all<__half, kAdd>(nb, dev);
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

}  // namespace acttest
