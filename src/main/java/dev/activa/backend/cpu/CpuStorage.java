package dev.activa.backend.cpu;

import dev.activa.backend.Storage;

/** Host memory for a tensor: a Java array of the dtype's width (FP16 as its raw 16-bit patterns). */
sealed interface CpuStorage extends Storage {
    record F16(short[] bits) implements CpuStorage {}

    record F32(float[] data) implements CpuStorage {}

    record F64(double[] data) implements CpuStorage {}
}
