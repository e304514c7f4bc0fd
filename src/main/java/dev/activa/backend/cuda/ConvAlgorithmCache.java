package dev.activa.backend.cuda;

import dev.activa.backend.cuda.CudnnDescriptor.ConvolutionShape;
import dev.activa.backend.cuda.CudnnDescriptor.FilterShape;
import dev.activa.backend.cuda.CudnnDescriptor.TensorShape;
import dev.activa.backend.cuda.CudnnTypes.MathType;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The convolution algorithm for each shape, searched once. Shapes include data type and layout, so
 * FP16 NHWC and FP32 NCHW layers of the same size get their own choice. Training reuses a handful of
 * shapes thousands of times; the first step pays for the search (a few ms per shape with
 * {@link Mode#HEURISTIC}, more with {@link Mode#BENCHMARK}), later steps a map lookup.
 */
public final class ConvAlgorithmCache {
    public enum Direction { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    /**
     * HEURISTIC asks cuDNN's heuristics ({@code cudnnGet*Algorithm_v7}, nothing runs); BENCHMARK times
     * every algorithm on the GPU ({@code cudnnFind*Algorithm}, which allocates its own buffers).
     */
    public enum Mode { HEURISTIC, BENCHMARK }

    /** One convolution as cuDNN sees it: x ⊛ w → y. */
    public record Key(Direction direction, TensorShape x, FilterShape w, ConvolutionShape convolution, TensorShape y) {}

    /** An algorithm cuDNN offered, with the math type it must run under and the workspace it needs. */
    public record Choice(Direction direction, int algorithm, MathType mathType, long workspaceBytes, float timeMs,
                         boolean deterministic) {
        public String algorithmName() {
            return switch (direction) {
                case FORWARD -> CudnnTypes.ForwardAlgorithm.of(algorithm).name();
                case BACKWARD_DATA -> CudnnTypes.BackwardDataAlgorithm.of(algorithm).name();
                case BACKWARD_FILTER -> CudnnTypes.BackwardFilterAlgorithm.of(algorithm).name();
            };
        }
    }

    /** Runs one search: the usable candidates, best first. {@link Cudnn#search(Mode)} is the real one. */
    @FunctionalInterface
    public interface Search {
        List<Choice> run(Key key);
    }

    private final Search search;
    private final long workspaceLimitBytes;
    private final boolean deterministicOnly;
    private final Map<Key, Choice> choices = new ConcurrentHashMap<>();
    private final AtomicInteger searches = new AtomicInteger();

    /**
     * @param workspaceLimitBytes candidates needing more workspace are skipped
     * @param deterministicOnly   skip algorithms cuDNN marks non-deterministic (bitwise-reproducible runs)
     */
    public ConvAlgorithmCache(Search search, long workspaceLimitBytes, boolean deterministicOnly) {
        this.search = search;
        this.workspaceLimitBytes = workspaceLimitBytes;
        this.deterministicOnly = deterministicOnly;
    }

    /** The choice for {@code key}, searching on the first request only. */
    public Choice get(Key key) {
        return choices.computeIfAbsent(key, this::pick);
    }

    /** Number of shapes searched so far. */
    public int searches() { return searches.get(); }

    public int size() { return choices.size(); }

    public void clear() { choices.clear(); }

    private Choice pick(Key key) {
        searches.incrementAndGet();
        List<Choice> candidates = search.run(key);
        for (Choice c : candidates) {
            if (c.workspaceBytes() > workspaceLimitBytes) continue;
            if (deterministicOnly && !c.deterministic()) continue;
            return c;
        }
        throw new IllegalStateException("cuDNN offered no " + key.direction() + " algorithm for " + key
                + " within a workspace of " + workspaceLimitBytes + " bytes" + (deterministicOnly ? " that is deterministic" : "")
                + "; candidates: " + candidates);
    }
}
