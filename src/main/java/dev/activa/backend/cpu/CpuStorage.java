package dev.activa.backend.cpu;

import dev.activa.backend.Storage;

/** Host memory for a tensor: a Java array of the dtype's width (FP16 as its raw 16-bit patterns). */
sealed interface CpuStorage extends Storage {
    record F16(short[] bits) implements CpuStorage {}

    /**
     * FP32 elements. An array lent by the backend's {@link ArrayPool} goes back to it when autograd
     * recycles the tensor; every view of the tensor shares this object, so reading any of them
     * afterwards (on the thread that ran backward, or after it) is an error, never another tensor's
     * values.
     */
    final class F32 implements CpuStorage {
        private float[] data;
        private final boolean lent;

        F32(float[] data) { this(data, false); }

        F32(float[] data, boolean lent) {
            this.data = data;
            this.lent = lent;
        }

        float[] data() {
            if (data == null)
                throw new IllegalStateException("cpu backend: this tensor's memory was recycled, by a backward pass that "
                        + "recycles (Autograd.backward(root, seed, true), as Trainer runs it) or when an "
                        + "Autograd.recyclingPass() closed; copy what you need before (toFloats()), or run backward() "
                        + "or noGrad() without recycling");
            return data;
        }

        /** Takes a lent array back from this storage, or null where it was not lent or is already back. */
        float[] reclaim() {
            if (!lent || data == null) return null;
            float[] d = data;
            data = null;
            return d;
        }
    }

    record F64(double[] data) implements CpuStorage {}
}
