package dev.activa.tensor;

/** Element types: FP16 is stored in 16 bits and computed in float; FP64 exists for gradient checks. */
public enum DType {
    F16(2, "F16"),
    F32(4, "F32"),
    F64(8, "F64");

    private final int bytes;
    private final String safetensorsName;

    DType(int bytes, String safetensorsName) {
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
    }

    public int bytes() { return bytes; }

    /** The dtype string of the safetensors format. */
    public String safetensorsName() { return safetensorsName; }

    public static DType parse(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "fp16", "f16", "half", "float16" -> F16;
            case "fp32", "f32", "float", "float32" -> F32;
            case "fp64", "f64", "double", "float64" -> F64;
            default -> throw new IllegalArgumentException("unknown dtype '" + name + "'; use fp16, fp32 or fp64");
        };
    }
}
