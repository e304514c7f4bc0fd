// The fatbin exactly as the Java side uses it: loaded with the driver API
// (cuModuleLoad), every kernel looked up by name (cuModuleGetFunction), and a
// few launched with cuLaunchKernel and a kernelParams array — one pointer per
// argument, as JCuda's Pointer.to(...) builds it — covering every argument
// type of the ABI (device pointers, long long, int, float, const int*):
//   activa_act_fwd_relu_f32, activa_act_bwd_nami_f16 (with dparams),
//   activa_softmax_xent_fwd_f32, activa_sgd_update_f32.
//
//   fatbin_load_test FATBIN EXPECTED_SYMBOLS
//
// Driver functions are obtained through cudaGetDriverEntryPointByVersion, so
// the program does not link libcuda and still starts (and skips, exit 77)
// on a machine without a driver.
#include <cuda.h>

#include <fstream>
#include <set>
#include <string>

#include "act_refs.h"
#include "check.h"
#include "cuda_common.h"
#include "reference.h"

namespace {

using ModuleLoadFn = CUresult (*)(CUmodule*, const char*);
using ModuleGetFunctionFn = CUresult (*)(CUfunction*, CUmodule, const char*);
using LaunchKernelFn = CUresult (*)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                                    CUstream, void**, void**);
using ModuleUnloadFn = CUresult (*)(CUmodule);

template <typename Fn>
Fn entry_point(const char* name) {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult status;
    CUDA_CHECK(cudaGetDriverEntryPointByVersion(name, &p, 12000, cudaEnableDefault, &status));
    if (status != cudaDriverEntryPointSuccess || p == nullptr) {
        std::printf("FAIL: driver entry point %s not available\n", name);
        std::exit(1);
    }
    return reinterpret_cast<Fn>(p);
}

#define CU_CHECK(call)                                                                   \
    do {                                                                                 \
        const CUresult r_ = (call);                                                      \
        if (r_ != CUDA_SUCCESS) {                                                        \
            std::printf("FAIL: %s returned CUresult %d (%s:%d)\n", #call, static_cast<int>(r_), __FILE__, __LINE__); \
            std::exit(1);                                                                \
        }                                                                                \
    } while (0)

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s FATBIN EXPECTED_SYMBOLS\n", argv[0]);
        return 2;
    }
    const tst::Device dev = tst::init_device_or_skip();
    CUDA_CHECK(cudaFree(nullptr));  // make the runtime's primary context current for the driver calls
    if (!std::ifstream(argv[1])) {
        std::printf("FAIL: no fatbin at %s\n", argv[1]);
        return 1;
    }
    const auto cuModuleLoad_ = entry_point<ModuleLoadFn>("cuModuleLoad");
    const auto cuModuleGetFunction_ = entry_point<ModuleGetFunctionFn>("cuModuleGetFunction");
    const auto cuLaunchKernel_ = entry_point<LaunchKernelFn>("cuLaunchKernel");
    const auto cuModuleUnload_ = entry_point<ModuleUnloadFn>("cuModuleUnload");

    CUmodule mod;
    CU_CHECK(cuModuleLoad_(&mod, argv[1]));
    bool ok = true;

    // every expected symbol resolves
    {
        std::ifstream s(argv[2]);
        std::string line;
        int found = 0, missing = 0;
        while (std::getline(s, line)) {
            if (line.empty() || line[0] == '#') continue;
            CUfunction fn;
            if (cuModuleGetFunction_(&fn, mod, line.c_str()) == CUDA_SUCCESS) ++found;
            else {
                std::printf("  MISSING kernel %s\n", line.c_str());
                ++missing;
            }
        }
        std::printf("  cuModuleGetFunction: %d found, %d missing\n", found, missing);
        ok &= missing == 0 && found > 0;
    }

    auto fn = [&](const char* name) {
        CUfunction f;
        CU_CHECK(cuModuleGetFunction_(&f, mod, name));
        return f;
    };

    // activa_act_fwd_relu_f32(const float* x, float* y, long long n, float w, float a, float b)
    {
        const long long n = 1001;
        std::vector<float> x = check::activation_inputs(static_cast<size_t>(n), 1);
        tst::DevBuf<float> dx(n), dy(n);
        tst::upload(dx.p, x);
        CUdeviceptr px = reinterpret_cast<CUdeviceptr>(dx.p), py = reinterpret_cast<CUdeviceptr>(dy.p);
        float w = 0, a = 0, b = 0;
        void* params[] = {&px, &py, const_cast<long long*>(&n), &w, &a, &b};
        const unsigned grid = static_cast<unsigned>(tst::grid_for((n + 3) / 4, 256, dev));
        CU_CHECK(cuLaunchKernel_(fn("activa_act_fwd_relu_f32"), grid, 1, 1, 256, 1, 1, 0, nullptr, params, nullptr));
        CUDA_CHECK(cudaDeviceSynchronize());
        const std::vector<float> y = tst::download(dy.p, n);
        check::Stats st("relu_f32 fwd via cuLaunchKernel");
        for (long long i = 0; i < n; ++i) st.add(y[i], ref::value(ref::Act::Relu, x[i]), 0.0, i, x[i]);
        ok &= st.report();
    }

    // activa_act_bwd_nami_f16(const __half* x, const __half* dy, __half* dx, long long n,
    //                         float w, float a, float b, float* dparams)
    {
        const size_t n = 4099;
        std::vector<float> a, b, dyv;
        acttest::make_inputs(n, false, a, b, dyv);
        const acttest::ParamSet ps = acttest::kNamiSets[0];
        const acttest::Data<__half> d = acttest::make_data<__half>(a, b, dyv, n, false);
        const acttest::Refs r = acttest::make_refs(ref::Act::Nami, ps, d, false);
        tst::DevBuf<__half> px(n), pdy(n), pdx(n);
        tst::DevBuf<float> pdp(3);
        tst::upload(px.p, d.a);
        tst::upload(pdy.p, d.dy);
        CUDA_CHECK(cudaMemset(pdp.p, 0, 3 * sizeof(float)));  // the caller zeroes dparams
        CUdeviceptr ax = reinterpret_cast<CUdeviceptr>(px.p), ady = reinterpret_cast<CUdeviceptr>(pdy.p),
                    adx = reinterpret_cast<CUdeviceptr>(pdx.p), adp = reinterpret_cast<CUdeviceptr>(pdp.p);
        long long nn = static_cast<long long>(n);
        float w = ps.w, aa = ps.a, bb = ps.b;
        void* params[] = {&ax, &ady, &adx, &nn, &w, &aa, &bb, &adp};
        const unsigned grid = static_cast<unsigned>(tst::grid_for((nn + 7) / 8, 256, dev));
        CU_CHECK(cuLaunchKernel_(fn("activa_act_bwd_nami_f16"), grid, 1, 1, 256, 1, 1, 0, nullptr, params, nullptr));
        CUDA_CHECK(cudaDeviceSynchronize());
        check::Stats st("nami_f16 bwd dx via cuLaunchKernel", true), sp("nami_f16 bwd dparams");
        acttest::compare(st, tst::download(pdx.p, n), r.dx, r.dx_tol, r.z);
        const std::vector<float> dp = tst::download(pdp.p, 3);
        for (int k = 0; k < 3; ++k) sp.add(dp[k], r.dparams[k], r.dparams_tol[k], k);
        ok &= st.report();
        ok &= sp.report();
    }

    // activa_softmax_xent_fwd_f32(const float* logits, const int* labels, float* loss_rows,
    //                             float* probs, int rows, int classes, float smoothing)
    {
        int rows = 5, classes = 37;
        float smoothing = 0.1f;
        check::Rng rng(3);
        std::vector<float> logits(static_cast<size_t>(rows) * classes);
        for (auto& v : logits) v = static_cast<float>(rng.uniform(-5, 5));
        std::vector<int> labels = {0, 36, 5, -1, 17};
        tst::DevBuf<float> pl(logits.size()), ploss(rows), pprobs(logits.size());
        tst::DevBuf<int> plab(rows);
        tst::upload(pl.p, logits);
        tst::upload(plab.p, labels);
        CUdeviceptr a1 = reinterpret_cast<CUdeviceptr>(pl.p), a2 = reinterpret_cast<CUdeviceptr>(plab.p),
                    a3 = reinterpret_cast<CUdeviceptr>(ploss.p), a4 = reinterpret_cast<CUdeviceptr>(pprobs.p);
        void* params[] = {&a1, &a2, &a3, &a4, &rows, &classes, &smoothing};
        CU_CHECK(cuLaunchKernel_(fn("activa_softmax_xent_fwd_f32"), rows, 1, 1, 64, 1, 1, 0, nullptr, params, nullptr));
        CUDA_CHECK(cudaDeviceSynchronize());
        const std::vector<float> loss = tst::download(ploss.p, rows);
        check::Stats st("softmax_xent_fwd_f32 via cuLaunchKernel");
        std::vector<double> x(classes), probs(classes);
        for (int r = 0; r < rows; ++r) {
            for (int c = 0; c < classes; ++c) x[c] = logits[static_cast<size_t>(r) * classes + c];
            const double want = ref::softmax_xent_row(x.data(), classes, labels[r], smoothing, probs.data());
            st.add(loss[r], want, 1e-5 * std::fabs(want) + 1e-5, r);
        }
        ok &= st.report();
    }

    // activa_sgd_update_f32(float* w, const float* grad, float* momentum_buf, long long n, float lr,
    //                       float momentum, float weight_decay, int nesterov, const int* found_inf)
    {
        long long n = 1027;
        std::vector<float> w(n), g(n);
        check::Rng rng(4);
        for (long long i = 0; i < n; ++i) w[i] = static_cast<float>(rng.uniform(-1, 1)), g[i] = static_cast<float>(rng.uniform(-1, 1));
        tst::DevBuf<float> pw(n), pg(n), pb(n);
        tst::DevBuf<int> pf(1);
        tst::upload(pw.p, w);
        tst::upload(pg.p, g);
        CUDA_CHECK(cudaMemset(pb.p, 0, n * sizeof(float)));
        CUDA_CHECK(cudaMemset(pf.p, 0, sizeof(int)));
        CUdeviceptr a1 = reinterpret_cast<CUdeviceptr>(pw.p), a2 = reinterpret_cast<CUdeviceptr>(pg.p),
                    a3 = reinterpret_cast<CUdeviceptr>(pb.p), a9 = reinterpret_cast<CUdeviceptr>(pf.p);
        float lr = 0.1f, momentum = 0.9f, wd = 5e-4f;
        int nesterov = 1;
        void* params[] = {&a1, &a2, &a3, &n, &lr, &momentum, &wd, &nesterov, &a9};
        const unsigned grid = static_cast<unsigned>(tst::grid_for(n, 256, dev));
        CU_CHECK(cuLaunchKernel_(fn("activa_sgd_update_f32"), grid, 1, 1, 256, 1, 1, 0, nullptr, params, nullptr));
        CUDA_CHECK(cudaDeviceSynchronize());
        const std::vector<float> gw = tst::download(pw.p, n);
        check::Stats st("sgd_update_f32 via cuLaunchKernel");
        for (long long i = 0; i < n; ++i) {
            double wd_ = w[i], buf = 0;
            ref::sgd_step(wd_, g[i], buf, lr, momentum, wd, true, true);
            st.add(gw[i], wd_, 1e-6 * (1 + std::fabs(wd_)), i);
        }
        ok &= st.report();
    }

    CU_CHECK(cuModuleUnload_(mod));
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
