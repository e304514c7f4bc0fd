// activa_cast_f32_f16 / activa_cast_f16_f32: bit-exact against a plain C++
// round-to-nearest-even (reference.h), over every one of the 65536 FP16 bit
// patterns (f16 -> f32) and over random FP32 bit patterns plus special values
// (overflow to inf at 65520, subnormals, ties, NaN, -0) for f32 -> f16; sizes
// around the 4-element vector width and misaligned pointers (scalar path).
// Then timing over 2^26 elements next to a D2D cudaMemcpy.
#include <cstring>

#include "check.h"
#include "cuda_common.h"
#include "reference.h"
#include "training_kernels.cu"

namespace {

float bits_to_float(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// expected FP16 of x, as the double it represents (NaN stays NaN)
double expected_half(float x) { return ref::round_half(static_cast<double>(x)); }

bool run(const std::vector<float>& src, size_t offset, int block, int grid_override, check::Stats& st16,
         check::Stats& st32, check::Stats& signs, const tst::Device& dev) {
    const size_t n = src.size();
    tst::DevBuf<float> d_f(n, 8), d_back(n, 8);
    tst::DevBuf<__half> d_h(n, 8);
    float* f = d_f.p + offset;
    float* back = d_back.p + offset;
    __half* h = d_h.p + offset;
    tst::upload(f, src);
    const int grid = grid_override ? grid_override : tst::grid_for((static_cast<long long>(n) + 3) / 4, block, dev);
    activa_cast_f32_f16<<<grid, block>>>(f, h, static_cast<long long>(n));
    CUDA_CHECK_LAUNCH();
    activa_cast_f16_f32<<<grid, block>>>(h, back, static_cast<long long>(n));
    CUDA_CHECK_LAUNCH();
    const std::vector<__half> hv = tst::download(h, n);
    const std::vector<float> bv = tst::download(back, n);
    for (size_t i = 0; i < n; ++i) {
        const double want = expected_half(src[i]);
        const double got = tst::to_double(hv[i]);
        st16.add(got, want, 0.0, static_cast<long long>(i), src[i]);
        // the sign of a zero must survive (-0 stays -0; underflow keeps the sign)
        if (got == 0.0) signs.add(std::signbit(got) == std::signbit(src[i]) ? 0 : 1, 0, 0, static_cast<long long>(i));
        st32.add(bv[i], got, 0.0, static_cast<long long>(i));
    }
    return true;
}

}  // namespace

int main() {
    const tst::Device dev = tst::init_device_or_skip();
    bool ok = true;

    // f16 -> f32 over all 65536 bit patterns, bit-exact (NaNs: any NaN)
    {
        std::printf("-- cast f16 -> f32, all 65536 FP16 values\n");
        std::vector<__half> all(65536);
        for (uint32_t u = 0; u < 65536; ++u) {
            const uint16_t b = static_cast<uint16_t>(u);
            std::memcpy(&all[u], &b, 2);
        }
        tst::DevBuf<__half> d_h(65536);
        tst::DevBuf<float> d_f(65536);
        tst::upload(d_h.p, all);
        activa_cast_f16_f32<<<tst::grid_for(65536 / 4, 256, dev), 256>>>(d_h.p, d_f.p, 65536);
        CUDA_CHECK_LAUNCH();
        const std::vector<float> f = tst::download(d_f.p, 65536);
        check::Stats st("f16->f32 exact");
        for (uint32_t u = 0; u < 65536; ++u) {
            // plain C++ decoding of binary16: sign, 5-bit exponent, 10-bit mantissa
            const int sign = (u >> 15) & 1, e = (u >> 10) & 31, m = u & 1023;
            double v;
            if (e == 31) v = m ? NAN : INFINITY;
            else if (e == 0) v = std::ldexp(m, -24);
            else v = std::ldexp(1024 + m, e - 25);
            if (sign) v = -v;
            st.add(f[u], v, 0.0, u);
            if (v == 0.0 && std::signbit(f[u]) != static_cast<bool>(sign)) st.add(1, 0, 0, u);  // -0 must stay -0
        }
        ok &= st.report();
    }

    // f32 -> f16 (and back) on random bit patterns + specials, several sizes/offsets
    {
        std::printf("-- cast f32 -> f16 -> f32, random bit patterns and special values\n");
        check::Rng rng(5);
        const size_t n = (1u << 20) + 5;
        std::vector<float> src(n);
        const float specials[] = {0.f, -0.f, 1.f, -1.f, 65504.f, 65519.99f, 65520.f, -65520.f, 65536.f, 1e30f,
                                  INFINITY, -INFINITY, NAN, 6.1035156e-05f /*2^-14*/, 6.0975552e-05f /*below*/,
                                  5.9604645e-08f /*2^-24*/, 2.9802322e-08f /*2^-25: tie -> 0*/,
                                  2.9802326e-08f /*just above the tie -> 2^-24*/, 8.940697e-08f /*1.5 * 2^-24 tie*/,
                                  -1e-10f, 2049.f /*tie -> 2048*/, 2051.f /*tie -> 2052*/, 0.1f, 3.14159265f};
        size_t k = 0;
        for (float s : specials) src[k++] = s;
        for (; k < n; ++k) {
            if (k % 2) src[k] = bits_to_float(static_cast<uint32_t>(rng.next()));            // any float
            else src[k] = static_cast<float>(rng.uniform(-70000.0, 70000.0) * std::pow(2.0, -rng.below(40)));  // FP16 range
        }
        check::Stats st16("f32->f16 bit-exact"), st32("f16->f32 round trip exact"), signs("signed zeros");
        run(src, 0, 256, 0, st16, st32, signs, dev);
        for (size_t small : {1, 2, 3, 4, 5, 7, 8, 9, 13, 1027})
            for (size_t off : {0, 1, 2, 3})
                run(std::vector<float>(src.begin(), src.begin() + small), off, 256, 0, st16, st32, signs, dev);
        run(std::vector<float>(src.begin(), src.begin() + 4099), 0, 100, 3, st16, st32, signs, dev);
        ok &= st16.report();
        ok &= st32.report();
        ok &= signs.report();
    }

    std::printf("== bandwidth over 2^26 elements ==\n");
    {
        const long long n = 1LL << 26;
        tst::DevBuf<float> f(n);
        tst::DevBuf<__half> h(n);
        tst::fill_uniform(f.p, n, -100.0f, 100.0f, 9u, dev);
        tst::CopyBench copy(6 * n);
        const size_t bytes = 6 * static_cast<size_t>(n);  // 4 bytes read + 2 written (or 2 + 4)
        const int grid = tst::grid_for((n + 3) / 4, 256, dev);
        const float ms1 = tst::time_ms([&] { activa_cast_f32_f16<<<grid, 256>>>(f.p, h.p, n); }, 20);
        tst::report_bandwidth("cast_f32_f16", n, bytes, ms1, copy.gbps(bytes, 20));
        const float ms2 = tst::time_ms([&] { activa_cast_f16_f32<<<grid, 256>>>(h.p, f.p, n); }, 20);
        tst::report_bandwidth("cast_f16_f32", n, bytes, ms2, copy.gbps(bytes, 20));
    }
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
