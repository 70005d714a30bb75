package dev.tuna.model.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A named, immutable tensor read from a weight file: an element type, a shape and the elements as
 * contiguous, row-major (C order), little-endian bytes.
 *
 * <p>Tensors are values: {@link #shape()} returns a copy and {@link #data()} a read-only view, and
 * {@link #equals(Object)} compares names, types, shapes and contents. Several tensors read from one
 * file may share their backing bytes, which is safe because none of them can change them.
 *
 * <pre>{@code
 * Tensor weight = WeightFiles.read(Path.of("resnet18.pth")).tensor("conv1.weight");
 * long[] shape = weight.shape();     // [64, 3, 7, 7]
 * float[] values = weight.toFloats(); // converted from F16, BF16, F64... as needed
 * }</pre>
 */
public final class Tensor {
    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final long numel;
    private final ByteBuffer data;

    /**
     * Wraps bytes without copying them; the caller must never change them afterwards.
     *
     * @param name the tensor's name
     * @param dtype the element type
     * @param shape the shape (copied)
     * @param data the elements, little-endian, C order, from its position to its limit
     */
    Tensor(String name, DType dtype, long[] shape, ByteBuffer data) {
        this.name = Objects.requireNonNull(name, "name");
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = Objects.requireNonNull(shape, "shape").clone();
        this.numel = numel(this.shape);
        long expected = numel * dtype.byteSize();
        if (data.remaining() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "' of type " + dtype + " and shape "
                    + Arrays.toString(shape) + " needs " + expected + " bytes, got " + data.remaining());
        }
        this.data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Creates a tensor from a copy of the given bytes.
     *
     * @param name the tensor's name, e.g. {@code "conv1.weight"}
     * @param dtype the element type
     * @param shape the shape; an empty array for a scalar
     * @param littleEndianData the elements in C order, little-endian; exactly
     *     {@code numel(shape) * dtype.byteSize()} bytes
     * @return the tensor
     * @throws IllegalArgumentException if a dimension is negative or the data has the wrong length
     */
    public static Tensor of(String name, DType dtype, long[] shape, byte[] littleEndianData) {
        return new Tensor(name, dtype, shape, ByteBuffer.wrap(littleEndianData.clone()));
    }

    /**
     * Creates a {@link DType#F32} tensor from float values.
     *
     * @param name the tensor's name
     * @param shape the shape; an empty array for a scalar
     * @param values the elements in C order; exactly {@code numel(shape)} of them
     * @return the tensor
     * @throws IllegalArgumentException if a dimension is negative or the number of values is wrong
     */
    public static Tensor ofFloats(String name, long[] shape, float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return new Tensor(name, DType.F32, shape, bytes);
    }

    /**
     * Returns the number of elements of a shape: the product of its dimensions, 1 for a scalar.
     *
     * @param shape the shape
     * @return the number of elements
     * @throws IllegalArgumentException if a dimension is negative or the product overflows a long
     */
    public static long numel(long[] shape) {
        long n = 1;
        for (long dimension : shape) {
            if (dimension < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            try {
                n = Math.multiplyExact(n, dimension);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has too many elements", e);
            }
        }
        return n;
    }

    /**
     * Returns a tensor with the same type, shape and data under another name; the data is shared.
     *
     * @param newName the new name
     * @return the renamed tensor
     */
    public Tensor withName(String newName) {
        return new Tensor(newName, dtype, shape, data.duplicate());
    }

    /**
     * Returns the tensor's name: its key in the weight file.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Returns the element type.
     *
     * @return the element type
     */
    public DType dtype() {
        return dtype;
    }

    /**
     * Returns a copy of the shape.
     *
     * @return the size of each dimension; empty for a scalar
     */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Returns the number of dimensions.
     *
     * @return the rank; 0 for a scalar
     */
    public int rank() {
        return shape.length;
    }

    /**
     * Returns the number of elements.
     *
     * @return the product of the dimensions; 1 for a scalar
     */
    public long numel() {
        return numel;
    }

    /**
     * Returns the size of the data.
     *
     * @return {@code numel() * dtype().byteSize()}
     */
    public int byteSize() {
        return data.capacity();
    }

    /**
     * Returns a read-only, little-endian view of the elements in C order, positioned at the first.
     *
     * @return a new view; moving its position does not affect the tensor
     */
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Returns the elements as floats, converting as needed. Integers beyond 2<sup>24</sup> and
     * float64 values lose precision; booleans become 0 and 1; {@link DType#U8} is unsigned.
     *
     * @return a new array of {@code numel()} floats in C order
     */
    public float[] toFloats() {
        int n = (int) numel;
        float[] out = new float[n];
        ByteBuffer in = data();
        switch (dtype) {
            case F32 -> in.asFloatBuffer().get(out);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = halfToFloat(in.getShort(2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((in.getShort(2 * i) & 0xffff) << 16);
                }
            }
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) in.getDouble(8 * i);
                }
            }
            default -> {
                long[] longs = toLongs();
                for (int i = 0; i < n; i++) {
                    out[i] = longs[i];
                }
            }
        }
        return out;
    }

    /**
     * Returns the elements as doubles, converting as needed; exact for every type but
     * {@link DType#I64} values beyond 2<sup>53</sup>.
     *
     * @return a new array of {@code numel()} doubles in C order
     */
    public double[] toDoubles() {
        int n = (int) numel;
        double[] out = new double[n];
        if (dtype == DType.F64) {
            data().asDoubleBuffer().get(out);
        } else if (dtype.isFloatingPoint()) {
            float[] floats = toFloats();
            for (int i = 0; i < n; i++) {
                out[i] = floats[i];
            }
        } else {
            long[] longs = toLongs();
            for (int i = 0; i < n; i++) {
                out[i] = longs[i];
            }
        }
        return out;
    }

    /**
     * Returns the elements of an integer or boolean tensor as longs: exact for every such type;
     * booleans become 0 and 1 and {@link DType#U8} is unsigned.
     *
     * @return a new array of {@code numel()} longs in C order
     * @throws IllegalStateException if the tensor holds floating-point values; use {@link #toFloats()}
     */
    public long[] toLongs() {
        int n = (int) numel;
        long[] out = new long[n];
        ByteBuffer in = data();
        switch (dtype) {
            case I64 -> in.asLongBuffer().get(out);
            case I32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = in.getInt(4 * i);
                }
            }
            case I16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = in.getShort(2 * i);
                }
            }
            case I8 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = in.get(i);
                }
            }
            case U8, BOOL -> {
                for (int i = 0; i < n; i++) {
                    out[i] = in.get(i) & 0xff;
                }
            }
            default -> throw new IllegalStateException("tensor '" + name + "' holds " + dtype
                    + " values; toLongs() needs an integer or boolean tensor: use toFloats() or toDoubles()");
        }
        return out;
    }

    /**
     * Converts an IEEE 754 half-precision value to a float (exactly: every half is a float).
     *
     * @param bits the 16 bits of the half
     * @return the value
     */
    static float halfToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f; // zero or subnormal
            return sign == 0 ? magnitude : -magnitude;
        }
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13)); // infinity or NaN
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /**
     * Tells whether another object is a tensor with the same name, type, shape and bytes.
     *
     * @param other the object to compare with
     * @return true if equal
     */
    @Override
    public boolean equals(Object other) {
        return other instanceof Tensor that
                && name.equals(that.name)
                && dtype == that.dtype
                && Arrays.equals(shape, that.shape)
                && data.equals(that.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), data);
    }

    /**
     * Describes the tensor without its values.
     *
     * @return e.g. {@code Tensor[conv1.weight, F32, [64, 3, 7, 7]]}
     */
    @Override
    public String toString() {
        return "Tensor[" + name + ", " + dtype + ", " + Arrays.toString(shape) + "]";
    }
}
