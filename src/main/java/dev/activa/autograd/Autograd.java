package dev.activa.autograd;

import dev.activa.tensor.Shape;
import dev.activa.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The reverse-mode engine: gradient recording switches and {@link #backward}. */
public final class Autograd {
    private Autograd() {}

    // Per thread, so two trainings in one JVM never see each other's switch.
    private static final ThreadLocal<Boolean> RECORDING = ThreadLocal.withInitial(() -> true);

    /** Whether ops run now record their history. */
    public static boolean isRecording() {
        return RECORDING.get();
    }

    /** A scope in which ops record nothing: {@code try (var _ = Autograd.noGrad()) { ... }}. */
    public static Scope noGrad() {
        boolean previous = RECORDING.get();
        RECORDING.set(false);
        return () -> RECORDING.set(previous);
    }

    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** Records {@code output} as made by {@code op} from {@code inputs}, if any input needs a gradient. */
    public static Tensor record(String op, Tensor output, Node.Backward backward, Tensor... inputs) {
        if (!isRecording()) return output;
        for (Tensor in : inputs) {
            if (in != null && in.requiresGrad()) {
                output.setGradFn(new Node(op, inputs, backward));
                return output;
            }
        }
        return output;
    }

    /** Backpropagates from {@code root}; {@code seed} is its upstream gradient, or null for a scalar loss. */
    public static void backward(Tensor root, Tensor seed) {
        if (!root.requiresGrad())
            throw new IllegalStateException("backward(): " + root + " does not require grad: it was detached, "
                    + "made under noGrad(), or no input of it requires grad");
        if (seed == null) {
            if (root.numel() != 1)
                throw new IllegalStateException("backward(): needs a scalar loss, got shape " + Shape.str(root.shape())
                        + "; reduce it first (sum or mean) or pass an upstream gradient");
            seed = root.backend().full(root.dtype(), 1.0, root.shape());
        } else {
            Shape.requireSame("backward(gradient)", root, seed);
        }

        List<Tensor> order = topologicalOrder(root);
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(root, seed);
        try (var _ = noGrad()) {
            for (Tensor t : order) {
                Tensor g = grads.remove(t);
                Node node = t.gradFn();
                if (node == null) {
                    if (g != null && t.requiresGrad()) accumulate(t, g);
                    continue;
                }
                Tensor[] inputs = node.inputs();
                Tensor[] inputGrads = g == null ? new Tensor[inputs.length] : node.apply(g);
                for (int i = 0; i < inputs.length; i++) {
                    Tensor in = inputs[i];
                    Tensor ig = inputGrads[i];
                    if (in == null || ig == null || !in.requiresGrad()) continue;
                    if (!java.util.Arrays.equals(in.shape(), ig.shape()))
                        throw new IllegalStateException(node.op() + ": backward produced gradient of shape "
                                + Shape.str(ig.shape()) + " for input of shape " + Shape.str(in.shape()));
                    grads.merge(in, ig, (a, b) -> a.backend().add(a, b));
                }
                node.release();
                t.setGradFn(null);
            }
        }
    }

    private static void accumulate(Tensor leaf, Tensor g) {
        // A leaf owns its gradient: ops may hand the same tensor to several inputs, so copy it.
        if (leaf.grad() == null) leaf.setGrad(g.backend().cast(g, leaf.dtype()));
        else leaf.backend().addInPlace(leaf.grad(), g);
    }

    /** Tensors from the root down, each before every tensor it was computed from. */
    private static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> postOrder = new ArrayList<>();
        Set<Tensor> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        // Iterative DFS: ResNet-50 graphs are deep enough to make recursion a risk.
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int next = (int) frame[1];
            Tensor[] inputs = t.gradFn() == null ? new Tensor[0] : t.gradFn().inputs();
            if (next < inputs.length) {
                frame[1] = next + 1;
                Tensor in = inputs[next];
                if (in != null && in.requiresGrad() && visited.add(in)) stack.push(new Object[] {in, 0});
            } else {
                stack.pop();
                postOrder.add(t);
            }
        }
        Collections.reverse(postOrder);
        return postOrder;
    }
}
