package dev.activa.backend.cpu;

/**
 * FP32 convolution as im2col + {@link Sgemm}. Images are unfolded in chunks into one column
 * matrix [C·R·S, images·Ho·Wo], so the GEMM is wide even for the small late-layer feature maps.
 * The unfolding is a gather through an index table computed once per geometry.
 */
final class Im2colConv {
    /** Floats per column buffer: bounds memory while keeping GEMMs large. */
    private static final int COLUMN_BUDGET = 1 << 22;

    /** One convolution's shape: input [c, h, w] per image, kernel r×s, output ho×wo. */
    record Geometry(int c, int h, int w, int r, int s, int stride, int pad) {
        int ho() { return (h + 2 * pad - r) / stride + 1; }
        int wo() { return (w + 2 * pad - s) / stride + 1; }
        int rows() { return c * r * s; }
        int outPlane() { return ho() * wo(); }
        int inImage() { return c * h * w; }

        /** For row (ci, i, j) and output position q: the input offset within one image, or −1 for padding. */
        int[] table() {
            int ho = ho(), wo = wo(), plane = ho * wo;
            int[] t = new int[rows() * plane];
            for (int ci = 0; ci < c; ci++)
                for (int i = 0; i < r; i++)
                    for (int j = 0; j < s; j++) {
                        int row = (ci * r + i) * s + j;
                        for (int oy = 0; oy < ho; oy++)
                            for (int ox = 0; ox < wo; ox++) {
                                int iy = oy * stride - pad + i, ix = ox * stride - pad + j;
                                t[row * plane + oy * wo + ox] =
                                        iy < 0 || iy >= h || ix < 0 || ix >= w ? -1 : (ci * h + iy) * w + ix;
                            }
                    }
            return t;
        }

        int imagesPerChunk(int n) {
            return Math.max(1, Math.min(n, COLUMN_BUDGET / Math.max(1, rows() * outPlane())));
        }
    }

    private final Geometry g;
    private final int[] table;

    Im2colConv(Geometry g) {
        this.g = g;
        this.table = g.table();
    }

    /** y [n, k, ho, wo] = x [n, c, h, w] ⊛ w [k, c, r, s]. */
    void forward(float[] x, float[] w, float[] y, int n, int k) {
        int rows = g.rows(), plane = g.outPlane(), chunk = g.imagesPerChunk(n);
        float[] col = new float[rows * chunk * plane];
        float[] out = new float[k * chunk * plane];
        for (int b0 = 0; b0 < n; b0 += chunk) {
            int nb = Math.min(chunk, n - b0), cols = nb * plane;
            unfold(x, b0, nb, col, cols);
            Sgemm.gemm(false, false, k, cols, rows, 1f, w, 0, rows, col, 0, cols, 0f, out, 0, cols);
            for (int b = 0; b < nb; b++)
                for (int o = 0; o < k; o++)
                    System.arraycopy(out, o * cols + b * plane, y, ((b0 + b) * k + o) * plane, plane);
        }
    }

    /** dx [n, c, h, w] = conv-transpose of dy with w. */
    void backwardInput(float[] dy, float[] w, float[] dx, int n, int k) {
        int rows = g.rows(), plane = g.outPlane(), chunk = g.imagesPerChunk(n), image = g.inImage();
        float[] dyCols = new float[k * chunk * plane];
        float[] dcol = new float[rows * chunk * plane];
        java.util.Arrays.fill(dx, 0f);
        for (int b0 = 0; b0 < n; b0 += chunk) {
            int nb = Math.min(chunk, n - b0), cols = nb * plane;
            gatherOutput(dy, b0, nb, k, dyCols, cols);
            Sgemm.gemm(true, false, rows, cols, k, 1f, w, 0, rows, dyCols, 0, cols, 0f, dcol, 0, cols);
            int first = b0;
            // Images own disjoint parts of dx, so the scatter-add runs in parallel over images.
            Parallel.forRange(nb, 1, (i0, i1) -> {
                for (int b = i0; b < i1; b++) {
                    int base = (first + b) * image;
                    for (int row = 0; row < rows; row++) {
                        int src = row * cols + b * plane, t = row * plane;
                        for (int q = 0; q < plane; q++) {
                            int idx = table[t + q];
                            if (idx >= 0) dx[base + idx] += dcol[src + q];
                        }
                    }
                }
            });
        }
    }

    /** dw [k, c, r, s] = Σ over images of dy ⊗ unfolded x. */
    void backwardWeight(float[] dy, float[] x, float[] dw, int n, int k) {
        int rows = g.rows(), plane = g.outPlane(), chunk = g.imagesPerChunk(n);
        float[] col = new float[rows * chunk * plane];
        float[] dyCols = new float[k * chunk * plane];
        for (int b0 = 0; b0 < n; b0 += chunk) {
            int nb = Math.min(chunk, n - b0), cols = nb * plane;
            unfold(x, b0, nb, col, cols);
            gatherOutput(dy, b0, nb, k, dyCols, cols);
            Sgemm.gemm(false, true, k, rows, cols, 1f, dyCols, 0, cols, col, 0, cols, b0 == 0 ? 0f : 1f, dw, 0, rows);
        }
    }

    private void unfold(float[] x, int b0, int nb, float[] col, int cols) {
        int rows = g.rows(), plane = g.outPlane(), image = g.inImage();
        Parallel.forRange(rows, Math.max(1, 4096 / Math.max(1, cols)), (r0, r1) -> {
            for (int row = r0; row < r1; row++) {
                int t = row * plane;
                for (int b = 0; b < nb; b++) {
                    int base = (b0 + b) * image, dst = row * cols + b * plane;
                    for (int q = 0; q < plane; q++) {
                        int idx = table[t + q];
                        col[dst + q] = idx < 0 ? 0f : x[base + idx];
                    }
                }
            }
        });
    }

    /** dy [n, k, plane] for images b0.. → [k, nb·plane]. */
    private static void gatherOutput(float[] dy, int b0, int nb, int k, float[] dst, int cols) {
        int plane = cols / nb;
        for (int b = 0; b < nb; b++)
            for (int o = 0; o < k; o++)
                System.arraycopy(dy, ((b0 + b) * k + o) * plane, dst, o * cols + b * plane, plane);
    }
}
