package dev.activa.backend.cpu;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Float arrays that autograd gave back (the intermediate tensors of a backward pass, as it passes
 * them, and those of a forward pass without gradients, when it ends), lent again to kernel outputs
 * of the same length. Java zeroes every new array, on one
 * thread, and a training step's intermediates are hundreds of megabytes: lending them again spares
 * that zeroing and keeps the heap flat from step to step.
 *
 * <p>A lent array holds whatever it held before, so the backend takes one only for an output its
 * kernel writes in full. With {@code -Dactiva.cpu.poisonOutputs=true} (the tests run so) every
 * array it hands out, new or lent again, is first filled with NaN, so a kernel that leaves an
 * element unwritten shows in every result it feeds.
 *
 * <p>Arrays shorter than {@link #SHORTEST} are not worth it and come new each time; the pool holds at
 * most a quarter of the heap's maximum, and an array given beyond that is left to the collector.
 */
public final class ArrayPool {
    /** 64 KiB. */
    static final int SHORTEST = 16_384;
    /** {@code -Dactiva.cpu.poisonOutputs=true}: arrays and scratch handed out are NaN first (the tests run so). */
    static final boolean POISON = Boolean.getBoolean("activa.cpu.poisonOutputs");

    /** What the pool did so far: arrays handed out new and lent again, and the bytes it holds now. */
    public record Stats(long newArrays, long lentAgain, long heldBytes) {}

    private final long capacityBytes;
    private final Map<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    private long heldBytes, newArrays, lentAgain;

    ArrayPool(long capacityBytes) {
        this.capacityBytes = capacityBytes;
    }

    /** Whether an array of this length comes from the pool and may go back to it. */
    static boolean pooled(int length) {
        return length >= SHORTEST;
    }

    /** An array of n floats: the last one given back of that length, else a new one. Its contents are undefined. */
    float[] take(int n) {
        float[] a = pooled(n) ? reuse(n) : null;
        if (a == null) a = new float[n];
        if (POISON) Arrays.fill(a, Float.NaN);
        return a;
    }

    private synchronized float[] reuse(int n) {
        ArrayDeque<float[]> same = free.get(n);
        float[] a = same == null ? null : same.pollLast(); // the last given back: the likeliest still in cache
        if (a == null) {
            newArrays++;
            return null;
        }
        heldBytes -= 4L * n;
        lentAgain++;
        return a;
    }

    /** Takes back an array that nothing reads any more. */
    synchronized void give(float[] a) {
        if (!pooled(a.length) || heldBytes + 4L * a.length > capacityBytes) return;
        free.computeIfAbsent(a.length, k -> new ArrayDeque<>()).addLast(a);
        heldBytes += 4L * a.length;
    }

    /** Drops every array held, for the collector. */
    synchronized void clear() {
        free.clear();
        heldBytes = 0;
    }

    synchronized Stats stats() {
        return new Stats(newArrays, lentAgain, heldBytes);
    }
}
