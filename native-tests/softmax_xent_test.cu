// activa_softmax_xent_{fwd,bwd}_{f32,f16}: label-smoothed softmax cross-entropy.
// Forward: loss_rows and probs against an FP64 log-softmax; backward:
// dlogits = (probs - target) * scale. Shapes with classes below, at and above
// the block size, label smoothing 0 / 0.1 / 0.2, ignored rows (label -1 and
// label == classes), extreme logits (+-100, one dominant logit, all equal),
// block sizes with a partial warp and grids smaller than the row count.
// Then timing for a ResNet-style head (rows 256, classes 1000) and a large one.
#include <string>

#include "check.h"
#include "cuda_common.h"
#include "reference.h"
#include "training_kernels.cu"

namespace {

constexpr double kEps = 0x1p-24;  // FP32 unit roundoff

// The advised block for a row of `classes`: one warp at least, 256 at most.
int advised_block(int classes) { return std::min(256, std::max(32, (classes + 31) / 32 * 32)); }

template <typename T>
struct XentKernels;
template <>
struct XentKernels<float> {
    static constexpr auto fwd = activa_softmax_xent_fwd_f32;
    static constexpr auto bwd = activa_softmax_xent_bwd_f32;
};
template <>
struct XentKernels<__half> {
    static constexpr auto fwd = activa_softmax_xent_fwd_f16;
    static constexpr auto bwd = activa_softmax_xent_bwd_f16;
};

struct Shape {
    int rows, classes;
    float smoothing;
    int block;  // 0: advised
    int grid;   // 0: one block per row
};

// Logits for a shape: random N(0, 3)-ish, with special rows at the start.
std::vector<float> make_logits(int rows, int classes, check::Rng& rng) {
    std::vector<float> x(static_cast<size_t>(rows) * classes);
    for (auto& v : x) v = static_cast<float>(rng.uniform(-1, 1) + rng.uniform(-1, 1) + rng.uniform(-1, 1)) * 3.0f;
    for (int r = 0; r < rows && r < 4; ++r) {
        float* row = x.data() + static_cast<size_t>(r) * classes;
        for (int c = 0; c < classes; ++c) {
            if (r == 0) row[c] = (c % 2) ? 100.0f : -100.0f;  // extreme logits
            if (r == 1) row[c] = c == 0 ? 50.0f : 0.0f;        // one dominant class
            if (r == 2) row[c] = 7.0f;                         // all equal: uniform probs
            if (r == 3) row[c] = -60.0f + 0.001f * c;          // large negative, nearly equal
        }
    }
    return x;
}

std::vector<int> make_labels(int rows, int classes, check::Rng& rng) {
    std::vector<int> l(rows);
    for (int r = 0; r < rows; ++r) l[r] = rng.below(classes);
    if (rows > 5) l[5] = -1;       // ignored
    if (rows > 6) l[6] = classes;  // ignored (out of range)
    if (rows > 1) l[1] = 0;        // the dominant class: loss ~ 0
    return l;
}

template <typename T>
bool test_shape(const Shape& s, check::Rng& rng, const tst::Device& dev) {
    const int rows = s.rows, C = s.classes;
    const size_t total = static_cast<size_t>(rows) * C;
    const int block = s.block ? s.block : advised_block(C);
    const int grid = s.grid ? s.grid : rows;
    const bool half = sizeof(T) == 2;
    std::printf("-- softmax_xent %s rows=%d classes=%d smoothing=%.2f block=%d grid=%d\n", tst::dtype_name<T>(), rows,
                C, s.smoothing, block, grid);

    const std::vector<T> logits = tst::convert<T>(make_logits(rows, C, rng));
    const std::vector<int> labels = make_labels(rows, C, rng);

    // FP64 reference on the values the kernel sees
    std::vector<double> xd(total), probs_ref(total), loss_ref(rows), loss_tol(rows), probs_tol(total);
    for (size_t i = 0; i < total; ++i) xd[i] = tst::to_double(logits[i]);
    for (int r = 0; r < rows; ++r) {
        const double* x = xd.data() + static_cast<size_t>(r) * C;
        loss_ref[r] = ref::softmax_xent_row(x, C, labels[r], s.smoothing, probs_ref.data() + static_cast<size_t>(r) * C);
        double m = -INFINITY, xmax = 0, s_exp = 0, abs_lp = 0;
        for (int c = 0; c < C; ++c) m = std::max(m, x[c]), xmax = std::max(xmax, std::fabs(x[c]));
        for (int c = 0; c < C; ++c) s_exp += std::exp(x[c] - m);
        const double log_z = m + std::log(s_exp);
        for (int c = 0; c < C; ++c) abs_lp += std::fabs(x[c] - log_z);
        // lp = x - logZ carries an absolute error of a few eps * (|x| + |logZ|)
        // (logZ = m + log(sum) in float), common to every term of the row.
        const double lp_err = 8 * kEps * (1 + xmax + std::fabs(log_z)) + 4 * kEps * std::log(C + 1.0);
        loss_tol[r] = 1e-5 * std::fabs(loss_ref[r]) + lp_err + s.smoothing * 32 * kEps * abs_lp / C + 1e-7;
        for (int c = 0; c < C; ++c) {
            const double p = probs_ref[static_cast<size_t>(r) * C + c];
            probs_tol[static_cast<size_t>(r) * C + c] = p * (1e-5 + lp_err) + 1e-37;
        }
    }

    tst::DevBuf<T> d_logits(total), d_dlogits(total);
    tst::DevBuf<int> d_labels(rows);
    tst::DevBuf<float> d_loss(rows), d_probs(total);
    tst::upload(d_logits.p, logits);
    tst::upload(d_labels.p, labels);
    XentKernels<T>::fwd<<<grid, block>>>(d_logits.p, d_labels.p, d_loss.p, d_probs.p, rows, C, s.smoothing);
    CUDA_CHECK_LAUNCH();
    const std::vector<float> loss = tst::download(d_loss.p, rows);
    const std::vector<float> probs = tst::download(d_probs.p, total);

    check::Stats st_loss("fwd loss_rows"), st_probs("fwd probs"), st_d("bwd dlogits", half), st_d2("bwd dlogits scale=0.37", half);
    for (int r = 0; r < rows; ++r) st_loss.add(loss[r], loss_ref[r], loss_tol[r], r);
    for (size_t i = 0; i < total; ++i) st_probs.add(probs[i], probs_ref[i], probs_tol[i], static_cast<long long>(i), xd[i]);

    // backward from the reference probabilities (as float), so it is tested on its own
    std::vector<float> probs_in(total);
    for (size_t i = 0; i < total; ++i) probs_in[i] = static_cast<float>(probs_ref[i]);
    tst::upload(d_probs.p, probs_in);
    for (float scale : {1.0f / rows, 0.37f}) {
        check::Stats& st = scale == 0.37f ? st_d2 : st_d;
        const int bgrid = tst::grid_for(static_cast<long long>(total), 256, dev);
        XentKernels<T>::bwd<<<bgrid, 256>>>(d_probs.p, d_labels.p, d_dlogits.p, rows, C, s.smoothing, scale);
        CUDA_CHECK_LAUNCH();
        const std::vector<T> dl = tst::download(d_dlogits.p, total);
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < C; ++c) {
                const size_t i = static_cast<size_t>(r) * C + c;
                const bool ignored = labels[r] < 0 || labels[r] >= C;
                const double t = ref::smoothed_target(c, labels[r], C, s.smoothing);
                const double want = ignored ? 0.0 : (static_cast<double>(probs_in[i]) - t) * scale;
                const double tol32 = ignored ? 0.0 : 3e-7 * (std::fabs(probs_in[i]) + std::fabs(t)) * scale;
                const double g = tst::to_double(dl[i]);
                if (half)
                    st.add(g, ref::round_half(want), ignored ? 0.0 : ref::half_ulp(want) + tol32, static_cast<long long>(i));
                else
                    st.add(g, want, tol32, static_cast<long long>(i));
            }
    }
    bool ok = st_loss.report();
    ok &= st_probs.report();
    ok &= st_d.report();
    ok &= st_d2.report();
    return ok;
}

template <typename T>
void bench(int rows, int C, tst::CopyBench& copy, const tst::Device& dev) {
    const size_t total = static_cast<size_t>(rows) * C;
    tst::DevBuf<T> logits(total), dlogits(total);
    tst::DevBuf<int> labels(rows);
    tst::DevBuf<float> loss(rows), probs(total);
    tst::fill_uniform(logits.p, static_cast<long long>(total), -5.0f, 5.0f, 11u, dev);
    CUDA_CHECK(cudaMemset(labels.p, 0, rows * sizeof(int)));
    const int block = advised_block(C);
    const std::string tag = std::string(tst::dtype_name<T>()) + " " + std::to_string(rows) + "x" + std::to_string(C);
    // forward: reads logits (once from DRAM; the 3 passes hit L1/L2), writes probs + loss
    const size_t fwd_bytes = total * sizeof(T) + total * 4 + rows * 8;
    const float ms_f = tst::time_ms(
        [&] { XentKernels<T>::fwd<<<rows, block>>>(logits.p, labels.p, loss.p, probs.p, rows, C, 0.1f); }, 20);
    tst::report_bandwidth(("xent fwd " + tag).c_str(), total, fwd_bytes, ms_f, copy.gbps(fwd_bytes, 20));
    const size_t bwd_bytes = total * 4 + total * sizeof(T) + rows * 4;
    const int bgrid = tst::grid_for(static_cast<long long>(total), 256, dev);
    const float ms_b = tst::time_ms(
        [&] { XentKernels<T>::bwd<<<bgrid, 256>>>(probs.p, labels.p, dlogits.p, rows, C, 0.1f, 1.0f / rows); }, 20);
    tst::report_bandwidth(("xent bwd " + tag).c_str(), total, bwd_bytes, ms_b, copy.gbps(bwd_bytes, 20));
}

}  // namespace

int main() {
    const tst::Device dev = tst::init_device_or_skip();
    const Shape shapes[] = {
        {128, 10, 0.0f, 0, 0},   {128, 100, 0.1f, 0, 0}, {64, 1000, 0.1f, 0, 0}, {33, 1001, 0.0f, 0, 0},
        {7, 5, 0.2f, 0, 0},      {4, 1, 0.1f, 0, 0},     {3, 4099, 0.1f, 0, 0},  {40, 300, 0.1f, 100, 0},
        {40, 300, 0.1f, 1024, 7}, {50, 77, 0.0f, 33, 3},
    };
    check::Rng rng(2024);
    bool ok = true;
    for (const Shape& s : shapes) {
        ok &= test_shape<float>(s, rng, dev);
        ok &= test_shape<__half>(s, rng, dev);
    }
    std::printf("== bandwidth ==\n");
    {
        tst::CopyBench copy(size_t(1) << 31);
        bench<float>(256, 1000, copy, dev);
        bench<__half>(256, 1000, copy, dev);
        bench<float>(65536, 1000, copy, dev);
        bench<__half>(65536, 1000, copy, dev);
    }
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
