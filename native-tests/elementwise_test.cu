// activa_add_{f32,f16}, activa_scale_copy_{f32,f16}: bit-exact against plain
// C++ (add: one float addition; scale: one float multiply; each rounded once to
// FP16 for f16), over sizes around the vector width, misaligned pointers,
// in-place use (y = a, y = x) and an odd launch shape. Then timing over 2^26
// elements.
#include "check.h"
#include "cuda_common.h"
#include "reference.h"
#include "tensor_kernels.cu"
#include "training_kernels.cu"

namespace {

template <typename T>
void launch_add(const T* a, const T* b, T* y, long long n, int grid, int block);
template <>
void launch_add<float>(const float* a, const float* b, float* y, long long n, int grid, int block) {
    activa_add_f32<<<grid, block>>>(a, b, y, n);
}
template <>
void launch_add<__half>(const __half* a, const __half* b, __half* y, long long n, int grid, int block) {
    activa_add_f16<<<grid, block>>>(a, b, y, n);
}

template <typename T>
void test_add(const std::vector<float>& af, const std::vector<float>& bf, size_t offset, bool in_place, int block,
              int grid_override, check::Stats& st, const tst::Device& dev) {
    const size_t n = af.size();
    const std::vector<T> a = tst::convert<T>(af), b = tst::convert<T>(bf);
    tst::DevBuf<T> d_a(n, 8), d_b(n, 8), d_y(n, 8);
    T* pa = d_a.p + offset;
    T* pb = d_b.p + offset;
    T* py = in_place ? pa : d_y.p + offset;
    tst::upload(pa, a);
    tst::upload(pb, b);
    constexpr int V = 16 / static_cast<int>(sizeof(T));
    const int grid = grid_override ? grid_override : tst::grid_for((static_cast<long long>(n) + V - 1) / V, block, dev);
    launch_add<T>(pa, pb, py, static_cast<long long>(n), grid, block);
    CUDA_CHECK_LAUNCH();
    const std::vector<T> y = tst::download(py, n);
    for (size_t i = 0; i < n; ++i) {
        // one float addition of the two stored values, then (f16) one rounding
        const double s = ref::round_float(tst::to_double(a[i]) + tst::to_double(b[i]));
        const double want = sizeof(T) == 2 ? ref::round_half(s) : s;
        st.add(tst::to_double(y[i]), want, 0.0, static_cast<long long>(i), af[i]);
    }
}

template <typename T>
void launch_scale_copy(const T* x, T* y, long long n, float s, int grid);
template <>
void launch_scale_copy<float>(const float* x, float* y, long long n, float s, int grid) {
    activa_scale_copy_f32<<<grid, 256>>>(x, y, n, s);
}
template <>
void launch_scale_copy<__half>(const __half* x, __half* y, long long n, float s, int grid) {
    activa_scale_copy_f16<<<grid, 256>>>(x, y, n, s);
}

template <typename T>
void test_scale_copy(const std::vector<float>& xf, size_t offset, bool in_place, check::Stats& st,
                     const tst::Device& dev) {
    const size_t n = xf.size();
    const std::vector<T> x = tst::convert<T>(xf);
    tst::DevBuf<T> d_x(n, 8), d_y(n, 8);
    T* px = d_x.p + offset;
    T* py = in_place ? px : d_y.p + offset;
    tst::upload(px, x);
    const float s = 0.37f;
    launch_scale_copy<T>(px, py, static_cast<long long>(n), s, tst::grid_for(static_cast<long long>(n), 256, dev));
    CUDA_CHECK_LAUNCH();
    const std::vector<T> y = tst::download(py, n);
    for (size_t i = 0; i < n; ++i) {
        // one float multiply of the stored value, then (f16) one rounding
        const double p = ref::round_float(tst::to_double(x[i]) * s);
        const double want = sizeof(T) == 2 ? ref::round_half(p) : p;
        st.add(tst::to_double(y[i]), want, 0.0, static_cast<long long>(i), xf[i]);
    }
}

}  // namespace

int main() {
    const tst::Device dev = tst::init_device_or_skip();
    bool ok = true;
    check::Rng rng(17);
    const size_t n = (1u << 20) + 7;
    std::vector<float> a(n), b(n);
    for (size_t i = 0; i < n; ++i) {
        a[i] = static_cast<float>(rng.uniform(-1000, 1000) * std::pow(2.0, -rng.below(20)));
        b[i] = static_cast<float>(rng.uniform(-1000, 1000) * std::pow(2.0, -rng.below(20)));
    }
    a[0] = 60000.f, b[0] = 10000.f;  // f16 overflow -> inf
    a[1] = INFINITY, b[1] = -INFINITY;  // NaN
    a[2] = -0.f, b[2] = -0.f;

    std::printf("-- add\n");
    check::Stats s32("add f32 bit-exact"), s16("add f16 bit-exact");
    auto prefix = [&](const std::vector<float>& v, size_t k) { return std::vector<float>(v.begin(), v.begin() + k); };
    test_add<float>(a, b, 0, false, 256, 0, s32, dev);
    test_add<__half>(a, b, 0, false, 256, 0, s16, dev);
    for (size_t k : {0, 1, 3, 4, 5, 7, 8, 9, 17, 1029})
        for (size_t off : {0, 1}) {
            test_add<float>(prefix(a, k), prefix(b, k), off, false, 256, 0, s32, dev);
            test_add<__half>(prefix(a, k), prefix(b, k), off, false, 256, 0, s16, dev);
        }
    test_add<float>(prefix(a, 4099), prefix(b, 4099), 0, true, 256, 0, s32, dev);
    test_add<__half>(prefix(a, 4099), prefix(b, 4099), 0, true, 256, 0, s16, dev);
    test_add<float>(prefix(a, 4099), prefix(b, 4099), 0, false, 100, 3, s32, dev);
    test_add<__half>(prefix(a, 4099), prefix(b, 4099), 0, false, 100, 3, s16, dev);
    ok &= s32.report();
    ok &= s16.report();

    std::printf("-- scale_copy\n");
    {
        check::Stats c32("scale_copy f32 bit-exact"), c16("scale_copy f16 bit-exact");
        for (size_t k : {size_t(0), size_t(1), size_t(5), size_t(4099), n})
            for (size_t off : {0, 1})
                for (bool in_place : {false, true}) {
                    test_scale_copy<float>(prefix(a, k), off, in_place, c32, dev);
                    test_scale_copy<__half>(prefix(a, k), off, in_place, c16, dev);
                }
        ok &= c32.report();
        ok &= c16.report();
    }

    std::printf("== bandwidth over 2^26 elements ==\n");
    {
        const long long nb = 1LL << 26;
        tst::DevBuf<float> x(nb), y(nb), z(nb);
        tst::DevBuf<__half> hx(nb), hy(nb), hz(nb);
        tst::fill_uniform(x.p, nb, -1.0f, 1.0f, 1u, dev);
        tst::fill_uniform(y.p, nb, -1.0f, 1.0f, 2u, dev);
        tst::fill_uniform(hx.p, nb, -1.0f, 1.0f, 3u, dev);
        tst::fill_uniform(hy.p, nb, -1.0f, 1.0f, 4u, dev);
        tst::CopyBench copy(12 * nb);
        const size_t b32 = 12 * static_cast<size_t>(nb), b16 = 6 * static_cast<size_t>(nb);
        const float ms1 = tst::time_ms(
            [&] { activa_add_f32<<<tst::grid_for(nb / 4, 256, dev), 256>>>(x.p, y.p, z.p, nb); }, 20);
        tst::report_bandwidth("add_f32", nb, b32, ms1, copy.gbps(b32, 20));
        const float ms2 = tst::time_ms(
            [&] { activa_add_f16<<<tst::grid_for(nb / 8, 256, dev), 256>>>(hx.p, hy.p, hz.p, nb); }, 20);
        tst::report_bandwidth("add_f16", nb, b16, ms2, copy.gbps(b16, 20));
        const size_t bs32 = 8 * static_cast<size_t>(nb), bs16 = 4 * static_cast<size_t>(nb);
        const float ms3 =
            tst::time_ms([&] { activa_scale_copy_f32<<<tst::grid_for(nb, 256, dev), 256>>>(x.p, z.p, nb, 0.5f); }, 20);
        tst::report_bandwidth("scale_copy_f32", nb, bs32, ms3, copy.gbps(bs32, 20));
        const float ms4 =
            tst::time_ms([&] { activa_scale_copy_f16<<<tst::grid_for(nb, 256, dev), 256>>>(hx.p, hz.p, nb, 0.5f); }, 20);
        tst::report_bandwidth("scale_copy_f16", nb, bs16, ms4, copy.gbps(bs16, 20));
    }
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
