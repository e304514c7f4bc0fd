package dev.activa.autograd;

import dev.activa.tensor.Tensor;

/**
 * One recorded op: its inputs and the function that maps the gradient of its output to the
 * gradients of its inputs. The backward function captures whatever the op saved for it.
 */
public final class Node {
    /**
     * Maps dL/d(output) to dL/d(input_i), one entry per input (null where an input needs none).
     * Each gradient returned is a fresh tensor, gradOutput itself or a view of it, never a tensor
     * kept elsewhere: {@link Autograd#backward} may later write over it in place.
     */
    @FunctionalInterface
    public interface Backward {
        Tensor[] apply(Tensor gradOutput);
    }

    /**
     * A {@link Backward} that may write its result over gradOutput's storage where
     * {@code gradOutputIsFree}: nothing but this call will read that storage again.
     */
    @FunctionalInterface
    public interface OverwritingBackward {
        Tensor[] apply(Tensor gradOutput, boolean gradOutputIsFree);
    }

    private final String op;
    private Tensor[] inputs;
    private OverwritingBackward backward;

    Node(String op, Tensor[] inputs, OverwritingBackward backward) {
        this.op = op;
        this.inputs = inputs;
        this.backward = backward;
    }

    public String op() { return op; }

    Tensor[] inputs() { return inputs; }

    Tensor[] apply(Tensor gradOutput, boolean gradOutputIsFree) {
        if (backward == null)
            throw new IllegalStateException(op + ": backward already ran through this graph and released it; "
                    + "run the forward pass again before a second backward()");
        return backward.apply(gradOutput, gradOutputIsFree);
    }

    /** Drops the inputs and the saved tensors, so the graph can be collected. */
    void release() {
        inputs = null;
        backward = null;
    }
}
