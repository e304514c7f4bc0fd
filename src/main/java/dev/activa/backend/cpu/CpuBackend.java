package dev.activa.backend.cpu;

import dev.activa.activation.Activation;
import dev.activa.backend.Backend;
import dev.activa.backend.Checks;
import dev.activa.backend.Conv2dSpec;
import dev.activa.tensor.DType;
import dev.activa.tensor.Shape;
import dev.activa.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;

/**
 * The CPU backend. FP32 runs the fast kernels ({@link FloatKernels}, {@link Im2colConv},
 * {@link Sgemm}); FP16 is stored in 16 bits and computed through them in float; FP64 runs the
 * plain reference kernels ({@link CpuReference}) that gradient checks rely on.
 */
public final class CpuBackend implements Backend, AutoCloseable {
    private final Parallel parallel;
    /** Intermediate tensors' arrays, lent again to outputs (see {@link #recycle}). */
    private final ArrayPool pool = new ArrayPool(Runtime.getRuntime().maxMemory() / 4);
    private final Map<Im2colConv.Geometry, Im2colConv> convolutions = new ConcurrentHashMap<>();

    /**
     * Parallel loops on the common fork-join pool: every core, shared with the rest of the JVM
     * (parallel streams, {@code CompletableFuture}'s default executor).
     */
    public CpuBackend() { this(Parallel.COMMON); }

    /**
     * Parallel loops on a pool of this backend's own with {@code threads} workers (idle workers end
     * after a minute; {@link #close} ends them all), or on the calling thread alone for 1: a
     * service keeps training off the common pool, and, since loops are cut by the thread count
     * alone, a run repeats bit for bit on another machine of the same architecture, JDK and vector
     * width.
     */
    public CpuBackend(int threads) { this(Parallel.ofThreads(threads)); }

    /** Parallel loops on the given pool (a service's own), cut for its parallelism; a pool of 1 leaves them to the caller. */
    public CpuBackend(ForkJoinPool pool) { this(Parallel.on(Objects.requireNonNull(pool, "pool"))); }

    private CpuBackend(Parallel parallel) { this.parallel = parallel; }

    /** The threads a parallel loop runs on, which also decide how its work is cut. */
    public int threads() { return parallel.threads(); }

    /**
     * Shuts down the pool of a backend made with a thread count (a given pool, or the common one,
     * stays) and {@linkplain #releasePooledArrays releases} the arrays and scratch held for reuse.
     */
    @Override
    public void close() {
        parallel.close();
        releasePooledArrays();
    }

    @Override
    public String name() { return "cpu"; }

    // --- storage helpers ------------------------------------------------------------------------

    private static CpuStorage storage(Tensor t) {
        if (!(t.storage() instanceof CpuStorage s))
            throw new IllegalArgumentException("cpu backend: " + t + " does not live in host memory");
        return s;
    }

    /** The elements as floats: the array itself for FP32, a converted copy otherwise. */
    static float[] floats(Tensor t) {
        return switch (storage(t)) {
            case CpuStorage.F32 f32 -> f32.data();
            case CpuStorage.F16(short[] bits) -> {
                float[] out = new float[bits.length];
                for (int i = 0; i < bits.length; i++) out[i] = Float.float16ToFloat(bits[i]);
                yield out;
            }
            case CpuStorage.F64(double[] d) -> {
                float[] out = new float[d.length];
                for (int i = 0; i < d.length; i++) out[i] = (float) d[i];
                yield out;
            }
        };
    }

    /** The elements as doubles: the array itself for FP64, a converted copy otherwise. */
    static double[] doubles(Tensor t) {
        return switch (storage(t)) {
            case CpuStorage.F64(double[] d) -> d;
            case CpuStorage.F32 f32 -> {
                float[] d = f32.data();
                double[] out = new double[d.length];
                for (int i = 0; i < d.length; i++) out[i] = d[i];
                yield out;
            }
            case CpuStorage.F16(short[] bits) -> {
                double[] out = new double[bits.length];
                for (int i = 0; i < bits.length; i++) out[i] = Float.float16ToFloat(bits[i]);
                yield out;
            }
        };
    }

    private Tensor wrap(float[] data, DType dtype, int... shape) {
        return new Tensor(this, dtype, shape, switch (dtype) {
            case F32 -> new CpuStorage.F32(data);
            case F16 -> {
                short[] bits = new short[data.length];
                for (int i = 0; i < data.length; i++) bits[i] = Float.floatToFloat16(data[i]);
                yield new CpuStorage.F16(bits);
            }
            case F64 -> {
                double[] d = new double[data.length];
                for (int i = 0; i < data.length; i++) d[i] = data[i];
                yield new CpuStorage.F64(d);
            }
        });
    }

    private Tensor wrap(double[] data, DType dtype, int... shape) {
        if (dtype == DType.F64) return new Tensor(this, dtype, shape, new CpuStorage.F64(data));
        float[] f = new float[data.length];
        for (int i = 0; i < data.length; i++) f[i] = (float) data[i];
        return wrap(f, dtype, shape);
    }

    private static boolean exact(Tensor t) { return t.dtype() == DType.F64; }

    private static int checkedSize(int[] shape) {
        long n = Shape.numel(shape);
        if (n > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("cpu backend: tensor of shape " + Shape.str(shape) + " has " + n
                    + " elements, more than one Java array holds");
        for (int d : shape)
            if (d < 0) throw new IllegalArgumentException("cpu backend: negative dimension in " + Shape.str(shape));
        return (int) n;
    }

    // --- memory ---------------------------------------------------------------------------------

    /** Gives an intermediate tensor's array back to the pool; reading the tensor or its views afterwards is an error. */
    @Override
    public void recycle(Tensor t) {
        if (t.storage() instanceof CpuStorage.F32 s) {
            float[] a = s.reclaim();
            if (a != null) pool.give(a);
        }
    }

    /** Arrays made new and lent again for outputs so far, and the bytes the pool holds now. */
    public ArrayPool.Stats pooledArrays() {
        return pool.stats();
    }

    /**
     * Drops the arrays the pool holds, and the kernels' idle scratch (shared by every CPU backend of
     * the process), for the collector: a service between trainings.
     */
    public void releasePooledArrays() {
        pool.clear();
        Workspaces.releaseIdle();
    }

    /** An array for an output of n floats that its kernel writes in full: lent by the pool, old contents and all. */
    private float[] outputArray(int n) {
        return pool.take(n);
    }

    /** The tensor over an {@link #outputArray}: FP32 keeps the array (for {@link #recycle}), FP16 converts and gives it back. */
    private Tensor output(float[] y, DType dtype, int... shape) {
        if (dtype != DType.F32) {
            Tensor t = wrap(y, dtype, shape);
            pool.give(y);
            return t;
        }
        return new Tensor(this, dtype, shape, new CpuStorage.F32(y, ArrayPool.pooled(y.length)));
    }

    @Override
    public Tensor zeros(DType dtype, int... shape) {
        int n = checkedSize(shape);
        return new Tensor(this, dtype, shape, switch (dtype) {
            case F16 -> new CpuStorage.F16(new short[n]);
            case F32 -> new CpuStorage.F32(new float[n]);
            case F64 -> new CpuStorage.F64(new double[n]);
        });
    }

    @Override
    public Tensor full(DType dtype, double value, int... shape) {
        double[] d = new double[checkedSize(shape)];
        Arrays.fill(d, value);
        return wrap(d, dtype, shape);
    }

    @Override
    public Tensor fromFloats(float[] data, DType dtype, int... shape) {
        if (data.length != checkedSize(shape))
            throw new IllegalArgumentException("fromFloats: " + data.length + " values do not fill shape " + Shape.str(shape));
        return wrap(data.clone(), dtype, shape);
    }

    @Override
    public Tensor fromDoubles(double[] data, DType dtype, int... shape) {
        if (data.length != checkedSize(shape))
            throw new IllegalArgumentException("fromDoubles: " + data.length + " values do not fill shape " + Shape.str(shape));
        return wrap(data.clone(), dtype, shape);
    }

    @Override
    public float[] toFloats(Tensor t) { return exactCopy(floats(t), t); }

    @Override
    public double[] toDoubles(Tensor t) { return exact(t) ? doubles(t).clone() : doubles(t); }

    private static float[] exactCopy(float[] data, Tensor t) {
        return t.dtype() == DType.F32 ? data.clone() : data;
    }

    @Override
    public Tensor cast(Tensor t, DType target) {
        return exact(t) || target == DType.F64 ? wrap(doubles(t).clone(), target, t.shape())
                : wrap(exactCopy(floats(t), t), target, t.shape());
    }

    // --- elementwise ----------------------------------------------------------------------------

    @Override
    public Tensor add(Tensor a, Tensor b) {
        Shape.requireSame("add", a, b);
        Shape.requireDType("add", a, b);
        if (exact(a)) {
            double[] x = doubles(a), y = doubles(b), out = new double[x.length];
            for (int i = 0; i < x.length; i++) out[i] = x[i] + y[i];
            return wrap(out, a.dtype(), a.shape());
        }
        float[] out = outputArray((int) a.numel());
        FloatKernels.add(parallel, floats(a), floats(b), out);
        return output(out, a.dtype(), a.shape());
    }

    @Override
    public void addInPlace(Tensor acc, Tensor x) {
        Shape.requireSame("addInPlace", acc, x);
        switch (storage(acc)) {
            case CpuStorage.F64(double[] d) -> {
                double[] src = doubles(x);
                for (int i = 0; i < d.length; i++) d[i] += src[i];
            }
            case CpuStorage.F32 f32 -> FloatKernels.add(parallel, f32.data(), floats(x), f32.data());
            case CpuStorage.F16(short[] bits) -> {
                float[] src = floats(x);
                for (int i = 0; i < bits.length; i++)
                    bits[i] = Float.floatToFloat16(Float.float16ToFloat(bits[i]) + src[i]);
            }
        }
    }

    @Override
    public Tensor scale(Tensor a, double factor) {
        if (exact(a)) {
            double[] x = doubles(a), out = new double[x.length];
            for (int i = 0; i < x.length; i++) out[i] = x[i] * factor;
            return wrap(out, a.dtype(), a.shape());
        }
        float[] out = new float[(int) a.numel()];
        FloatKernels.scale(parallel, floats(a), (float) factor, out);
        return wrap(out, a.dtype(), a.shape());
    }

    private static float[] toFloat(double[] p) {
        float[] f = new float[p.length];
        for (int i = 0; i < p.length; i++) f[i] = (float) p[i];
        return f;
    }

    @Override
    public Tensor activationForward(Activation act, double[] params, Tensor x, Tensor residual) {
        Checks.residual(act, x, residual);
        if (exact(x)) {
            double[] y = new double[(int) x.numel()];
            CpuReference.activationForward(act, params, doubles(x), residual == null ? null : doubles(residual), y);
            return wrap(y, x.dtype(), x.shape());
        }
        float[] y = outputArray((int) x.numel());
        FloatKernels.activationForward(parallel, act, toFloat(params), floats(x), residual == null ? null : floats(residual), y);
        return output(y, x.dtype(), x.shape());
    }

    /** FP32 writes straight into out's array; other dtypes take the interface's compute-and-copy. */
    @Override
    public Tensor activationForwardInto(Activation act, double[] params, Tensor x, Tensor residual, Tensor out) {
        Checks.residual(act, x, residual);
        Shape.requireSame(act.name() + " into out", x, out);
        if (x.dtype() != DType.F32 || !(storage(out) instanceof CpuStorage.F32 y))
            return Backend.super.activationForwardInto(act, params, x, residual, out);
        FloatKernels.activationForward(parallel, act, toFloat(params), floats(x), residual == null ? null : floats(residual),
                y.data());
        return out;
    }

    @Override
    public ActivationGrad activationBackward(Activation act, double[] params, Tensor x, Tensor residual, Tensor dy) {
        DType type = exact(x) ? x.dtype() : dy.dtype();
        Tensor dx = type == DType.F32 ? output(outputArray((int) x.numel()), type, x.shape()) : zeros(type, x.shape());
        return new ActivationGrad(dx, activationBackwardInto(act, params, x, residual, dy, dx));
    }

    /** dx may be dy itself; FP32 and FP64 write straight into dx's array, FP16 through a float one. */
    @Override
    public double[] activationBackwardInto(Activation act, double[] params, Tensor x, Tensor residual, Tensor dy,
                                           Tensor dx) {
        Checks.residual(act, x, residual);
        Shape.requireSame(act.name() + " backward", x, dy);
        Shape.requireSame(act.name() + " backward into dx", x, dx);
        if (exact(x)) {
            double[] out = storage(dx) instanceof CpuStorage.F64(double[] d) ? d : new double[(int) dx.numel()];
            double[] sums = CpuReference.activationBackward(act, params, doubles(x),
                    residual == null ? null : doubles(residual), doubles(dy), out);
            if (!(storage(dx) instanceof CpuStorage.F64)) copyInto(dx, wrap(out, DType.F64, dx.shape()));
            return sums;
        }
        float[] out = storage(dx) instanceof CpuStorage.F32 d ? d.data() : new float[(int) dx.numel()];
        double[] sums = FloatKernels.activationBackward(parallel, act, toFloat(params), floats(x),
                residual == null ? null : floats(residual), floats(dy), out);
        if (!(storage(dx) instanceof CpuStorage.F32)) copyInto(dx, wrap(out, DType.F32, dx.shape()));
        return sums;
    }

    @Override
    public Tensor sum(Tensor t) {
        double s;
        if (exact(t)) {
            s = 0;
            for (double v : doubles(t)) s += v;
        } else {
            s = FloatKernels.sum(floats(t));
        }
        return wrap(new double[] {s}, t.dtype(), 1);
    }

    @Override
    public boolean unscaleAndCheck(List<Tensor> tensors, double factor) {
        boolean found = false;
        for (Tensor t : tensors) {
            found |= switch (storage(t)) {
                case CpuStorage.F32 f32 -> FloatKernels.scaleAndCheck(f32.data(), (float) factor);
                case CpuStorage.F64(double[] d) -> {
                    boolean bad = false;
                    for (int i = 0; i < d.length; i++) {
                        bad |= !Double.isFinite(d[i]);
                        d[i] *= factor;
                        bad |= !Double.isFinite(d[i]);
                    }
                    yield bad;
                }
                case CpuStorage.F16(short[] bits) -> {
                    // In float, as every FP16 op; the check sees what is stored, so an overflow to Inf counts.
                    boolean bad = false;
                    for (int i = 0; i < bits.length; i++) {
                        float v = Float.float16ToFloat(bits[i]);
                        bits[i] = Float.floatToFloat16(v * (float) factor);
                        bad |= !Float.isFinite(v) || !Float.isFinite(Float.float16ToFloat(bits[i]));
                    }
                    yield bad;
                }
            };
        }
        return found;
    }

    // --- convolution ----------------------------------------------------------------------------

    private Im2colConv convolution(Checks.ConvShape s, Conv2dSpec spec) {
        return convolutions.computeIfAbsent(
                new Im2colConv.Geometry(s.c(), s.h(), s.w(), s.r(), s.s(), spec.stride(), spec.padding()),
                g -> new Im2colConv(g, parallel));
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Conv2dSpec spec) {
        Shape.requireDType("conv2d", x, weight);
        Checks.ConvShape s = Checks.convShape("conv2d", x.shape(), weight.shape(), spec);
        int[] outShape = s.outputShape();
        if (exact(x)) {
            double[] y = new double[checkedSize(outShape)];
            CpuReference.conv2d(doubles(x), doubles(weight), y, s.n(), s.c(), s.h(), s.w(), s.k(), s.r(), s.s(),
                    spec.stride(), spec.padding(), s.ho(), s.wo());
            return wrap(y, x.dtype(), outShape);
        }
        float[] y = outputArray(checkedSize(outShape));
        convolution(s, spec).forward(floats(x), floats(weight), y, s.n(), s.k());
        return output(y, x.dtype(), outShape);
    }

    @Override
    public Tensor conv2dBackwardInput(Tensor dy, Tensor weight, int[] inputShape, Conv2dSpec spec) {
        Checks.ConvShape s = Checks.convShape("conv2d backward", inputShape, weight.shape(), spec);
        if (exact(dy)) {
            double[] dx = new double[checkedSize(inputShape)];
            CpuReference.conv2dBackward(new double[dx.length], doubles(weight), doubles(dy), dx, null,
                    s.n(), s.c(), s.h(), s.w(), s.k(), s.r(), s.s(), spec.stride(), spec.padding(), s.ho(), s.wo());
            return wrap(dx, dy.dtype(), inputShape);
        }
        float[] dx = outputArray(checkedSize(inputShape));
        convolution(s, spec).backwardInput(floats(dy), floats(weight), dx, s.n(), s.k());
        return output(dx, dy.dtype(), inputShape);
    }

    @Override
    public Tensor conv2dBackwardWeight(Tensor dy, Tensor x, int[] weightShape, Conv2dSpec spec) {
        Checks.ConvShape s = Checks.convShape("conv2d backward", x.shape(), weightShape, spec);
        if (exact(dy)) {
            double[] dw = new double[checkedSize(weightShape)];
            CpuReference.conv2dBackward(doubles(x), new double[dw.length], doubles(dy), null, dw,
                    s.n(), s.c(), s.h(), s.w(), s.k(), s.r(), s.s(), spec.stride(), spec.padding(), s.ho(), s.wo());
            return wrap(dw, dy.dtype(), weightShape);
        }
        float[] dw = outputArray(checkedSize(weightShape));
        convolution(s, spec).backwardWeight(floats(dy), floats(x), dw, s.n(), s.k());
        return output(dw, dy.dtype(), weightShape);
    }

    @Override
    public Tensor addChannelBias(Tensor x, Tensor bias) {
        Checks.channelBias(x, bias);
        int[] sh = x.shape();
        int c = sh[1], hw = sh[2] * sh[3];
        if (exact(x)) {
            double[] in = doubles(x), b = doubles(bias), out = new double[in.length];
            for (int i = 0; i < in.length; i++) out[i] = in[i] + b[(i / hw) % c];
            return wrap(out, x.dtype(), sh);
        }
        float[] out = outputArray((int) x.numel());
        float[] ones = new float[c];
        Arrays.fill(ones, 1f);
        FloatKernels.channelAffine(parallel, floats(x), out, sh[0], c, hw, ones, floats(bias));
        return output(out, x.dtype(), sh);
    }

    @Override
    public Tensor channelSum(Tensor dy) {
        int[] sh = dy.shape();
        int c = sh[1], hw = sh[2] * sh[3];
        double[] d = doubles(dy), out = new double[c];
        for (int i = 0; i < d.length; i++) out[(i / hw) % c] += d[i];
        return wrap(out, exact(dy) ? DType.F64 : DType.F32, c);
    }

    // --- batch norm -----------------------------------------------------------------------------

    @Override
    public BatchNormForward batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                           double momentum, double eps) {
        Checks.batchNorm(x, gamma, beta, runningMean, runningVar);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        Checks.batchNormTraining(x);
        DType stats = exact(x) ? DType.F64 : DType.F32;
        if (exact(x)) {
            double[] mean = new double[c], invStd = new double[c], var = new double[c];
            CpuReference.batchStats(doubles(x), n, c, hw, eps, mean, invStd, var);
            double[] y = new double[(int) x.numel()];
            CpuReference.batchNormApply(doubles(x), y, n, c, hw, mean, invStd, doubles(gamma), doubles(beta));
            updateRunning(runningMean, runningVar, mean, var, momentum);
            return new BatchNormForward(wrap(y, x.dtype(), x.shape()), wrap(mean, stats, c), wrap(invStd, stats, c));
        }
        float[] xs = floats(x);
        float[] mean = new float[c], invStd = new float[c], var = new float[c];
        FloatKernels.batchStats(parallel, xs, n, c, hw, eps, mean, invStd, var);
        float[] g = floats(gamma), b = floats(beta), scale = new float[c], shift = new float[c];
        for (int ch = 0; ch < c; ch++) {
            scale[ch] = g[ch] * invStd[ch];
            shift[ch] = b[ch] - mean[ch] * scale[ch];
        }
        float[] y = outputArray(xs.length);
        FloatKernels.channelAffine(parallel, xs, y, n, c, hw, scale, shift);
        double[] meanD = new double[c], varD = new double[c];
        for (int ch = 0; ch < c; ch++) {
            meanD[ch] = mean[ch];
            varD[ch] = var[ch];
        }
        updateRunning(runningMean, runningVar, meanD, varD, momentum);
        return new BatchNormForward(output(y, x.dtype(), x.shape()), wrap(mean, stats, c), wrap(invStd, stats, c));
    }

    private void updateRunning(Tensor runningMean, Tensor runningVar, double[] mean, double[] var, double momentum) {
        Tensor newMean = wrap(blend(doubles(runningMean), mean, momentum), runningMean.dtype(), mean.length);
        Tensor newVar = wrap(blend(doubles(runningVar), var, momentum), runningVar.dtype(), var.length);
        copyInto(runningMean, newMean);
        copyInto(runningVar, newVar);
    }

    private static double[] blend(double[] running, double[] batch, double momentum) {
        double[] out = new double[running.length];
        for (int i = 0; i < out.length; i++) out[i] = (1 - momentum) * running[i] + momentum * batch[i];
        return out;
    }

    @Override
    public void copy(Tensor dst, Tensor src) {
        Checks.sameCount("copy", dst, src);
        copyInto(dst, src);
    }

    private static void copyInto(Tensor dst, Tensor src) {
        switch (storage(dst)) {
            case CpuStorage.F64(double[] d) -> System.arraycopy(doubles(src), 0, d, 0, d.length);
            case CpuStorage.F32 f32 -> System.arraycopy(floats(src), 0, f32.data(), 0, f32.data().length);
            case CpuStorage.F16(short[] d) -> {
                float[] f = floats(src);
                for (int i = 0; i < d.length; i++) d[i] = Float.floatToFloat16(f[i]);
            }
        }
    }

    @Override
    public Tensor batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, double eps) {
        Checks.batchNorm(x, gamma, beta, runningMean, runningVar);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        double[] mean = doubles(runningMean), var = doubles(runningVar), invStd = new double[c];
        for (int ch = 0; ch < c; ch++) invStd[ch] = 1 / Math.sqrt(var[ch] + eps);
        if (exact(x)) {
            double[] y = new double[(int) x.numel()];
            CpuReference.batchNormApply(doubles(x), y, n, c, hw, mean, invStd, doubles(gamma), doubles(beta));
            return wrap(y, x.dtype(), x.shape());
        }
        double[] g = doubles(gamma), b = doubles(beta);
        float[] scale = new float[c], shift = new float[c];
        for (int ch = 0; ch < c; ch++) {
            scale[ch] = (float) (g[ch] * invStd[ch]);
            shift[ch] = (float) (b[ch] - mean[ch] * g[ch] * invStd[ch]);
        }
        float[] y = outputArray((int) x.numel());
        FloatKernels.channelAffine(parallel, floats(x), y, n, c, hw, scale, shift);
        return output(y, x.dtype(), x.shape());
    }

    @Override
    public BatchNormGrad batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd) {
        Shape.requireSame("batchnorm2d backward", x, dy);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        if (exact(x)) {
            double[] dx = new double[(int) x.numel()], dg = new double[c], db = new double[c];
            CpuReference.batchNormBackward(doubles(x), doubles(dy), doubles(gamma), doubles(savedMean),
                    doubles(savedInvStd), n, c, hw, dx, dg, db);
            return new BatchNormGrad(wrap(dx, x.dtype(), x.shape()), wrap(dg, gamma.dtype(), c), wrap(db, gamma.dtype(), c));
        }
        float[] dx = outputArray((int) x.numel());
        var grad = batchNormBackwardFloat(x, dy, gamma, savedMean, savedInvStd, dx);
        return new BatchNormGrad(output(dx, dy.dtype(), x.shape()), grad.dgamma(), grad.dbeta());
    }

    /** In FP32, dx over dy's own array (each element of dx is computed from dy's at its place, after the sums). */
    @Override
    public BatchNormGrad batchNormBackwardOverDy(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd) {
        if (dy.dtype() != DType.F32 || x.dtype() != DType.F32) return batchNormBackward(x, dy, gamma, savedMean, savedInvStd);
        Shape.requireSame("batchnorm2d backward", x, dy);
        var grad = batchNormBackwardFloat(x, dy, gamma, savedMean, savedInvStd, floats(dy));
        return new BatchNormGrad(dy, grad.dgamma(), grad.dbeta());
    }

    /** Writes dx into the array given; returns dgamma and dbeta (dx null). */
    private BatchNormGrad batchNormBackwardFloat(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                                                 float[] dx) {
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        float[] dg = new float[c], db = new float[c];
        FloatKernels.batchNormBackward(parallel, floats(x), floats(dy), floats(gamma), floats(savedMean), floats(savedInvStd),
                n, c, hw, dx, dg, db);
        return new BatchNormGrad(null, wrap(dg, gamma.dtype(), c), wrap(db, gamma.dtype(), c));
    }

    // --- pooling --------------------------------------------------------------------------------

    @Override
    public Tensor globalAvgPool(Tensor x) {
        if (x.rank() != 4)
            throw new IllegalArgumentException("global average pool: input must be [N, C, H, W], got " + Shape.str(x.shape()));
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        if (exact(x)) {
            double[] in = doubles(x), y = new double[n * c];
            for (int p = 0; p < n * c; p++) {
                double s = 0;
                for (int i = 0; i < hw; i++) s += in[p * hw + i];
                y[p] = s / hw;
            }
            return wrap(y, x.dtype(), n, c);
        }
        float[] y = new float[n * c];
        FloatKernels.planeMean(parallel, floats(x), y, n * c, hw);
        return wrap(y, x.dtype(), n, c);
    }

    @Override
    public Tensor globalAvgPoolBackward(Tensor dy, int[] inputShape) {
        int planes = inputShape[0] * inputShape[1], hw = inputShape[2] * inputShape[3];
        if (exact(dy)) {
            double[] g = doubles(dy), dx = new double[planes * hw];
            for (int i = 0; i < dx.length; i++) dx[i] = g[i / hw] / hw;
            return wrap(dx, dy.dtype(), inputShape);
        }
        float[] dx = outputArray(planes * hw);
        FloatKernels.planeBroadcast(parallel, floats(dy), dx, planes, hw, 1f / hw);
        return output(dx, dy.dtype(), inputShape);
    }

    @Override
    public MaxPoolForward maxPool(Tensor x, int kernel, Conv2dSpec spec) {
        int[] out = Checks.maxPoolShape(x, kernel, spec);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), ho = out[2], wo = out[3];
        double[] y = new double[n * c * ho * wo];
        int[] argmax = new int[y.length];
        CpuReference.maxPool(doubles(x), y, argmax, n, c, h, w, kernel, spec.stride(), spec.padding(), ho, wo);
        return new MaxPoolForward(wrap(y, x.dtype(), n, c, ho, wo), argmax);
    }

    @Override
    public Tensor maxPoolBackward(Tensor dy, int[] argmax, int[] inputShape) {
        double[] g = doubles(dy), dx = new double[checkedSize(inputShape)];
        for (int i = 0; i < g.length; i++) dx[argmax[i]] += g[i];
        return wrap(dx, dy.dtype(), inputShape);
    }

    // --- linear algebra and loss ----------------------------------------------------------------

    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transposeA, boolean transposeB) {
        int[] mnk = Checks.matmulShape(a, b, transposeA, transposeB);
        int m = mnk[0], n = mnk[1], k = mnk[2];
        if (exact(a)) {
            double[] c = new double[m * n];
            CpuReference.matmul(doubles(a), doubles(b), c, m, n, k, transposeA, transposeB);
            return wrap(c, a.dtype(), m, n);
        }
        float[] c = new float[m * n];
        Sgemm.gemm(parallel, transposeA, transposeB, m, n, k, 1f, floats(a), 0, a.dim(1), floats(b), 0, b.dim(1), 0f, c, 0, n);
        return wrap(c, a.dtype(), m, n);
    }

    @Override
    public Tensor addRowBias(Tensor x, Tensor bias) {
        Checks.rowBias(x, bias);
        int cols = x.dim(1);
        double[] in = doubles(x), b = doubles(bias), out = new double[in.length];
        for (int i = 0; i < in.length; i++) out[i] = in[i] + b[i % cols];
        return wrap(out, x.dtype(), x.shape());
    }

    @Override
    public Tensor rowSum(Tensor x) {
        int cols = x.dim(1);
        double[] in = doubles(x), out = new double[cols];
        for (int i = 0; i < in.length; i++) out[i % cols] += in[i];
        return wrap(out, exact(x) ? DType.F64 : DType.F32, cols);
    }

    @Override
    public CrossEntropyForward softmaxCrossEntropy(Tensor logits, int[] labels, double smoothing) {
        Checks.labels("softmax cross-entropy", logits, labels);
        int rows = logits.dim(0), classes = logits.dim(1);
        double[] probs = new double[rows * classes];
        double loss = CpuReference.softmaxCrossEntropy(doubles(logits), labels, rows, classes, smoothing, probs);
        DType out = exact(logits) ? DType.F64 : DType.F32;
        return new CrossEntropyForward(wrap(new double[] {loss}, out, 1), wrap(probs, out, rows, classes));
    }

    @Override
    public Tensor softmaxCrossEntropyBackward(Tensor probabilities, int[] labels, double smoothing, double upstream,
                                              DType logitsType) {
        int rows = probabilities.dim(0), classes = probabilities.dim(1);
        double[] d = new double[rows * classes];
        CpuReference.softmaxCrossEntropyBackward(doubles(probabilities), labels, rows, classes, smoothing, upstream, d);
        return wrap(d, logitsType, rows, classes);
    }

    // --- optimiser ------------------------------------------------------------------------------

    @Override
    public void sgdStep(Tensor weight, Tensor grad, Tensor momentumBuffer, double lr, double momentum,
                        double weightDecay, boolean nesterov, double gradScale) {
        Shape.requireSame("sgd", weight, grad);
        if (exact(weight)) {
            double[] w = doubles(weight), g = doubles(grad), buf = doubles(momentumBuffer);
            for (int i = 0; i < w.length; i++) {
                double gi = g[i] * gradScale + weightDecay * w[i];
                buf[i] = momentum * buf[i] + gi;
                w[i] -= lr * (nesterov ? gi + momentum * buf[i] : buf[i]);
            }
            return;
        }
        if (weight.dtype() != DType.F32 || momentumBuffer.dtype() != DType.F32)
            throw new IllegalArgumentException("sgd: weights and momentum must be FP32 (master weights), got "
                    + weight.dtype() + " and " + momentumBuffer.dtype());
        FloatKernels.sgdStep(parallel, floats(weight), floats(grad), floats(momentumBuffer), (float) lr, (float) momentum,
                (float) weightDecay, nesterov, (float) gradScale);
    }
}
