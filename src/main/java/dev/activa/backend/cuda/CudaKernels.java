package dev.activa.backend.cuda;

import dev.activa.activation.Activation;
import dev.activa.activation.Defined;
import dev.activa.tensor.DType;

/**
 * Activa's own kernels with their exact ABI (kernels/README.md): one method per kernel family,
 * taking raw device addresses, choosing the kernel name by dtype and the launch size by the
 * README's table. A launch over zero elements is skipped (a grid must have at least one block).
 */
final class CudaKernels {
    static final int BLOCK = 256;
    /** Grid-stride kernels stop gaining beyond a few waves: at most 8 blocks per SM. */
    static final int BLOCKS_PER_SM = 8;
    static final int MAX_GRID = KernelModule.MAX_GRID;

    /** Where launches go: {@link KernelModule#launch} on a GPU; a recorder where tests check the ABI without one. */
    @FunctionalInterface
    interface Launcher {
        void launch(String name, int grid, int block, int sharedBytes, Object... args);
    }

    private final Launcher module;
    private final int multiprocessors;

    CudaKernels(Launcher module, int multiprocessors) {
        this.module = module;
        this.multiprocessors = multiprocessors;
    }

    // ---------------------------------------------------------------- names and launch sizes (pure)

    /** The kernel-name suffix of a storage dtype; the kernels have no FP64 variants. */
    static String suffix(DType dtype) {
        return switch (dtype) {
            case F32 -> "f32";
            case F16 -> "f16";
            case F64 -> throw new IllegalArgumentException("the CUDA kernels have no FP64 variant");
        };
    }

    /** Elements per 128-bit pack of the vectorised elementwise kernels. */
    static int vectorWidth(DType dtype) {
        return dtype == DType.F16 ? 8 : 4;
    }

    /** {@code activa_[add_]act_{fwd,bwd}_{act}_{dt}}; an activation defined in Java has none. */
    static String activationKernel(Activation act, boolean fusedResidual, boolean backward, DType dtype) {
        if (act instanceof Defined)
            throw new IllegalArgumentException("cuda backend: activation '" + act.name() + "' is defined in Java "
                    + "(Activation.define), and the GPU runs compiled kernels only, for " + String.join(", ", Activation.NAMES)
                    + "; train it on the CPU backend, or add its functor to kernels/activations.cuh");
        return "activa_" + (fusedResidual ? "add_act_" : "act_") + (backward ? "bwd_" : "fwd_") + act.name() + "_"
                + suffix(dtype);
    }

    /** Blocks of {@link #BLOCK} threads for a grid-stride kernel over {@code units} work items. */
    static int elementwiseGrid(long units, int multiprocessors) {
        long blocks = (units + BLOCK - 1) / BLOCK;
        return (int) Math.max(1, Math.min(blocks, (long) BLOCKS_PER_SM * Math.max(1, multiprocessors)));
    }

    /** Work items of a vectorised elementwise kernel: one per pack, the tail counting as a pack. */
    static long vectorUnits(long n, DType dtype) {
        int v = vectorWidth(dtype);
        return (n + v - 1) / v;
    }

    /** The softmax forward runs one block per row, as wide as the classes rounded up to a warp (at most 256). */
    static int softmaxBlock(int classes) {
        return Math.min(BLOCK, Math.max(32, (classes + 31) / 32 * 32));
    }

    /** One block per channel, looping when there are more channels than a grid holds. */
    static int perChannelGrid(int channels) {
        return Math.max(1, Math.min(channels, MAX_GRID));
    }

    // ---------------------------------------------------------------- launches

    private void flat(String name, long units, Object... args) {
        if (units == 0) return;
        module.launch(name, elementwiseGrid(units, multiprocessors), BLOCK, 0, args);
    }

    /** y = a + b. */
    void add(DType dt, long a, long b, long y, long n) {
        flat("activa_add_" + suffix(dt), vectorUnits(n, dt), a, b, y, n);
    }

    /** y = s·x; y may equal x. */
    void scale(DType dt, long x, long y, long n, float s) {
        flat("activa_scale_copy_" + suffix(dt), n, x, y, n, s);
    }

    /** Between FP32 and FP16; x and y must not overlap. */
    void cast(DType from, DType to, long x, long y, long n) {
        flat("activa_cast_" + suffix(from) + "_" + suffix(to), (n + 3) / 4, x, y, n);
    }

    /** y[i] = x[i] + bias[(i / inner) % channels]. */
    void biasAdd(DType dt, long x, long bias, long y, long n, int inner, int channels) {
        flat("activa_bias_add_" + suffix(dt), n, x, bias, y, n, inner, channels);
    }

    /** out[ch] (FP32) = Σ over o, k of x[(o·channels + ch)·inner + k]. */
    void channelSum(DType dt, long x, long out, int outer, int channels, int inner) {
        if (channels == 0) return;
        module.launch("activa_channel_sum_" + suffix(dt), perChannelGrid(channels), BLOCK, 0, x, out, outer, channels, inner);
    }

    /** y = act(x) or act(x + residual) when residual is not 0. {@code p} holds Nami's w, a, b (zeros otherwise). */
    void activationForward(Activation act, DType dt, float[] p, long x, long residual, long y, long n) {
        boolean fused = residual != 0;
        String name = activationKernel(act, fused, false, dt);
        long units = vectorUnits(n, dt);
        if (fused) flat(name, units, x, residual, y, n, p[0], p[1], p[2]);
        else flat(name, units, x, y, n, p[0], p[1], p[2]);
    }

    /** dx = dy·act'(x [+ residual]); for Nami adds Σ dy·∂f/∂p into the device float[3] {@code dparams}. */
    void activationBackward(Activation act, DType dt, float[] p, long x, long residual, long dy, long dx, long n,
                            long dparams) {
        boolean fused = residual != 0;
        String name = activationKernel(act, fused, true, dt);
        long units = vectorUnits(n, dt);
        if (fused) flat(name, units, x, residual, dy, dx, n, p[0], p[1], p[2], dparams);
        else flat(name, units, x, dy, dx, n, p[0], p[1], p[2], dparams);
    }

    /** Per-row loss (FP32) and FP32 probabilities. */
    void softmaxCrossEntropyForward(DType dt, long logits, long labels, long lossRows, long probs, int rows, int classes,
                                    float smoothing) {
        if (rows == 0) return;
        module.launch("activa_softmax_xent_fwd_" + suffix(dt), Math.min(rows, MAX_GRID), softmaxBlock(classes), 0,
                logits, labels, lossRows, probs, rows, classes, smoothing);
    }

    /** dlogits = (probs − target)·scale. */
    void softmaxCrossEntropyBackward(DType dt, long probs, long labels, long dlogits, int rows, int classes,
                                     float smoothing, float scale) {
        flat("activa_softmax_xent_bwd_" + suffix(dt), (long) rows * classes, probs, labels, dlogits, rows, classes,
                smoothing, scale);
    }

    /**
     * Global average pooling of images [images][hw][channels] (NHWC) into [images][channels]. NCHW
     * data goes through the same kernel: its planes are NHWC images with one channel, [N·C][H·W][1].
     */
    void globalAvgPoolForward(DType dt, long x, long y, int images, int hw, int channels) {
        flat("activa_global_avgpool_fwd_" + suffix(dt), (long) images * channels, x, y, images, hw, channels);
    }

    void globalAvgPoolBackward(DType dt, long dy, long dx, int images, int hw, int channels) {
        flat("activa_global_avgpool_bwd_" + suffix(dt), (long) images * hw * channels, dy, dx, images, hw, channels);
    }

    /** A square max-pool window over N·C planes stored NCHW or, where {@code channelsLast}, NHWC. */
    record PoolGeometry(int planes, int h, int w, int kernel, int stride, int pad, int ho, int wo, int channels,
                        boolean channelsLast) {
        long outputs() { return (long) planes * ho * wo; }

        long inputs() { return (long) planes * h * w; }
    }

    void maxPoolForward(DType dt, PoolGeometry g, long x, long y, long argmax) {
        flat("activa_maxpool_fwd_" + suffix(dt), g.outputs(), x, y, argmax, g.planes(), g.h(), g.w(), g.kernel(),
                g.stride(), g.pad(), g.ho(), g.wo(), g.channels(), g.channelsLast() ? 1 : 0);
    }

    void maxPoolBackward(DType dt, PoolGeometry g, long dy, long argmax, long dx) {
        flat("activa_maxpool_bwd_" + suffix(dt), g.inputs(), dy, argmax, dx, g.planes(), g.h(), g.w(), g.kernel(),
                g.stride(), g.pad(), g.ho(), g.wo(), g.channels(), g.channelsLast() ? 1 : 0);
    }

    /** y[b][c][r] = x[b][r][c]: NCHW → NHWC with rows = C, cols = H·W; back with rows = H·W, cols = C. */
    void transpose(DType dt, long x, long y, int batch, int rows, int cols) {
        flat("activa_transpose_" + suffix(dt), (long) batch * rows * cols, x, y, batch, rows, cols);
    }

    /** grad *= invScale; sets the device int {@code foundInf} to 1 on any Inf/NaN (zero it first). */
    void unscaleCheck(long grad, long n, float invScale, long foundInf) {
        flat("activa_unscale_check_f32", n, grad, n, invScale, foundInf);
    }

    /** PyTorch SGD over FP32 weights; {@code foundInf} 0 means "always apply". */
    void sgdUpdate(long w, long grad, long momentumBuffer, long n, float lr, float momentum, float weightDecay,
                   boolean nesterov, long foundInf) {
        flat("activa_sgd_update_f32", n, w, grad, momentumBuffer, n, lr, momentum, weightDecay, nesterov ? 1 : 0, foundInf);
    }
}
