package dev.activa.backend.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Tiny stand-ins for cuDNN and cuBLAS, compiled with the machine's C compiler, so the FFM
 * bindings and the library search run for real on a machine without a GPU. They implement the
 * cuDNN 9 / cuBLAS signatures (transcribed from the headers), log their arguments and, for GEMM,
 * compute on host memory, which tests the row-major mapping.
 */
final class FakeLibraries {
    private FakeLibraries() {}

    static boolean compilerAvailable() {
        try {
            Process p = new ProcessBuilder("cc", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Compiles {@code source} into {@code dir/name}; {@code flags} go to the linker line. */
    static Path build(Path dir, String name, String source, String... flags) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path c = dir.resolve(name + ".c");
        Files.writeString(c, source);
        Path out = dir.resolve(name);
        var command = new ArrayList<>(List.of("cc", "-shared", "-fPIC", "-O1", "-o", out.toString(), c.toString()));
        command.addAll(List.of(flags));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException("cc failed: " + log);
        return out;
    }

    static final String LOG = """
            #include <stdarg.h>
            #include <stdio.h>
            #include <stddef.h>
            static char LOG[1 << 16];
            static size_t LEN;
            static void note(const char *fmt, ...) {
                va_list ap; va_start(ap, fmt);
                int n = vsnprintf(LOG + LEN, sizeof(LOG) - LEN - 2, fmt, ap);
                va_end(ap);
                if (n > 0) LEN += (size_t) n;
                LOG[LEN++] = '\\n'; LOG[LEN] = 0;
            }
            const char *fake_log(void) { return LOG; }
            void fake_reset(void) { LEN = 0; LOG[0] = 0; }
            static long next_handle = 0x1000;
            static int make(void **out) { next_handle += 0x10; *out = (void *) next_handle; return 0; }
            """;

    /** cuDNN 9: cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h signatures. */
    static final String CUDNN = LOG + """
            typedef struct { int algo; int status; float time; size_t memory; int determinism; int mathType; int reserved[3]; } perf_t;
            size_t cudnnGetVersion(void) { return 90600; }
            const char *cudnnGetErrorString(int s) { return s == 2000 ? "CUDNN_STATUS_BAD_PARAM" : "CUDNN_STATUS_OTHER"; }
            void cudnnGetLastErrorString(char *m, size_t n) { snprintf(m, n, "fake: n must be positive"); }
            int cudnnCreate(void **h) { return make(h); }
            int cudnnDestroy(void *h) { note("destroy %p", h); return 0; }
            int cudnnSetStream(void *h, void *s) { note("setStream %p", s); return 0; }
            int cudnnCreateTensorDescriptor(void **d) { return make(d); }
            int cudnnSetTensor4dDescriptor(void *d, int format, int type, int n, int c, int h, int w) {
                note("tensor %p format=%d type=%d %d %d %d %d", d, format, type, n, c, h, w); return n > 0 ? 0 : 2000; }
            int cudnnDestroyTensorDescriptor(void *d) { return 0; }
            int cudnnCreateFilterDescriptor(void **d) { return make(d); }
            int cudnnSetFilter4dDescriptor(void *d, int type, int format, int k, int c, int h, int w) {
                note("filter %p type=%d format=%d %d %d %d %d", d, type, format, k, c, h, w); return 0; }
            int cudnnDestroyFilterDescriptor(void *d) { return 0; }
            int cudnnCreatePoolingDescriptor(void **d) { return make(d); }
            int cudnnSetPooling2dDescriptor(void *d, int mode, int nan, int wh, int ww, int pv, int ph, int sv, int sh) {
                note("pooling mode=%d nan=%d %d %d %d %d %d %d", mode, nan, wh, ww, pv, ph, sv, sh); return 0; }
            int cudnnDestroyPoolingDescriptor(void *d) { return 0; }
            int cudnnGetPooling2dForwardOutputDim(void *p, void *x, int *n, int *c, int *h, int *w) { *n = 2; *c = 4; *h = 2; *w = 2; return 0; }
            int cudnnPoolingForward(void *h, void *p, const void *alpha, void *xd, const void *x, const void *beta, void *yd, void *y) {
                note("poolFwd alpha=%g beta=%g x=%p y=%p", *(const float *) alpha, *(const float *) beta, x, y); return 0; }
            int cudnnPoolingBackward(void *h, void *p, const void *alpha, void *yd, const void *y, void *dyd, const void *dy,
                                     void *xd, const void *x, const void *beta, void *dxd, void *dx) {
                note("poolBwd alpha=%g beta=%g y=%p dy=%p x=%p dx=%p", *(const float *) alpha, *(const float *) beta, y, dy, x, dx); return 0; }
            int cudnnDeriveBNTensorDescriptor(void *d, void *x, int mode) { note("deriveBN %p from %p mode=%d", d, x, mode); return 0; }
            int cudnnBatchNormalizationForwardTraining(void *h, int mode, const void *a, const void *b, void *xd, const void *x,
                    void *yd, void *y, void *bnd, const void *scale, const void *bias, double factor, void *rm, void *rv,
                    double eps, void *sm, void *siv) {
                note("bnTrain mode=%d alpha=%g beta=%g factor=%g eps=%g scale=%p rm=%p sm=%p", mode, *(const float *) a,
                     *(const float *) b, factor, eps, scale, rm, sm); return 0; }
            int cudnnBatchNormalizationForwardInference(void *h, int mode, const void *a, const void *b, void *xd, const void *x,
                    void *yd, void *y, void *bnd, const void *scale, const void *bias, const void *mean, const void *var, double eps) {
                note("bnInfer mode=%d eps=%g mean=%p var=%p", mode, eps, mean, var); return 0; }
            int cudnnBatchNormalizationBackward(void *h, int mode, const void *ad, const void *bd, const void *ap, const void *bp,
                    void *xd, const void *x, void *dyd, const void *dy, void *dxd, void *dx, void *bnd, const void *scale,
                    void *ds, void *db, double eps, const void *sm, const void *siv) {
                note("bnBwd mode=%d %g %g %g %g eps=%g ds=%p db=%p siv=%p", mode, *(const float *) ad, *(const float *) bd,
                     *(const float *) ap, *(const float *) bp, eps, ds, db, siv); return 0; }
            int cudnnCreateConvolutionDescriptor(void **d) { return make(d); }
            int cudnnSetConvolution2dDescriptor(void *d, int ph, int pw, int u, int v, int dh, int dw, int mode, int type) {
                note("conv %p pad=%d,%d stride=%d,%d dilation=%d,%d mode=%d type=%d", d, ph, pw, u, v, dh, dw, mode, type); return 0; }
            int cudnnSetConvolutionMathType(void *d, int m) { note("math %p %d", d, m); return 0; }
            int cudnnSetConvolutionGroupCount(void *d, int g) { note("groups %d", g); return 0; }
            int cudnnDestroyConvolutionDescriptor(void *d) { return 0; }
            int cudnnGetConvolution2dForwardOutputDim(void *c, void *x, void *w, int *n, int *k, int *h, int *ww) {
                *n = 2; *k = 4; *h = 5; *ww = 5; return 0; }
            static int max_count_fails;
            void fake_fail_max_count(int on) { max_count_fails = on; }
            static int max_count(void *h, int *count) { *count = 3; return max_count_fails ? 2000 : 0; }
            int cudnnGetConvolutionForwardAlgorithmMaxCount(void *h, int *c) { return max_count(h, c); }
            int cudnnGetConvolutionBackwardDataAlgorithmMaxCount(void *h, int *c) { return max_count(h, c); }
            int cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(void *h, int *c) { return max_count(h, c); }
            static int results(const char *what, void *a, void *b, void *c, void *d, int requested, int *returned, perf_t *p) {
                note("%s %p %p %p %p requested=%d", what, a, b, c, d, requested);
                p[0] = (perf_t) {1, 0, 0.5f, 4096, 1, 1, {0, 0, 0}};
                p[1] = (perf_t) {0, 3000, 0.1f, 0, 1, 0, {0, 0, 0}};
                p[2] = (perf_t) {2, 0, 0.7f, 8192, 0, 0, {0, 0, 0}};
                *returned = 3; return 0; }
            int cudnnGetConvolutionForwardAlgorithm_v7(void *h, void *x, void *w, void *c, void *y, int r, int *n, perf_t *p) { return results("fwdHeuristic", x, w, c, y, r, n, p); }
            int cudnnFindConvolutionForwardAlgorithm(void *h, void *x, void *w, void *c, void *y, int r, int *n, perf_t *p) { return results("fwdFind", x, w, c, y, r, n, p); }
            int cudnnGetConvolutionBackwardDataAlgorithm_v7(void *h, void *w, void *dy, void *c, void *dx, int r, int *n, perf_t *p) { return results("bwdDataHeuristic", w, dy, c, dx, r, n, p); }
            int cudnnFindConvolutionBackwardDataAlgorithm(void *h, void *w, void *dy, void *c, void *dx, int r, int *n, perf_t *p) { return results("bwdDataFind", w, dy, c, dx, r, n, p); }
            int cudnnGetConvolutionBackwardFilterAlgorithm_v7(void *h, void *x, void *dy, void *c, void *dw, int r, int *n, perf_t *p) { return results("bwdFilterHeuristic", x, dy, c, dw, r, n, p); }
            int cudnnFindConvolutionBackwardFilterAlgorithm(void *h, void *x, void *dy, void *c, void *dw, int r, int *n, perf_t *p) { return results("bwdFilterFind", x, dy, c, dw, r, n, p); }
            int cudnnGetConvolutionForwardWorkspaceSize(void *h, void *x, void *w, void *c, void *y, int algo, size_t *s) { *s = 1000 + algo; return 0; }
            int cudnnGetConvolutionBackwardDataWorkspaceSize(void *h, void *w, void *dy, void *c, void *dx, int algo, size_t *s) { *s = 2000 + algo; return 0; }
            int cudnnGetConvolutionBackwardFilterWorkspaceSize(void *h, void *x, void *dy, void *c, void *dw, int algo, size_t *s) { *s = 3000 + algo; return 0; }
            int cudnnConvolutionForward(void *h, const void *alpha, void *xd, const void *x, void *wd, const void *w, void *cd,
                    int algo, void *ws, size_t wss, const void *beta, void *yd, void *y) {
                note("convFwd alpha=%g beta=%g x=%p w=%p algo=%d ws=%p wss=%zu y=%p", *(const float *) alpha, *(const float *) beta, x, w, algo, ws, wss, y); return 0; }
            int cudnnConvolutionBackwardData(void *h, const void *alpha, void *wd, const void *w, void *dyd, const void *dy, void *cd,
                    int algo, void *ws, size_t wss, const void *beta, void *dxd, void *dx) {
                note("convBwdData alpha=%g beta=%g w=%p dy=%p algo=%d dx=%p", *(const float *) alpha, *(const float *) beta, w, dy, algo, dx); return 0; }
            int cudnnConvolutionBackwardFilter(void *h, const void *alpha, void *xd, const void *x, void *dyd, const void *dy, void *cd,
                    int algo, void *ws, size_t wss, const void *beta, void *dwd, void *dw) {
                note("convBwdFilter alpha=%g beta=%g x=%p dy=%p algo=%d dw=%p", *(const float *) alpha, *(const float *) beta, x, dy, algo, dw); return 0; }
            """;

    /** cuBLAS: cublas_api.h signatures; GEMMs really compute (column-major, on host memory). */
    static final String CUBLAS = LOG + """
            static void gemm(int ta, int tb, int m, int n, int k, float alpha, const float *A, int lda,
                             const float *B, int ldb, float beta, float *C, int ldc) {
                for (int j = 0; j < n; j++) for (int i = 0; i < m; i++) {
                    float s = 0;
                    for (int p = 0; p < k; p++) {
                        float a = ta ? A[p + i * lda] : A[i + p * lda];
                        float b = tb ? B[j + p * ldb] : B[p + j * ldb];
                        s += a * b;
                    }
                    C[i + j * ldc] = alpha * s + (beta == 0 ? 0 : beta * C[i + j * ldc]);
                }
            }
            int cublasCreate_v2(void **h) { return make(h); }
            int cublasDestroy_v2(void *h) { return 0; }
            int cublasSetStream_v2(void *h, void *s) { note("setStream %p", s); return 0; }
            int cublasGetVersion_v2(void *h, int *v) { *v = 130002; return 0; }
            int cublasGetProperty(int type, int *v) { *v = type == 0 ? 13 : type == 1 ? 0 : 2; return 0; }
            const char *cublasGetStatusString(int s) { return s == 7 ? "the parameters are invalid" : "other"; }
            int cublasSetMathMode(void *h, int mode) { note("math %d", mode); return 0; }
            int cublasSgemm_v2(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *A, int lda,
                               const float *B, int ldb, const float *beta, float *C, int ldc) {
                if (m < 0) return 7;
                note("sgemm %d %d %d %d %d lda=%d ldb=%d ldc=%d", ta, tb, m, n, k, lda, ldb, ldc);
                gemm(ta, tb, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc); return 0; }
            int cublasGemmEx(void *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *A, int at, int lda,
                             const void *B, int bt, int ldb, const void *beta, void *C, int ct, int ldc, int compute, int algo) {
                note("gemmEx types=%d,%d,%d compute=%d algo=%d", at, bt, ct, compute, algo);
                if (at != 0 || bt != 0 || ct != 0) return 15;
                gemm(ta, tb, m, n, k, *(const float *) alpha, A, lda, B, ldb, *(const float *) beta, C, ldc); return 0; }
            """;
}
