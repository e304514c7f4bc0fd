// CPU-only test (no GPU needed): the layout-dependent kernel bodies of
// kernels/layout.cuh — max pooling forward and backward, and the NCHW <-> NHWC
// transpose — run on the host for every index, in both layouts, against a plain
// NCHW reference written here with its own index arithmetic:
//   * max pool values and the argmax (logical NCHW indexes, first maximum in window
//     order, ties included) exactly equal to the reference in both layouts;
//   * the backward's dx bit-exact against the reference's scatter in output order
//     (FP32, and FP16 rounded once from the same float sums);
//   * the transpose takes an NCHW tensor to the NHWC arrangement and back unchanged.
// What it cannot check: launches, the grid-stride loops, coalescing. The GPU parity
// tests (JUnit, tag gpu) run the kernels themselves through the Java backend.
#include <cstdio>
#include <vector>

#include "check.h"
#include "layout.cuh"

namespace {

struct Case {
    int n, c, h, w, k, stride, pad;
};

template <typename T>
T to_t(float v);
template <>
float to_t<float>(float v) { return v; }
template <>
__half to_t<__half>(float v) { return __float2half_rn(v); }

// v as a T holds it: rounded to FP16 for halves.
template <typename T>
float through(float v) {
    const T t = to_t<T>(v);
    return activa::load1(&t);
}

int out_size(int in, int k, int stride, int pad) { return (in + 2 * pad - k) / stride + 1; }

// Calls f(logical, stored) for every element of an [N, C, H, W] tensor: its row-major NCHW index
// and where the layout keeps it (NHWC: ((n * H + y) * W + x) * C + c).
template <typename F>
void for_each_element(int n, int c, int h, int w, bool channels_last, F f) {
    for (int b = 0; b < n; ++b)
        for (int ch = 0; ch < c; ++ch)
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x) {
                    const long long l = ((static_cast<long long>(b) * c + ch) * h + y) * w + x;
                    const long long nhwc = ((static_cast<long long>(b) * h + y) * w + x) * c + ch;
                    f(l, channels_last ? nhwc : l);
                }
}

template <typename T>
std::vector<T> to_layout(const std::vector<float>& logical, int n, int c, int h, int w, bool channels_last) {
    std::vector<T> out(logical.size());
    for_each_element(n, c, h, w, channels_last, [&](long long l, long long at) { out[at] = to_t<T>(logical[l]); });
    return out;
}

template <typename T>
std::vector<float> from_layout(const std::vector<T>& stored, int n, int c, int h, int w, bool channels_last) {
    std::vector<float> out(stored.size());
    for_each_element(n, c, h, w, channels_last, [&](long long l, long long at) { out[l] = activa::load1(&stored[at]); });
    return out;
}

// The NCHW reference: values and argmax of the first maximum in window order.
void reference_pool(const std::vector<float>& x, const Case& s, std::vector<float>& y, std::vector<int>& argmax) {
    const int ho = out_size(s.h, s.k, s.stride, s.pad), wo = out_size(s.w, s.k, s.stride, s.pad);
    y.assign(static_cast<size_t>(s.n) * s.c * ho * wo, 0.f);
    argmax.assign(y.size(), -1);
    for (int p = 0; p < s.n * s.c; ++p)
        for (int oy = 0; oy < ho; ++oy)
            for (int ox = 0; ox < wo; ++ox) {
                const size_t o = (static_cast<size_t>(p) * ho + oy) * wo + ox;
                for (int i = 0; i < s.k; ++i)
                    for (int j = 0; j < s.k; ++j) {
                        const int iy = oy * s.stride - s.pad + i, ix = ox * s.stride - s.pad + j;
                        if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                        const int idx = (p * s.h + iy) * s.w + ix;
                        if (argmax[o] < 0 || x[idx] > y[o]) {
                            y[o] = x[idx];
                            argmax[o] = idx;
                        }
                    }
            }
}

template <typename T>
bool check_pool(const Case& s, bool channels_last, const char* dtype) {
    check::Rng rng(1000 + s.n * 131 + s.c * 17 + s.h * 5 + s.w + (channels_last ? 7 : 0));
    const size_t inputs = static_cast<size_t>(s.n) * s.c * s.h * s.w;
    const int ho = out_size(s.h, s.k, s.stride, s.pad), wo = out_size(s.w, s.k, s.stride, s.pad);
    const size_t outputs = static_cast<size_t>(s.n) * s.c * ho * wo;
    std::vector<float> x(inputs), dy(outputs);
    for (float& v : x) v = static_cast<float>(rng.below(7) - 3);  // few levels: many ties
    for (float& v : dy) v = through<T>(static_cast<float>(rng.uniform(-2, 2)));

    std::vector<float> y_ref, dx_ref(inputs, 0.f);
    std::vector<int> argmax_ref;
    reference_pool(x, s, y_ref, argmax_ref);
    for (size_t o = 0; o < outputs; ++o) dx_ref[argmax_ref[o]] += dy[o];

    const activa::ImageGeometry in{s.c, s.h, s.w, channels_last}, out{s.c, ho, wo, channels_last};
    std::vector<T> xs = to_layout<T>(x, s.n, s.c, s.h, s.w, channels_last), ys(outputs);
    std::vector<T> dys = to_layout<T>(dy, s.n, s.c, ho, wo, channels_last), dxs(inputs);
    std::vector<int> argmax(outputs, -7);
    for (long long o = 0; o < static_cast<long long>(outputs); ++o)
        activa::maxpool_fwd_at<T>(o, xs.data(), ys.data(), argmax.data(), in, out, s.k, s.stride, s.pad);
    for (long long i = 0; i < static_cast<long long>(inputs); ++i)
        activa::maxpool_bwd_at<T>(i, dys.data(), argmax.data(), dxs.data(), in, out, s.k, s.stride, s.pad);

    std::vector<float> y = from_layout(ys, s.n, s.c, ho, wo, channels_last);
    std::vector<float> dx = from_layout(dxs, s.n, s.c, s.h, s.w, channels_last);
    int bad = 0;
    for (size_t o = 0; o < outputs; ++o) bad += y[o] != y_ref[o] || argmax[o] != argmax_ref[o];
    for (size_t i = 0; i < inputs; ++i) bad += dx[i] != through<T>(dx_ref[i]);
    std::printf("maxpool %-4s %s n=%d c=%d %dx%d k=%d s=%d p=%d: %s\n", dtype, channels_last ? "NHWC" : "NCHW", s.n,
                s.c, s.h, s.w, s.k, s.stride, s.pad, bad == 0 ? "PASS" : "FAIL");
    return bad == 0;
}

bool check_transpose(int n, int c, int h, int w) {
    check::Rng rng(77 + n + c + h + w);
    std::vector<float> x(static_cast<size_t>(n) * c * h * w);
    for (float& v : x) v = static_cast<float>(rng.uniform(-1, 1));
    std::vector<float> there(x.size()), back(x.size());
    for (long long t = 0; t < static_cast<long long>(x.size()); ++t) activa::transpose_at(t, x.data(), there.data(), c, h * w);
    for (long long t = 0; t < static_cast<long long>(x.size()); ++t) activa::transpose_at(t, there.data(), back.data(), h * w, c);
    const std::vector<float> expected = to_layout<float>(x, n, c, h, w, true);
    const bool ok = there == expected && back == x;
    std::printf("transpose n=%d c=%d %dx%d: %s\n", n, c, h, w, ok ? "PASS" : "FAIL");
    return ok;
}

}  // namespace

int main() {
    const Case cases[] = {{2, 3, 7, 5, 3, 2, 1}, {1, 4, 8, 8, 2, 2, 0}, {3, 1, 5, 6, 3, 1, 1},
                          {2, 5, 4, 4, 3, 3, 0}, {1, 2, 1, 1, 1, 1, 0}, {2, 8, 9, 9, 3, 2, 1}};
    bool ok = true;
    for (const Case& s : cases)
        for (bool channels_last : {false, true}) {
            ok &= check_pool<float>(s, channels_last, "f32");
            ok &= check_pool<__half>(s, channels_last, "f16");
        }
    ok &= check_transpose(2, 3, 4, 5);
    ok &= check_transpose(1, 1, 3, 3);
    ok &= check_transpose(3, 7, 1, 1);
    ok &= check_transpose(2, 16, 8, 8);
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
