// activa_unscale_check_f32 and activa_sgd_update_f32 — the loss scaler and the
// optimizer over one flat parameter buffer:
//   * unscale: grad * inv_scale bit-exact (one float multiply); found_inf stays
//     0 for finite gradients and becomes 1 for an Inf, a NaN, or a finite
//     gradient that overflows when unscaled;
//   * SGD: three steps against an FP64 PyTorch-semantics reference (momentum
//     0 / 0.9, Nesterov on/off, weight decay 0 / 5e-4, momentum_buf NULL);
//     found_inf = 1 leaves w and the momentum buffer bit-for-bit unchanged,
//     found_inf = 0 or NULL updates. Then timing over 2^26 parameters.
#include <cstring>

#include "check.h"
#include "cuda_common.h"
#include "reference.h"
#include "training_kernels.cu"

namespace {

bool test_unscale(const tst::Device& dev) {
    std::printf("-- unscale_check\n");
    const size_t n = (1u << 20) + 3;
    check::Rng rng(31);
    std::vector<float> g(n);
    for (auto& v : g) v = static_cast<float>(rng.uniform(-1, 1) * 65536.0);
    check::Stats vals("grad * inv_scale bit-exact"), flags("found_inf as expected");
    tst::DevBuf<float> d_g(n);
    tst::DevBuf<int> d_flag(1);
    struct Case {
        const char* what;
        size_t index;  // where to plant `value` (n = nowhere)
        float value, inv_scale;
        int expect;
    };
    const Case cases[] = {
        {"finite, inv_scale 2^-16", n, 0.f, 1.0f / 65536, 0},
        {"finite, inv_scale 1/3", n, 0.f, 1.0f / 3, 0},
        {"+inf planted", 12345, INFINITY, 1.0f / 1024, 1},
        {"-inf planted at the end", n - 1, -INFINITY, 1.0f / 1024, 1},
        {"NaN planted at 0", 0, NAN, 1.0f / 1024, 1},
        {"overflow when unscaled", 777, 3e38f, 4.0f, 1},
    };
    for (const Case& c : cases) {
        std::vector<float> in = g;
        if (c.index < n) in[c.index] = c.value;
        for (int grid : {0, 3}) {  // the advised grid, then a small odd one
            tst::upload(d_g.p, in);
            CUDA_CHECK(cudaMemset(d_flag.p, 0, sizeof(int)));
            const int block = grid ? 100 : 256;
            const int gr = grid ? grid : tst::grid_for(static_cast<long long>(n), block, dev);
            activa_unscale_check_f32<<<gr, block>>>(d_g.p, static_cast<long long>(n), c.inv_scale, d_flag.p);
            CUDA_CHECK_LAUNCH();
            const std::vector<float> out = tst::download(d_g.p, n);
            const int flag = tst::download(d_flag.p, 1)[0];
            for (size_t i = 0; i < n; ++i)
                vals.add(out[i], ref::round_float(static_cast<double>(in[i]) * c.inv_scale), 0.0,
                         static_cast<long long>(i), in[i]);
            if (!flags.add(flag, c.expect, 0.0)) std::printf("    case '%s' grid %d\n", c.what, gr);
        }
    }
    bool ok = vals.report();
    ok &= flags.report();
    return ok;
}

struct SgdConfig {
    float lr, momentum, weight_decay;
    int nesterov;
    bool use_buf;
};

bool test_sgd(const tst::Device& dev) {
    const size_t n = (1u << 20) + 5;
    check::Rng rng(77);
    std::vector<float> w0(n);
    std::vector<std::vector<float>> grads(3, std::vector<float>(n));
    for (auto& v : w0) v = static_cast<float>(rng.uniform(-1, 1));
    for (auto& gs : grads)
        for (auto& v : gs) v = static_cast<float>(rng.uniform(-1, 1));
    const SgdConfig configs[] = {
        {0.1f, 0.9f, 5e-4f, 0, true},  {0.1f, 0.9f, 5e-4f, 1, true}, {0.05f, 0.0f, 0.0f, 0, true},
        {0.05f, 0.0f, 1e-2f, 0, false}, {0.2f, 0.5f, 0.0f, 1, true},
    };
    bool ok = true;
    tst::DevBuf<float> d_w(n), d_g(n), d_buf(n);
    tst::DevBuf<int> d_flag(1);
    for (const SgdConfig& c : configs) {
        std::printf("-- sgd lr=%g momentum=%g wd=%g nesterov=%d momentum_buf=%s\n", c.lr, c.momentum, c.weight_decay,
                    c.nesterov, c.use_buf ? "yes" : "NULL");
        check::Stats sw("w after 3 steps"), sb("momentum_buf after 3 steps"), skip("found_inf=1: w, buf unchanged");
        std::vector<double> w(w0.begin(), w0.end()), buf(n, 0.0);
        tst::upload(d_w.p, w0);
        CUDA_CHECK(cudaMemset(d_buf.p, 0, n * sizeof(float)));
        for (int step = 0; step < 3; ++step) {
            tst::upload(d_g.p, grads[step]);
            // step 0: found_inf = NULL; step 1: *found_inf = 0; step 2: *found_inf = 0 (odd launch)
            const int* flag = nullptr;
            if (step > 0) {
                CUDA_CHECK(cudaMemset(d_flag.p, 0, sizeof(int)));
                flag = d_flag.p;
            }
            const int block = step == 2 ? 100 : 256;
            const int grid = step == 2 ? 3 : tst::grid_for(static_cast<long long>(n), block, dev);
            activa_sgd_update_f32<<<grid, block>>>(d_w.p, d_g.p, c.use_buf ? d_buf.p : nullptr,
                                                   static_cast<long long>(n), c.lr, c.momentum, c.weight_decay,
                                                   c.nesterov, flag);
            CUDA_CHECK_LAUNCH();
            for (size_t i = 0; i < n; ++i)
                ref::sgd_step(w[i], grads[step][i], buf[i], c.lr, c.momentum, c.weight_decay, c.nesterov != 0,
                              c.use_buf);
        }
        const std::vector<float> gw = tst::download(d_w.p, n), gb = tst::download(d_buf.p, n);
        // three steps of a few float roundings each on O(1) values
        for (size_t i = 0; i < n; ++i) {
            sw.add(gw[i], w[i], 2e-6 * (1 + std::fabs(w[i])), static_cast<long long>(i));
            if (c.use_buf) sb.add(gb[i], buf[i], 2e-6 * (1 + std::fabs(buf[i])), static_cast<long long>(i));
        }
        // a skipped step: found_inf = 1 -> nothing changes, bit for bit
        const int one = 1;
        CUDA_CHECK(cudaMemcpy(d_flag.p, &one, sizeof(int), cudaMemcpyHostToDevice));
        activa_sgd_update_f32<<<tst::grid_for(static_cast<long long>(n), 256, dev), 256>>>(
            d_w.p, d_g.p, c.use_buf ? d_buf.p : nullptr, static_cast<long long>(n), c.lr, c.momentum,
            c.weight_decay, c.nesterov, d_flag.p);
        CUDA_CHECK_LAUNCH();
        const std::vector<float> w_after = tst::download(d_w.p, n), b_after = tst::download(d_buf.p, n);
        skip.add(std::memcmp(w_after.data(), gw.data(), n * 4) == 0 ? 0 : 1, 0, 0);
        skip.add(std::memcmp(b_after.data(), gb.data(), n * 4) == 0 ? 0 : 1, 0, 0);
        ok &= sw.report();
        if (c.use_buf) ok &= sb.report();
        ok &= skip.report();
    }
    return ok;
}

}  // namespace

int main() {
    const tst::Device dev = tst::init_device_or_skip();
    bool ok = test_unscale(dev);
    ok &= test_sgd(dev);

    std::printf("== bandwidth over 2^26 parameters ==\n");
    {
        const long long n = 1LL << 26;
        tst::DevBuf<float> w(n), g(n), buf(n);
        tst::DevBuf<int> flag(1);
        CUDA_CHECK(cudaMemset(flag.p, 0, sizeof(int)));
        tst::fill_uniform(w.p, n, -1.0f, 1.0f, 1u, dev);
        tst::fill_uniform(g.p, n, -1.0f, 1.0f, 2u, dev);
        CUDA_CHECK(cudaMemset(buf.p, 0, n * sizeof(float)));
        tst::CopyBench copy(20 * static_cast<size_t>(n));
        const int grid = tst::grid_for(n, 256, dev);
        const size_t bu = 8 * static_cast<size_t>(n);  // read + write grad
        const float ms1 = tst::time_ms([&] { activa_unscale_check_f32<<<grid, 256>>>(g.p, n, 1.0f, flag.p); }, 20);
        tst::report_bandwidth("unscale_check_f32", n, bu, ms1, copy.gbps(bu, 20));
        const size_t bs = 20 * static_cast<size_t>(n);  // read w, grad, buf; write w, buf
        const float ms2 = tst::time_ms(
            [&] { activa_sgd_update_f32<<<grid, 256>>>(w.p, g.p, buf.p, n, 1e-3f, 0.9f, 5e-4f, 0, flag.p); }, 20);
        tst::report_bandwidth("sgd_update_f32 (momentum)", n, bs, ms2, copy.gbps(bs, 20));
    }
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
