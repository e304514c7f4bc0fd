package dev.activa.autograd;

import dev.activa.backend.Storage;
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

    // The tensors ops made in this thread's recycling pass, or null outside one.
    private static final ThreadLocal<List<Tensor>> PASS = new ThreadLocal<>();

    /**
     * A forward pass without gradients (a {@link #noGrad} scope) whose tensors go back to their
     * backends when it closes: every tensor an op makes in it, on this thread, is recycled then
     * ({@link dev.activa.backend.Backend#recycle}), and the next pass reuses that memory instead of
     * new arrays; a view of a tensor made before the pass is not the pass's to give back. Read what
     * you need of them (toFloats, item) before it closes; reading one after is an error. {@code try (var _ = Autograd.recyclingPass()) { read(model.forward(x)); }}
     */
    public static Scope recyclingPass() {
        Scope noGrad = noGrad();
        List<Tensor> outer = PASS.get(), made = new ArrayList<>();
        PASS.set(made);
        return () -> {
            PASS.set(outer);
            noGrad.close();
            for (Tensor t : made) t.backend().recycle(t);
        };
    }

    private static boolean sharesStorage(Tensor output, Tensor[] inputs) {
        for (Tensor in : inputs)
            if (in != null && in.storage() == output.storage()) return true;
        return false;
    }

    /** A scope that changes nothing, for code that opens one conditionally. */
    public static Scope noScope() {
        return () -> {};
    }

    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** Records {@code output} as made by {@code op} from {@code inputs}, if any input needs a gradient. */
    public static Tensor record(String op, Tensor output, Node.Backward backward, Tensor... inputs) {
        return record(op, output, (g, gIsFree) -> backward.apply(g), inputs);
    }

    /** {@link #record}, for an op whose backward can write its result over the output's gradient. */
    public static Tensor record(String op, Tensor output, Node.OverwritingBackward backward, Tensor... inputs) {
        if (!isRecording()) {
            List<Tensor> pass = PASS.get();
            // A view shares its input's storage, which the pass may not own; its base, if made here, covers it.
            if (pass != null && !sharesStorage(output, inputs)) pass.add(output);
            return output;
        }
        for (Tensor in : inputs) {
            if (in != null && in.requiresGrad()) {
                output.setGradFn(new Node(op, inputs, backward));
                return output;
            }
        }
        return output;
    }

    /** The profiler's name for adding up the gradients of tensors used more than once, and into the leaves. */
    static final String GRADIENT_SUMS = "gradient sums";

    /** Backpropagates from {@code root}; {@code seed} is its upstream gradient, or null for a scalar loss. */
    public static void backward(Tensor root, Tensor seed) {
        backward(root, seed, false);
    }

    /**
     * {@link #backward(Tensor, Tensor)}; with {@code recycle}, each intermediate tensor of the graph
     * (made by an op: not a leaf, not the root) gives its memory back to its backend
     * ({@link dev.activa.backend.Backend#recycle}) as soon as backward has passed it, that is once the
     * op that made it and every op that read it have run their backward; and so does each gradient
     * once its op has consumed it. The gradients that follow and the next step's tensors then reuse
     * that memory instead of new arrays, which the JVM zeroes first. Reading a recycled tensor
     * afterwards is an error (the CPU backend recycles the FP32 outputs of 64 KiB and more of its
     * main kernels, convolutions, batch norm, activations, add, and leaves the others readable); a
     * training loop that reads what it needs before backward (as {@code Trainer} does) loses
     * nothing.
     */
    public static void backward(Tensor root, Tensor seed, boolean recycle) {
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
        var pending = new PendingGradients(order, seed, recycle);
        var recycling = recycle ? new Recycling(order, root, seed) : null;
        pending.add(root, seed);
        try (var _ = noGrad()) {
            for (Tensor t : order) {
                Tensor g = pending.take(t);
                Node node = t.gradFn();
                if (node == null) {
                    if (g != null && t.requiresGrad()) {
                        long start = Profiler.begin();
                        pending.keepOutside(accumulate(t, g));
                        pending.spent(g);
                        pending.recycleSpent();
                        Profiler.endPhase(GRADIENT_SUMS, start);
                    }
                    continue;
                }
                Tensor[] inputs = node.inputs();
                long start = Profiler.begin();
                Tensor[] inputGrads = g == null ? new Tensor[inputs.length] : node.apply(g, pending.isFree(g));
                Profiler.endBackward(node.op(), start);
                start = Profiler.begin();
                for (int i = 0; i < inputs.length; i++) {
                    Tensor in = inputs[i];
                    Tensor ig = inputGrads[i];
                    if (in == null || ig == null || !in.requiresGrad()) continue;
                    if (!java.util.Arrays.equals(in.shape(), ig.shape()))
                        throw new IllegalStateException(node.op() + ": backward produced gradient of shape "
                                + Shape.str(ig.shape()) + " for input of shape " + Shape.str(in.shape()));
                    pending.add(in, ig);
                }
                // Only now: an op may hand one gradient to several inputs, and g may live on as one of them.
                if (g != null) pending.spent(g);
                pending.recycleSpent();
                Profiler.endPhase(GRADIENT_SUMS, start);
                node.release();
                t.setGradFn(null);
                if (recycling != null) recycling.passed(t);
            }
        }
    }

    /**
     * The graph's intermediate tensors by storage, as views share one: each storage goes back to its
     * backend once backward has passed every tensor on it. Every op's backward reads only its own
     * inputs and output (and what it saved that is no tensor of the graph), and the order visits a
     * tensor after every op that read it, so nothing reads a storage after that. An input that needs
     * no gradient is not in the order (a detached view of an intermediate, say), so nothing counts
     * its readers: its storage is kept, as are those of the leaves, the root and the seed.
     */
    private static final class Recycling {
        private final Map<Storage, Integer> tensorsLeft = new IdentityHashMap<>();

        Recycling(List<Tensor> order, Tensor root, Tensor seed) {
            Set<Storage> kept = Collections.newSetFromMap(new IdentityHashMap<>());
            kept.add(root.storage());
            kept.add(seed.storage());
            for (Tensor t : order) {
                if (t.isLeaf()) {
                    kept.add(t.storage());
                    continue;
                }
                tensorsLeft.merge(t.storage(), 1, Integer::sum);
                for (Tensor in : t.gradFn().inputs())
                    if (in != null && !in.requiresGrad()) kept.add(in.storage());
            }
            tensorsLeft.keySet().removeAll(kept);
        }

        void passed(Tensor t) {
            Integer left = tensorsLeft.get(t.storage());
            if (left == null) return;
            if (left > 1) {
                tensorsLeft.put(t.storage(), left - 1);
            } else {
                tensorsLeft.remove(t.storage());
                t.backend().recycle(t);
            }
        }
    }

    /**
     * The gradients waiting for their tensor's turn, and how many of them hold each storage (ops
     * hand one tensor to several inputs, views share storage). A gradient is free, for its
     * consumer to write over, when no other waiting gradient holds its storage and nothing outside
     * backward() does: not the caller's seed, a leaf's gradient, or a tensor of the graph. Where
     * backward recycles, a gradient its consumer has read goes back to its backend once no waiting
     * gradient holds its storage either.
     */
    private static final class PendingGradients {
        private final Map<Tensor, Tensor> waiting = new IdentityHashMap<>();
        private final Map<Storage, Integer> holders = new IdentityHashMap<>();
        private final Set<Storage> outside = Collections.newSetFromMap(new IdentityHashMap<>());
        private final boolean recycle;
        private final List<Tensor> spent = new ArrayList<>();

        PendingGradients(List<Tensor> graph, Tensor seed, boolean recycle) {
            for (Tensor t : graph) outside.add(t.storage());
            outside.add(seed.storage());
            this.recycle = recycle;
        }

        /** Adds g to t's gradient: in place where t's gradient so far is free, else into a new sum. */
        void add(Tensor t, Tensor g) {
            Tensor sum = waiting.get(t);
            if (sum == null) {
                waiting.put(t, g);
                hold(g, +1);
            } else if (sum.storage() != g.storage() && sum.dtype() == g.dtype() && holders.get(sum.storage()) == 1
                    && !outside.contains(sum.storage())) {
                sum.backend().addInPlace(sum, g);
                spent(g);
            } else {
                Tensor total = sum.backend().add(sum, g);
                hold(sum, -1);
                waiting.put(t, total);
                hold(total, +1);
                spent(sum);
                spent(g);
            }
        }

        Tensor take(Tensor t) {
            Tensor g = waiting.remove(t);
            if (g != null) hold(g, -1);
            return g;
        }

        boolean isFree(Tensor g) {
            return !holders.containsKey(g.storage()) && !outside.contains(g.storage());
        }

        void keepOutside(Tensor g) {
            outside.add(g.storage());
        }

        /** Notes a gradient that its consumer has read, for {@link #recycleSpent}. */
        void spent(Tensor g) {
            if (recycle) spent.add(g);
        }

        /**
         * Gives back to their backends the spent gradients that nothing holds any more; called once
         * the gradients an op returned are all waiting, as it may return one for several inputs.
         */
        void recycleSpent() {
            for (Tensor g : spent)
                if (isFree(g)) g.backend().recycle(g);
            spent.clear();
        }

        private void hold(Tensor g, int change) {
            holders.merge(g.storage(), change, (a, b) -> a + b == 0 ? null : a + b);
        }
    }

    /** Adds g to the leaf's gradient and returns that gradient. */
    private static Tensor accumulate(Tensor leaf, Tensor g) {
        // A leaf owns its gradient: ops may hand the same tensor to several inputs, so copy it.
        if (leaf.grad() == null) leaf.setGrad(g.backend().cast(g, leaf.dtype()));
        else leaf.backend().addInPlace(leaf.grad(), g);
        return leaf.grad();
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
