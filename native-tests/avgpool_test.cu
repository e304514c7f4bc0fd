// activa_global_avgpool_{fwd,bwd}_{f32,f16}: NHWC global average pooling,
// x [n][hw][c] -> y [n][c] and back (dx[n][i][c] = dy[n][c] / hw), against an
// FP64 reference, for several shapes (hw = 1, c = 1, odd sizes), with the
// advised grid and with a small odd grid (grid-stride). Then timing for a
// ResNet-50 head shape.
#include <string>

#include "check.h"
#include "cuda_common.h"
#include "reference.h"
#include "training_kernels.cu"

namespace {

constexpr double kEps = 0x1p-24;

template <typename T>
struct PoolKernels;
template <>
struct PoolKernels<float> {
    static constexpr auto fwd = activa_global_avgpool_fwd_f32;
    static constexpr auto bwd = activa_global_avgpool_bwd_f32;
};
template <>
struct PoolKernels<__half> {
    static constexpr auto fwd = activa_global_avgpool_fwd_f16;
    static constexpr auto bwd = activa_global_avgpool_bwd_f16;
};

struct Shape {
    int n, hw, c;
};

template <typename T>
bool test_shape(const Shape& s, bool odd_launch, check::Rng& rng, const tst::Device& dev) {
    const bool half = sizeof(T) == 2;
    const size_t nx = static_cast<size_t>(s.n) * s.hw * s.c, ny = static_cast<size_t>(s.n) * s.c;
    const int block = odd_launch ? 100 : 256;
    const int gf = odd_launch ? 3 : tst::grid_for(static_cast<long long>(ny), block, dev);
    const int gb = odd_launch ? 3 : tst::grid_for(static_cast<long long>(nx), block, dev);
    std::printf("-- avgpool %s n=%d hw=%d c=%d block=%d grids=%d/%d\n", tst::dtype_name<T>(), s.n, s.hw, s.c, block, gf,
                gb);
    std::vector<float> xf(nx), dyf(ny);
    for (auto& v : xf) v = static_cast<float>(rng.uniform(-4, 4));
    for (auto& v : dyf) v = static_cast<float>(rng.uniform(-1, 1));
    const std::vector<T> x = tst::convert<T>(xf), dy = tst::convert<T>(dyf);

    tst::DevBuf<T> d_x(nx), d_y(ny), d_dy(ny), d_dx(nx);
    tst::upload(d_x.p, x);
    tst::upload(d_dy.p, dy);
    PoolKernels<T>::fwd<<<gf, block>>>(d_x.p, d_y.p, s.n, s.hw, s.c);
    CUDA_CHECK_LAUNCH();
    PoolKernels<T>::bwd<<<gb, block>>>(d_dy.p, d_dx.p, s.n, s.hw, s.c);
    CUDA_CHECK_LAUNCH();
    const std::vector<T> y = tst::download(d_y.p, ny), dx = tst::download(d_dx.p, nx);

    check::Stats st_f("fwd y", half), st_b("bwd dx", half);
    for (int b = 0; b < s.n; ++b)
        for (int ch = 0; ch < s.c; ++ch) {
            double sum = 0, abs_sum = 0;
            for (int i = 0; i < s.hw; ++i) {
                const double v = tst::to_double(x[(static_cast<size_t>(b) * s.hw + i) * s.c + ch]);
                sum += v;
                abs_sum += std::fabs(v);
            }
            const double want = sum / s.hw;
            // sequential float sum of hw terms, then one multiply by 1/hw
            const double tol32 = kEps * (s.hw + 2) * abs_sum / s.hw + 2 * kEps * std::fabs(want);
            const size_t o = static_cast<size_t>(b) * s.c + ch;
            const double g = tst::to_double(y[o]);
            if (half)
                st_f.add(g, ref::round_half(want), ref::half_ulp(want) + tol32, static_cast<long long>(o));
            else
                st_f.add(g, want, tol32, static_cast<long long>(o));
            const double dwant = tst::to_double(dy[o]) / s.hw;
            const double dtol32 = 2 * kEps * std::fabs(dwant);  // 1/hw rounded, then the product
            for (int i = 0; i < s.hw; ++i) {
                const size_t k = (static_cast<size_t>(b) * s.hw + i) * s.c + ch;
                const double gd = tst::to_double(dx[k]);
                if (half)
                    st_b.add(gd, ref::round_half(dwant), ref::half_ulp(dwant) + dtol32, static_cast<long long>(k));
                else
                    st_b.add(gd, dwant, dtol32, static_cast<long long>(k));
            }
        }
    bool ok = st_f.report();
    ok &= st_b.report();
    return ok;
}

template <typename T>
void bench(const Shape& s, tst::CopyBench& copy, const tst::Device& dev) {
    const long long nx = static_cast<long long>(s.n) * s.hw * s.c, ny = static_cast<long long>(s.n) * s.c;
    tst::DevBuf<T> x(nx), y(ny), dy(ny), dx(nx);
    tst::fill_uniform(x.p, nx, -1.0f, 1.0f, 5u, dev);
    tst::fill_uniform(dy.p, ny, -1.0f, 1.0f, 6u, dev);
    const std::string tag = std::string(tst::dtype_name<T>()) + " " + std::to_string(s.n) + "x" +
                            std::to_string(s.hw) + "x" + std::to_string(s.c);
    const size_t bytes = (nx + ny) * sizeof(T);  // fwd reads x, writes y; bwd reads dy, writes dx
    const float ms_f = tst::time_ms(
        [&] { PoolKernels<T>::fwd<<<tst::grid_for(ny, 256, dev), 256>>>(x.p, y.p, s.n, s.hw, s.c); }, 20);
    tst::report_bandwidth(("avgpool fwd " + tag).c_str(), nx, bytes, ms_f, copy.gbps(bytes, 20));
    const float ms_b = tst::time_ms(
        [&] { PoolKernels<T>::bwd<<<tst::grid_for(nx, 256, dev), 256>>>(dy.p, dx.p, s.n, s.hw, s.c); }, 20);
    tst::report_bandwidth(("avgpool bwd " + tag).c_str(), nx, bytes, ms_b, copy.gbps(bytes, 20));
}

}  // namespace

int main() {
    const tst::Device dev = tst::init_device_or_skip();
    const Shape shapes[] = {{4, 16, 512}, {2, 49, 2048}, {3, 1, 7}, {5, 64, 3}, {1, 1, 1}, {8, 7, 33}, {2, 1024, 5}};
    check::Rng rng(99);
    bool ok = true;
    for (const Shape& s : shapes)
        for (bool odd : {false, true}) {
            ok &= test_shape<float>(s, odd, rng, dev);
            ok &= test_shape<__half>(s, odd, rng, dev);
        }
    std::printf("== bandwidth ==\n");
    {
        const Shape big{256, 49, 2048};  // ResNet-50 head at batch 256
        tst::CopyBench copy(size_t(1) << 30);
        bench<float>(big, copy, dev);
        bench<__half>(big, copy, dev);
    }
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
