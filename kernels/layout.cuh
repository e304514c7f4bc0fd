// Activa: where an element of an image tensor lives, for the two layouts the Java CUDA
// backend stores 4-D tensors in — NCHW, or channels-last (NHWC) with the logical shape
// still [N, C, H, W] — and the per-element bodies of the kernels that depend on it:
// max pooling with its argmax, and the batched transpose between the layouts.
//
// The bodies are __host__ __device__ and take one index, so native-tests/layout_test
// runs them on the CPU for every index of a tensor and compares with a plain reference.
// An argmax always holds logical (NCHW, row-major) indexes, whatever the layout: it is
// the Backend contract's int[], read on the host.
#pragma once

#include <math.h>

#include "elementwise.cuh"

namespace activa {

// One image tensor: planes = N * channels logical planes of h x w.
struct ImageGeometry {
    int channels, h, w;
    bool channels_last;

    // Memory offset of element (plane = n * channels + c, y, x).
    ACTIVA_HD long long offset(long long plane, int y, int x) const {
        if (!channels_last) return (plane * h + y) * w + x;
        const long long n = plane / channels, c = plane - n * channels;
        return ((n * h + y) * w + x) * channels + c;
    }

    // Row-major NCHW index of element (plane, y, x): what an argmax holds.
    ACTIVA_HD long long logical(long long plane, int y, int x) const { return (plane * h + y) * w + x; }

    // The element stored at memory offset i.
    ACTIVA_HD void element(long long i, long long& plane, int& y, int& x) const {
        long long c = 0;
        if (channels_last) {
            c = i % channels;
            i /= channels;
        }
        x = static_cast<int>(i % w);
        i /= w;
        y = static_cast<int>(i % h);
        plane = channels_last ? (i / h) * channels + c : i / h;
    }
};

// Max pooling, one output element (memory offset o) per call: the window's maximum, zero
// padding never winning (padded cells are skipped); argmax gets the logical input index
// of the first maximum in window order, at the output's logical index, as the CPU
// reference picks it.
template <typename T>
ACTIVA_HD void maxpool_fwd_at(long long o, const T* x, T* y, int* argmax, const ImageGeometry& in,
                              const ImageGeometry& out, int k, int stride, int pad) {
    long long plane;
    int oy, ox;
    out.element(o, plane, oy, ox);
    float best = -INFINITY;
    long long where = -1;
    for (int i = 0; i < k; ++i) {
        const int iy = oy * stride - pad + i;
        if (iy < 0 || iy >= in.h) continue;
        for (int j = 0; j < k; ++j) {
            const int ix = ox * stride - pad + j;
            if (ix < 0 || ix >= in.w) continue;
            const float v = load1(x + in.offset(plane, iy, ix));
            if (where < 0 || v > best) {
                best = v;
                where = in.logical(plane, iy, ix);
            }
        }
    }
    store1(y + o, best);
    argmax[out.logical(plane, oy, ox)] = static_cast<int>(where);
}

// Max pooling backward, one input element (memory offset i) per call: the sum of dy over
// the windows that cover it and took it. A gather, so overlapping windows need no
// atomics; the sum runs in output order, as the CPU reference's scatter does.
template <typename T>
ACTIVA_HD void maxpool_bwd_at(long long i, const T* dy, const int* argmax, T* dx, const ImageGeometry& in,
                              const ImageGeometry& out, int k, int stride, int pad) {
    long long plane;
    int iy, ix;
    in.element(i, plane, iy, ix);
    const long long mine = in.logical(plane, iy, ix);
    // Windows covering iy: oy * stride - pad <= iy <= oy * stride - pad + k - 1.
    const int low_y = iy + pad - k + 1, low_x = ix + pad - k + 1;
    const int oy0 = low_y <= 0 ? 0 : (low_y + stride - 1) / stride;
    const int ox0 = low_x <= 0 ? 0 : (low_x + stride - 1) / stride;
    const int oy1 = (iy + pad) / stride < out.h - 1 ? (iy + pad) / stride : out.h - 1;
    const int ox1 = (ix + pad) / stride < out.w - 1 ? (ix + pad) / stride : out.w - 1;
    float g = 0.0f;
    for (int oy = oy0; oy <= oy1; ++oy)
        for (int ox = ox0; ox <= ox1; ++ox)
            if (argmax[out.logical(plane, oy, ox)] == mine) g += load1(dy + out.offset(plane, oy, ox));
    store1(dx + i, g);
}

// y[b][c][r] = x[b][r][c] for one output element t: NCHW -> NHWC is rows = C, cols = H*W,
// NHWC -> NCHW rows = H*W, cols = C. A copy of the bits, no conversion.
template <typename T>
ACTIVA_HD void transpose_at(long long t, const T* x, T* y, int rows, int cols) {
    const long long plane = static_cast<long long>(rows) * cols;
    const long long b = t / plane, rest = t - b * plane;
    const long long c = rest / rows, r = rest - c * rows;
    y[t] = x[(b * rows + r) * cols + c];
}

}  // namespace activa
