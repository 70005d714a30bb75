package dev.tuna.model.weights;

/**
 * The element types a {@link Tensor} can hold, with their sizes in bytes.
 *
 * <p>The names follow safetensors ({@code F32}, {@code BF16}, {@code I64}...); the comments give the
 * matching PyTorch dtype.
 */
public enum DType {
    /** 32-bit IEEE 754 float ({@code torch.float32}). */
    F32(4, true),
    /** 16-bit IEEE 754 half-precision float ({@code torch.float16}). */
    F16(2, true),
    /** 16-bit brain float: the top half of a float32 ({@code torch.bfloat16}). */
    BF16(2, true),
    /** 64-bit IEEE 754 float ({@code torch.float64}). */
    F64(8, true),
    /** Signed 64-bit integer ({@code torch.int64}). */
    I64(8, false),
    /** Signed 32-bit integer ({@code torch.int32}). */
    I32(4, false),
    /** Signed 16-bit integer ({@code torch.int16}). */
    I16(2, false),
    /** Signed 8-bit integer ({@code torch.int8}). */
    I8(1, false),
    /** Unsigned 8-bit integer ({@code torch.uint8}). */
    U8(1, false),
    /** Boolean, one byte per element, 0 or 1 ({@code torch.bool}). */
    BOOL(1, false);

    private final int byteSize;
    private final boolean floatingPoint;

    DType(int byteSize, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    /**
     * Returns the size of one element.
     *
     * @return the number of bytes per element
     */
    public int byteSize() {
        return byteSize;
    }

    /**
     * Tells whether this is a floating-point type.
     *
     * @return true for {@link #F32}, {@link #F16}, {@link #BF16} and {@link #F64}
     */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }
}
