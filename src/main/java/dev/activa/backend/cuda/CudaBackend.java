package dev.activa.backend.cuda;

import static dev.activa.backend.cuda.DeviceTensors.address;
import static dev.activa.backend.cuda.DeviceTensors.release;

import dev.activa.activation.Activation;
import dev.activa.backend.Backend;
import dev.activa.backend.Checks;
import dev.activa.backend.Conv2dSpec;
import dev.activa.backend.cuda.CudaKernels.PoolGeometry;
import dev.activa.tensor.DType;
import dev.activa.tensor.Shape;
import dev.activa.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The NVIDIA GPU backend: FP32 and FP16 tensors in device memory, computed by Activa's kernels
 * (elementwise, activations, reductions, loss, pooling, SGD), cuDNN (convolutions, batch norm)
 * and cuBLAS (matrix products). FP64 stays on the CPU backend, which gradient checks use.
 *
 * <ul>
 *   <li><b>Layout.</b> 4-D tensors in the {@link ImageLayout} chosen at opening, channels-last
 *       (NHWC) by default, for cuDNN's tensor-core convolutions and persistent batch norm; their
 *       shapes stay NCHW and host copies are transposed on the host. Other ranks are row-major.
 *       {@code view} shares storage where the memory order allows, and copies otherwise.</li>
 *   <li><b>Memory.</b> Every buffer comes from one {@link CachingAllocator} through
 *       {@link DeviceMemory}, and returns there when its storage becomes unreachable.</li>
 *   <li><b>Streams.</b> Everything (kernels, cuDNN, cuBLAS, copies) is queued on the driver's
 *       one non-blocking stream, so ops are ordered without events; only reads to the host
 *       ({@code toFloats}, the loss scaler's flag once per step, Nami's parameter gradients, the
 *       max-pool argmax) wait for the GPU.</li>
 * </ul>
 *
 * <p>Use from one thread at a time (like the cuDNN and cuBLAS handles); a new thread is bound to
 * the device's context on its first call.
 */
public final class CudaBackend implements Backend, AutoCloseable {
    private final CudaDriver driver;
    private final KernelModule module;
    private final Cudnn cudnn;
    private final Cublas cublas;
    private final DeviceMemory memory;
    private final CudaKernels kernels;
    private final DeviceTensors device;
    private final DescriptorCache descriptors = new DescriptorCache();
    private final CudaConvolutions convolutions;
    private final CudaBatchNorm batchNorm;
    private final ImageLayout layout;
    /** Max-pool argmax arrays handed out, by identity (arrays do not override equals), with their device copy. */
    private final Map<int[], PoolRecord> pools = new WeakHashMap<>();
    private Thread boundThread;
    private boolean closed;

    private record PoolRecord(PoolGeometry geometry, CudaStorage argmax) {}

    private CudaBackend(CudaDriver driver, KernelModule module, Cudnn cudnn, Cublas cublas, ImageLayout layout) {
        this.driver = driver;
        this.layout = layout;
        this.module = module;
        this.cudnn = cudnn;
        this.cublas = cublas;
        this.memory = new DeviceMemory(driver.rawMemory(), driver.device().totalMemoryBytes() / 4);
        this.kernels = new CudaKernels(module::launch, driver.device().multiprocessors());
        this.device = new DeviceTensors(this, driver, memory, kernels, layout);
        this.convolutions = new CudaConvolutions(cudnn, descriptors, memory, layout);
        this.batchNorm = new CudaBatchNorm(cudnn, descriptors, device, layout);
        this.boundThread = Thread.currentThread();
    }

    /** The backend on GPU 0, in the configured layout. */
    public static CudaBackend open() { return open(0); }

    /** The backend on GPU {@code ordinal}, in the configured layout ({@link ImageLayout}). */
    public static CudaBackend open(int ordinal) { return open(ordinal, ImageLayout.configured()); }

    /**
     * The backend on GPU {@code ordinal}, storing 4-D tensors in {@code layout}.
     *
     * @throws CudaUnavailableException naming every missing piece (driver, GPU, kernels, cuDNN,
     *                                  cuBLAS) and where each was searched
     */
    public static CudaBackend open(int ordinal, ImageLayout layout) {
        CudaUnavailableException missing = CudaStack.missing();
        if (missing != null) throw missing;
        var opened = new ArrayList<AutoCloseable>();
        try {
            CudaDriver driver = remember(opened, CudaDriver.open(ordinal));
            KernelModule module = remember(opened, KernelModule.load(driver));
            Cudnn cudnn = remember(opened, Cudnn.create(driver));
            Cublas cublas = remember(opened, Cublas.create(driver));
            return new CudaBackend(driver, module, cudnn, cublas, layout);
        } catch (RuntimeException e) {
            closeAll(opened.reversed(), e);
            throw e;
        }
    }

    @Override
    public String name() { return "cuda"; }

    public CudaDriver.DeviceInfo device() { return driver.device(); }

    /** How 4-D tensors lie in device memory. */
    public ImageLayout layout() { return layout; }

    /** The caching allocator's counters (after recycling what is unreachable). */
    public CachingAllocator.Stats memoryStats() {
        memory.reclaim();
        return memory.stats();
    }

    /** Waits until the GPU has finished all queued work (from any thread: it binds the context first). */
    @Override
    public void synchronize() {
        if (closed) throw new IllegalStateException("cuda backend: synchronize after close()");
        bindThread();
        driver.synchronize();
    }

    // ---------------------------------------------------------------- plumbing

    /** Checks an op's tensors (on this GPU, not FP64), binds the thread, and pins them for the op. */
    private void begin(String op, Tensor... inputs) {
        if (closed) throw new IllegalStateException("cuda backend: " + op + " after close()");
        for (Tensor t : inputs) {
            if (t == null) continue;
            if (!(t.storage() instanceof CudaStorage))
                throw new IllegalArgumentException("cuda backend: " + op + ": " + t + " does not live in GPU memory");
            if (t.dtype() == DType.F64) throw fp64(op);
        }
        bindThread();
        memory.enter((Object[]) inputs);
    }

    /** Makes the context current on this thread, where another thread ran the last op. */
    private void bindThread() {
        if (Thread.currentThread() != boundThread) {
            driver.makeCurrent();
            boundThread = Thread.currentThread();
        }
    }

    static UnsupportedOperationException fp64(String op) {
        return new UnsupportedOperationException("cuda backend: " + op + " has no FP64 kernels; use the CPU backend "
                + "(--device cpu) for FP64, e.g. for gradient checks");
    }

    /** Address of an optional tensor: 0 (NULL) when absent. */
    private static long addressOrNull(Tensor t) { return t == null ? 0 : address(t); }

    private static CudaStorage storage(Tensor t) { return (CudaStorage) t.storage(); }

    private static int checkedCount(String op, int[] shape) {
        long n = Shape.numel(shape);
        if (n > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException(op + ": tensor of shape " + Shape.str(shape) + " has " + n
                    + " elements, more than one Java array holds");
        return (int) n;
    }

    // ---------------------------------------------------------------- memory

    @Override
    public Tensor zeros(DType dtype, int... shape) {
        begin("zeros");
        Tensor t = device.allocate("zeros", dtype, shape);
        if (t.numel() > 0) driver.memset(address(t), 0, storage(t).bytes());
        return t;
    }

    @Override
    public Tensor full(DType dtype, double value, int... shape) {
        begin("full");
        Tensor t = device.allocate("full", dtype, shape);
        if (t.numel() == 0) return t;
        if (dtype == DType.F32) driver.fill32(address(t), Float.floatToRawIntBits((float) value), t.numel());
        else driver.fill16(address(t), Float.floatToFloat16((float) value), t.numel());
        return t;
    }

    @Override
    public Tensor fromFloats(float[] data, DType dtype, int... shape) {
        begin("fromFloats");
        Checks.sameCount("fromFloats", data.length, shape);
        Tensor t = device.allocate("fromFloats", dtype, shape);
        device.upload(t, data);
        return t;
    }

    @Override
    public Tensor fromDoubles(double[] data, DType dtype, int... shape) {
        begin("fromDoubles");
        Checks.sameCount("fromDoubles", data.length, shape);
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
        Tensor t = device.allocate("fromDoubles", dtype, shape);
        device.upload(t, f);
        return t;
    }

    @Override
    public float[] toFloats(Tensor t) {
        begin("toFloats", t);
        checkedCount("toFloats", t.shape());
        return device.download(t);
    }

    @Override
    public double[] toDoubles(Tensor t) {
        begin("toDoubles", t);
        checkedCount("toDoubles", t.shape());
        float[] f = device.download(t);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    @Override
    public Tensor cast(Tensor t, DType target) {
        begin("cast", t);
        Tensor out = device.allocate("cast", target, t.shape());
        device.copyInto(out, t);
        return out;
    }

    @Override
    public void copy(Tensor dst, Tensor src) {
        begin("copy", dst, src);
        Checks.sameCount("copy", dst, src);
        Tensor same = layout.sameOrder(src.shape(), dst.shape()) ? src : device.reshaped("copy", src, dst.shape());
        device.copyInto(dst, same);
        release(same, src);
    }

    /** Shares t's storage where both shapes keep the elements in the same memory order, else a copy. */
    @Override
    public Tensor view(Tensor t, int... shape) {
        Shape.requireViewable("view", t, shape);
        if (layout.sameOrder(t.shape(), shape)) return Backend.super.view(t, shape);
        begin("view", t);
        return device.reshaped("view", t, shape);
    }

    // ---------------------------------------------------------------- elementwise

    @Override
    public Tensor add(Tensor a, Tensor b) {
        begin("add", a, b);
        Shape.requireSame("add", a, b);
        Shape.requireDType("add", a, b);
        Tensor y = device.allocate("add", a.dtype(), a.shape());
        kernels.add(a.dtype(), address(a), address(b), address(y), a.numel());
        return y;
    }

    @Override
    public void addInPlace(Tensor acc, Tensor x) {
        begin("addInPlace", acc, x);
        Shape.requireSame("addInPlace", acc, x);
        Tensor same = device.converted(x, acc.dtype());
        kernels.add(acc.dtype(), address(acc), address(same), address(acc), acc.numel());
        release(same, x);
    }

    @Override
    public Tensor scale(Tensor a, double factor) {
        begin("scale", a);
        Tensor y = device.allocate("scale", a.dtype(), a.shape());
        kernels.scale(a.dtype(), address(a), address(y), a.numel(), (float) factor);
        return y;
    }

    /** Nami's effective w, a, b; zeros for activations without parameters (the kernels ignore them). */
    private static float[] kernelParams(double[] params) {
        float[] p = new float[3];
        for (int k = 0; k < Math.min(3, params == null ? 0 : params.length); k++) p[k] = (float) params[k];
        return p;
    }

    @Override
    public Tensor activationForward(Activation act, double[] params, Tensor x, Tensor residual) {
        begin(act.name(), x, residual);
        Checks.residual(act, x, residual);
        Tensor y = device.allocate(act.name(), x.dtype(), x.shape());
        kernels.activationForward(act, x.dtype(), kernelParams(params), address(x), addressOrNull(residual), address(y),
                x.numel());
        return y;
    }

    @Override
    public ActivationGrad activationBackward(Activation act, double[] params, Tensor x, Tensor residual, Tensor dy) {
        String op = act.name() + " backward";
        begin(op, x, residual, dy);
        Checks.residual(act, x, residual);
        Shape.requireSame(op, x, dy);
        Tensor dx = device.allocate(op, dy.dtype(), x.shape());
        return new ActivationGrad(dx, backwardInto(op, act, params, x, residual, dy, dx));
    }

    /** dx may be dy itself: each thread reads an element's dy before it writes that element's dx. */
    @Override
    public double[] activationBackwardInto(Activation act, double[] params, Tensor x, Tensor residual, Tensor dy,
                                           Tensor dx) {
        String op = act.name() + " backward";
        begin(op, x, residual, dy, dx);
        Checks.residual(act, x, residual);
        Shape.requireSame(op, x, dy);
        Shape.requireSame(op + " into dx", x, dx);
        return backwardInto(op, act, params, x, residual, dy, dx);
    }

    /**
     * The activation's backward kernel into dx, the inputs checked and the call begun by the caller,
     * in {@link DeviceTensors#backwardType}.
     */
    private double[] backwardInto(String op, Activation act, double[] params, Tensor x, Tensor residual, Tensor dy,
                                  Tensor dx) {
        DType compute = DeviceTensors.backwardType(x, dy);
        Tensor xs = device.converted(x, compute), g = device.converted(dy, compute);
        Tensor r = residual == null ? null : device.converted(residual, compute);
        Tensor out = dx.dtype() == compute ? dx : device.allocate(op, compute, x.shape());
        int np = act.parameters().size();
        CudaStorage dparams = np == 0 ? null : memory.scratch32(act.name() + " parameter gradients", 3);
        if (dparams != null) driver.memset(dparams.address(), 0, dparams.bytes()); // the kernel adds into it
        kernels.activationBackward(act, compute, kernelParams(params), address(xs), addressOrNull(r), address(g),
                address(out), x.numel(), dparams == null ? 0 : dparams.address());
        double[] paramGrads = new double[np];
        if (dparams != null) {
            float[] sums = new float[3];
            driver.download(dparams.address(), sums);
            for (int k = 0; k < np; k++) paramGrads[k] = sums[k];
            dparams.release();
        }
        release(xs, x);
        release(g, dy);
        if (r != null) release(r, residual);
        if (out != dx) {
            device.copyInto(dx, out);
            release(out, dx);
        }
        return paramGrads;
    }

    @Override
    public Tensor sum(Tensor t) {
        begin("sum", t);
        int n = checkedCount("sum", t.shape());
        Tensor s = device.allocate("sum", DType.F32, 1);
        if (n == 0) driver.memset(address(s), 0, 4);
        else kernels.channelSum(t.dtype(), address(t), address(s), 1, 1, n);
        return device.converted(s, t.dtype());
    }

    /** One kernel per tensor, all setting one device flag, which is read once at the end. */
    @Override
    public boolean unscaleAndCheck(List<Tensor> tensors, double factor) {
        begin("unscaleAndCheck", tensors.toArray(Tensor[]::new));
        CudaStorage found = memory.scratch32("loss scaler's Inf/NaN flag", 1);
        try {
            driver.memset(found.address(), 0, 4);
            for (Tensor t : tensors) {
                if (t.numel() == 0) continue;
                if (t.dtype() == DType.F32) {
                    kernels.unscaleCheck(address(t), t.numel(), (float) factor, found.address());
                    continue;
                }
                // FP16 in FP32, rounded back on the copy; then the stored values are checked (×1), so an
                // overflow to Inf on the way back counts too.
                Tensor f = device.converted(t, DType.F32);
                kernels.unscaleCheck(address(f), f.numel(), (float) factor, found.address());
                device.copyInto(t, f);
                device.copyInto(f, t);
                kernels.unscaleCheck(address(f), f.numel(), 1f, found.address());
                release(f, t);
            }
            int[] flag = new int[1];
            driver.download(found.address(), flag);
            return flag[0] != 0;
        } finally {
            found.release();
        }
    }

    // ---------------------------------------------------------------- convolution

    private static void requireShape(String op, String what, Tensor t, int[] expected) {
        if (!Arrays.equals(t.shape(), expected))
            throw new IllegalArgumentException(op + ": " + what + " must have shape " + Shape.str(expected) + ", got "
                    + Shape.str(t.shape()));
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Conv2dSpec spec) {
        begin("conv2d", x, weight);
        Shape.requireDType("conv2d", x, weight);
        Checks.ConvShape s = Checks.convShape("conv2d", x.shape(), weight.shape(), spec);
        Tensor y = device.allocate("conv2d", x.dtype(), s.outputShape());
        convolutions.forward(x.dtype(), s, spec, address(x), address(weight), address(y));
        return y;
    }

    @Override
    public Tensor conv2dBackwardInput(Tensor dy, Tensor weight, int[] inputShape, Conv2dSpec spec) {
        begin("conv2d backward", dy, weight);
        Checks.ConvShape s = Checks.convShape("conv2d backward", inputShape, weight.shape(), spec);
        requireShape("conv2d backward", "the output gradient", dy, s.outputShape());
        Tensor w = device.converted(weight, dy.dtype());
        Tensor dx = device.allocate("conv2d backward (input)", dy.dtype(), inputShape);
        convolutions.backwardData(dy.dtype(), s, spec, address(dy), address(w), address(dx));
        release(w, weight);
        return dx;
    }

    @Override
    public Tensor conv2dBackwardWeight(Tensor dy, Tensor x, int[] weightShape, Conv2dSpec spec) {
        begin("conv2d backward", dy, x);
        Checks.ConvShape s = Checks.convShape("conv2d backward", x.shape(), weightShape, spec);
        requireShape("conv2d backward", "the output gradient", dy, s.outputShape());
        Tensor in = device.converted(x, dy.dtype());
        Tensor dw = device.allocate("conv2d backward (weight)", dy.dtype(), weightShape);
        convolutions.backwardFilter(dy.dtype(), s, spec, address(in), address(dy), address(dw));
        release(in, x);
        return dw;
    }

    @Override
    public Tensor addChannelBias(Tensor x, Tensor bias) {
        begin("conv2d bias", x, bias);
        Checks.channelBias(x, bias);
        Tensor b = device.converted(bias, x.dtype());
        Tensor y = device.allocate("conv2d bias", x.dtype(), x.shape());
        int inner = layout.channelsLast() ? 1 : x.dim(2) * x.dim(3);
        kernels.biasAdd(x.dtype(), address(x), address(b), address(y), x.numel(), inner, x.dim(1));
        release(b, bias);
        return y;
    }

    @Override
    public Tensor channelSum(Tensor dy) {
        begin("conv2d bias backward", dy);
        Shape.requireRank("conv2d bias backward", "the gradient", dy, 4);
        Tensor out = device.allocate("conv2d bias backward", DType.F32, dy.dim(1));
        int pixels = dy.dim(2) * dy.dim(3), n = dy.dim(0);
        boolean last = layout.channelsLast(); // [N·H·W][C][1] or [N][C][H·W]
        kernels.channelSum(dy.dtype(), address(dy), address(out), last ? n * pixels : n, dy.dim(1), last ? 1 : pixels);
        return out;
    }

    // ---------------------------------------------------------------- batch norm

    @Override
    public BatchNormForward batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                           double momentum, double eps) {
        begin("batchnorm2d", x, gamma, beta, runningMean, runningVar);
        Checks.batchNorm(x, gamma, beta, runningMean, runningVar);
        Checks.batchNormTraining(x);
        return batchNorm.train(x, gamma, beta, runningMean, runningVar, momentum, eps);
    }

    @Override
    public Tensor batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, double eps) {
        begin("batchnorm2d", x, gamma, beta, runningMean, runningVar);
        Checks.batchNorm(x, gamma, beta, runningMean, runningVar);
        return batchNorm.eval(x, gamma, beta, runningMean, runningVar, eps);
    }

    @Override
    public BatchNormGrad batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd) {
        begin("batchnorm2d backward", x, dy, gamma, savedMean, savedInvStd);
        Shape.requireSame("batchnorm2d backward", x, dy);
        Checks.batchNorm(x, gamma, savedMean, savedInvStd);
        return batchNorm.backward(x, dy, gamma, savedMean, savedInvStd);
    }

    // ---------------------------------------------------------------- pooling

    @Override
    public Tensor globalAvgPool(Tensor x) {
        begin("global average pool", x);
        if (x.rank() != 4)
            throw new IllegalArgumentException("global average pool: input must be [N, C, H, W], got " + Shape.str(x.shape()));
        Tensor y = device.allocate("global average pool", x.dtype(), x.dim(0), x.dim(1));
        int[] images = poolImages(x.shape());
        kernels.globalAvgPoolForward(x.dtype(), address(x), address(y), images[0], x.dim(2) * x.dim(3), images[1]);
        return y;
    }

    @Override
    public Tensor globalAvgPoolBackward(Tensor dy, int[] inputShape) {
        begin("global average pool backward", dy);
        requireShape("global average pool backward", "the gradient", dy, new int[] {inputShape[0], inputShape[1]});
        Tensor dx = device.allocate("global average pool backward", dy.dtype(), inputShape);
        int[] images = poolImages(inputShape);
        kernels.globalAvgPoolBackward(dy.dtype(), address(dy), address(dx), images[0], inputShape[2] * inputShape[3],
                images[1]);
        return dx;
    }

    /**
     * The average-pool kernels' images and channels for an [N, C, H, W] input: N images of C
     * channels channels-last; NCHW planes are N·C images of one channel.
     */
    private int[] poolImages(int[] shape) {
        return layout.channelsLast() ? new int[] {shape[0], shape[1]} : new int[] {shape[0] * shape[1], 1};
    }

    /**
     * The argmax is computed on the GPU and copied to the host, as the contract's {@code int[]}
     * asks; the device copy is kept (keyed by that array's identity, released with it) so the
     * backward runs on the GPU without uploading it again.
     */
    @Override
    public MaxPoolForward maxPool(Tensor x, int kernel, Conv2dSpec spec) {
        begin("max pool", x);
        int[] out = Checks.maxPoolShape(x, kernel, spec);
        var geometry = new PoolGeometry(x.dim(0) * x.dim(1), x.dim(2), x.dim(3), kernel, spec.stride(), spec.padding(),
                out[2], out[3], x.dim(1), layout.channelsLast());
        Tensor y = device.allocate("max pool", x.dtype(), out);
        CudaStorage argmaxOnDevice = memory.scratch32("max pool argmax", geometry.outputs());
        kernels.maxPoolForward(x.dtype(), geometry, address(x), address(y), argmaxOnDevice.address());
        int[] argmax = new int[checkedCount("max pool", out)];
        if (argmax.length > 0) driver.download(argmaxOnDevice.address(), argmax);
        pools.put(argmax, new PoolRecord(geometry, argmaxOnDevice));
        return new MaxPoolForward(y, argmax);
    }

    @Override
    public Tensor maxPoolBackward(Tensor dy, int[] argmax, int[] inputShape) {
        begin("max pool backward", dy);
        if (argmax.length != dy.numel())
            throw new IllegalArgumentException("max pool backward: " + argmax.length + " argmax entries for a gradient of "
                    + dy.numel() + " elements");
        Tensor dx = device.allocate("max pool backward", dy.dtype(), inputShape);
        PoolRecord pool = pools.get(argmax);
        if (pool != null && pool.geometry().inputs() == dx.numel()) {
            kernels.maxPoolBackward(dy.dtype(), pool.geometry(), address(dy), pool.argmax().address(), address(dx));
            return dx;
        }
        // An argmax this backend did not make: the window geometry is unknown, so scatter on the host.
        float[] g = device.download(dy), d = new float[checkedCount("max pool backward", inputShape)];
        for (int i = 0; i < g.length; i++) d[argmax[i]] += g[i];
        device.upload(dx, d);
        return dx;
    }

    // ---------------------------------------------------------------- linear algebra and loss

    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transposeA, boolean transposeB) {
        begin("matmul", a, b);
        int[] mnk = Checks.matmulShape(a, b, transposeA, transposeB);
        int m = mnk[0], n = mnk[1], k = mnk[2];
        Tensor c = device.allocate("matmul", a.dtype(), m, n);
        if ((long) m * n == 0) return c;
        if (k == 0) {
            driver.memset(address(c), 0, storage(c).bytes());
            return c;
        }
        Cublas.Operation opA = transposeA ? Cublas.Operation.T : Cublas.Operation.N;
        Cublas.Operation opB = transposeB ? Cublas.Operation.T : Cublas.Operation.N;
        if (a.dtype() == DType.F32)
            cublas.gemmRowMajor(opA, opB, m, n, k, 1f, address(a), a.dim(1), address(b), b.dim(1), 0f, address(c), n);
        else
            cublas.gemmRowMajor(opA, opB, m, n, k, 1f, address(a), a.dim(1), address(b), b.dim(1), 0f, address(c), n,
                    Cublas.DataType.R_16F);
        return c;
    }

    @Override
    public Tensor addRowBias(Tensor x, Tensor bias) {
        begin("linear bias", x, bias);
        Checks.rowBias(x, bias);
        Tensor b = device.converted(bias, x.dtype());
        Tensor y = device.allocate("linear bias", x.dtype(), x.shape());
        kernels.biasAdd(x.dtype(), address(x), address(b), address(y), x.numel(), 1, x.dim(1));
        release(b, bias);
        return y;
    }

    @Override
    public Tensor rowSum(Tensor x) {
        begin("linear bias backward", x);
        Shape.requireRank("linear bias backward", "the gradient", x, 2);
        Tensor out = device.allocate("linear bias backward", DType.F32, x.dim(1));
        kernels.channelSum(x.dtype(), address(x), address(out), x.dim(0), x.dim(1), 1);
        return out;
    }

    @Override
    public CrossEntropyForward softmaxCrossEntropy(Tensor logits, int[] labels, double smoothing) {
        begin("softmax cross-entropy", logits);
        Checks.labels("softmax cross-entropy", logits, labels);
        int rows = logits.dim(0), classes = logits.dim(1);
        CudaStorage labelsOnDevice = device.uploadInts("softmax cross-entropy labels", labels);
        CudaStorage lossRows = memory.scratch32("softmax cross-entropy row losses", rows);
        Tensor probs = device.allocate("softmax cross-entropy probabilities", DType.F32, rows, classes);
        kernels.softmaxCrossEntropyForward(logits.dtype(), address(logits), labelsOnDevice.address(), lossRows.address(),
                address(probs), rows, classes, (float) smoothing);
        Tensor loss = device.allocate("softmax cross-entropy loss", DType.F32, 1);
        kernels.channelSum(DType.F32, lossRows.address(), address(loss), 1, 1, rows);
        kernels.scale(DType.F32, address(loss), address(loss), 1, 1f / rows);
        labelsOnDevice.release();
        lossRows.release();
        return new CrossEntropyForward(loss, probs);
    }

    @Override
    public Tensor softmaxCrossEntropyBackward(Tensor probabilities, int[] labels, double smoothing, double upstream,
                                              DType logitsType) {
        begin("softmax cross-entropy backward", probabilities);
        if (logitsType == DType.F64) throw fp64("softmax cross-entropy backward");
        Checks.labels("softmax cross-entropy backward", probabilities, labels);
        int rows = probabilities.dim(0), classes = probabilities.dim(1);
        Tensor p = device.converted(probabilities, DType.F32);
        CudaStorage labelsOnDevice = device.uploadInts("softmax cross-entropy labels", labels);
        Tensor d = device.allocate("softmax cross-entropy backward", logitsType, rows, classes);
        kernels.softmaxCrossEntropyBackward(logitsType, address(p), labelsOnDevice.address(), address(d), rows, classes,
                (float) smoothing, (float) (upstream / rows));
        labelsOnDevice.release();
        release(p, probabilities);
        return d;
    }

    // ---------------------------------------------------------------- optimiser

    @Override
    public void sgdStep(Tensor weight, Tensor grad, Tensor momentumBuffer, double lr, double momentum,
                        double weightDecay, boolean nesterov, double gradScale) {
        begin("sgd", weight, grad, momentumBuffer);
        Shape.requireSame("sgd", weight, grad);
        Shape.requireSame("sgd", weight, momentumBuffer);
        if (weight.dtype() != DType.F32 || momentumBuffer.dtype() != DType.F32)
            throw new IllegalArgumentException("sgd: weights and momentum must be FP32 (master weights), got "
                    + weight.dtype() + " and " + momentumBuffer.dtype());
        // The kernel takes an FP32 gradient as it is: convert and scale a copy (the caller's stays untouched).
        Tensor g = grad;
        if (grad.dtype() != DType.F32 || gradScale != 1) {
            g = device.allocate("sgd gradient", DType.F32, grad.shape());
            device.copyInto(g, grad);
            kernels.scale(DType.F32, address(g), address(g), g.numel(), (float) gradScale);
        }
        kernels.sgdUpdate(address(weight), address(g), address(momentumBuffer), weight.numel(), (float) lr,
                (float) momentum, (float) weightDecay, nesterov, 0);
        release(g, grad);
    }

    // ---------------------------------------------------------------- lifetime

    /** Waits for the GPU, then destroys the handles, the module and the stream. Tensors made here become unusable. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        driver.makeCurrent();
        RuntimeException first = null;
        try {
            driver.synchronize();
        } catch (RuntimeException e) {
            first = e;
        }
        pools.clear();
        List<AutoCloseable> handles = List.of(descriptors, cublas, cudnn, module, memory::emptyCache, driver);
        closeAll(handles, first);
        if (first != null) throw first;
    }

    private static <T extends AutoCloseable> T remember(List<AutoCloseable> opened, T resource) {
        opened.add(resource);
        return resource;
    }

    /** Closes each in order; failures after {@code primary} are attached to it (or thrown if there is none). */
    private static void closeAll(List<AutoCloseable> resources, RuntimeException primary) {
        RuntimeException failure = null;
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                if (primary != null) primary.addSuppressed(e);
                else if (failure == null) failure = e instanceof RuntimeException re ? re : new IllegalStateException(e);
            }
        }
        if (failure != null) throw failure;
    }

    @Override
    public String toString() {
        return "cuda backend on " + driver.device().name() + " (GPU " + driver.device().ordinal() + ", " + layout + ")";
    }
}
