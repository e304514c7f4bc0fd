package dev.activa.tensor;

import dev.activa.autograd.Autograd;
import dev.activa.autograd.Node;
import dev.activa.autograd.Ops;
import dev.activa.backend.Backend;
import dev.activa.backend.Storage;

/**
 * A dense, contiguous, row-major tensor on one backend, with the autograd fields it needs.
 *
 * <p>Storage belongs to the backend; views (reshape, detach) share it. A tensor made by an op while
 * gradients are recorded holds the {@link Node} that made it; {@link #backward()} walks those nodes
 * and releases them, so nothing from one step survives into the next.
 */
public final class Tensor {
    private final Backend backend;
    private final DType dtype;
    private final int[] shape;
    private final Storage storage;
    private boolean requiresGrad;
    private Tensor grad;
    private Node gradFn;

    public Tensor(Backend backend, DType dtype, int[] shape, Storage storage) {
        this.backend = backend;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.storage = storage;
    }

    public Backend backend() { return backend; }
    public DType dtype() { return dtype; }
    public Storage storage() { return storage; }
    public int[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    public int dim(int i) { return shape[i < 0 ? shape.length + i : i]; }
    public long numel() { return Shape.numel(shape); }

    public boolean requiresGrad() { return requiresGrad; }

    /** Marks a leaf (a parameter or an input) as needing its gradient. */
    public Tensor requiresGrad(boolean on) {
        if (gradFn != null)
            throw new IllegalStateException("requiresGrad(): only leaf tensors can change it; this one was made by "
                    + gradFn.op() + " (use detach() first)");
        this.requiresGrad = on;
        return this;
    }

    public boolean isLeaf() { return gradFn == null; }

    /** The accumulated gradient of a leaf, or null before any backward. */
    public Tensor grad() { return grad; }

    public void setGrad(Tensor g) { this.grad = g; }

    public void zeroGrad() { this.grad = null; }

    public Node gradFn() { return gradFn; }

    /** Called by ops when they record this tensor's history; {@code null} releases it. */
    public void setGradFn(Node node) {
        this.gradFn = node;
        this.requiresGrad = node != null || requiresGrad;
    }

    /** Backpropagates from this scalar loss into every leaf that requires grad. */
    public void backward() {
        Autograd.backward(this, null);
    }

    /** Backpropagates with an explicit upstream gradient of this tensor's shape. */
    public void backward(Tensor gradient) {
        Autograd.backward(this, gradient);
    }

    /** The same values without history: gradients never flow through the result. */
    public Tensor detach() {
        return new Tensor(backend, dtype, shape, storage);
    }

    public Tensor reshape(int... newShape) { return Ops.reshape(this, newShape); }
    public Tensor to(DType target) { return target == dtype ? this : Ops.cast(this, target); }
    public Tensor add(Tensor other) { return Ops.add(this, other); }
    public Tensor mul(double s) { return Ops.scale(this, s); }
    public Tensor matmul(Tensor other) { return Ops.matmul(this, other); }
    public Tensor sum() { return Ops.sum(this); }
    public Tensor mean() { return Ops.mean(this); }

    public float[] toFloats() { return backend.toFloats(this); }
    public double[] toDoubles() { return backend.toDoubles(this); }

    /** The single value of a one-element tensor. */
    public double item() {
        if (numel() != 1)
            throw new IllegalStateException("item(): tensor has " + numel() + " elements, shape " + Shape.str(shape));
        return toDoubles()[0];
    }

    @Override
    public String toString() {
        return "Tensor" + Shape.str(shape) + " " + dtype + " on " + backend.name()
                + (gradFn != null ? " (from " + gradFn.op() + ")" : requiresGrad ? " (leaf, requires grad)" : "");
    }
}
