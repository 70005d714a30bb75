package dev.tuna.model.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void convertsHalfPrecisionBitsToFloats() {
        Tensor half = Tensor.of("h", DType.F16, new long[] {7},
                Fixtures.halves(0x3C00, 0xC100, 0x7BFF, 0x0001, 0x0400, 0x7C00, 0x7E00));

        float[] values = half.toFloats();

        assertThat(values).startsWith(1.0f, -2.5f, 65504f, 0x1p-24f, 0x1p-14f, Float.POSITIVE_INFINITY);
        assertThat(values[6]).isNaN();
    }

    @Test
    void convertsBfloat16AndFloat64ToFloats() {
        Tensor bf16 = Tensor.of("b", DType.BF16, new long[] {2}, Fixtures.halves(0x3F80, 0xC020));
        ByteBuffer doubles = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.5).putDouble(-1e300);
        Tensor f64 = Tensor.of("d", DType.F64, new long[] {2}, doubles.array());

        assertThat(bf16.toFloats()).containsExactly(1.0f, -2.5f);
        assertThat(f64.toFloats()).containsExactly(0.5f, Float.NEGATIVE_INFINITY);
        assertThat(f64.toDoubles()).containsExactly(0.5, -1e300);
    }

    @Test
    void readsIntegerAndBooleanTypesExactly() {
        assertThat(Tensor.of("i", DType.I64, new long[] {2}, Fixtures.longs(Long.MIN_VALUE, 3)).toLongs())
                .containsExactly(Long.MIN_VALUE, 3L);
        assertThat(Tensor.of("u", DType.U8, new long[] {2}, new byte[] {(byte) 255, 1}).toLongs())
                .containsExactly(255L, 1L);
        assertThat(Tensor.of("s", DType.I8, new long[] {1}, new byte[] {(byte) 255}).toFloats())
                .containsExactly(-1f);
        assertThat(Tensor.of("k", DType.BOOL, new long[] {2}, new byte[] {0, 1}).toFloats())
                .containsExactly(0f, 1f);
        assertThat(Tensor.of("j", DType.I32, new long[] {1}, new byte[] {(byte) 0xfe, (byte) 0xff, (byte) 0xff,
            (byte) 0xff}).toLongs()).containsExactly(-2L);
    }

    @Test
    void refusesToLongsOnFloatingPointTensor() {
        Tensor t = Tensor.ofFloats("w", new long[] {1}, new float[] {1f});

        assertThatThrownBy(t::toLongs)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("tensor 'w' holds F32 values; toLongs() needs an integer or boolean tensor: use toFloats()"
                        + " or toDoubles()");
    }

    @Test
    void isImmutableAndComparedByContent() {
        byte[] bytes = Fixtures.floats(1f, 2f);
        long[] shape = {2};
        Tensor t = Tensor.of("w", DType.F32, shape, bytes);
        bytes[0] = 9;
        shape[0] = 5;
        t.shape()[0] = 7;

        assertThat(t.shape()).containsExactly(2);
        assertThat(t.toFloats()).containsExactly(1f, 2f);
        assertThatThrownBy(() -> t.data().put(0, (byte) 1)).isInstanceOf(ReadOnlyBufferException.class);
        assertThat(t).isEqualTo(Tensor.ofFloats("w", new long[] {2}, new float[] {1f, 2f}))
                .hasSameHashCodeAs(Tensor.ofFloats("w", new long[] {2}, new float[] {1f, 2f}))
                .isNotEqualTo(Tensor.ofFloats("v", new long[] {2}, new float[] {1f, 2f}));
        assertThat(t.withName("v").name()).isEqualTo("v");
        assertThat(t).hasToString("Tensor[w, F32, [2]]");
    }

    @Test
    void describesScalarShape() {
        Tensor scalar = Tensor.of("n", DType.I64, new long[0], Fixtures.longs(5));

        assertThat(scalar.rank()).isZero();
        assertThat(scalar.numel()).isEqualTo(1);
        assertThat(scalar.byteSize()).isEqualTo(8);
    }

    @Test
    void rejectsDataOfWrongLength() {
        assertThatThrownBy(() -> Tensor.of("w", DType.F32, new long[] {2, 2}, new byte[12]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tensor 'w' of type F32 and shape [2, 2] needs 16 bytes, got 12");
    }
}
