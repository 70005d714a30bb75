package dev.tuna.model.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tuna.TunaException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    private static float[] ramp(int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = i * 0.5f - 3;
        }
        return values;
    }

    @Test
    void tensorsAndMetadataRoundTripThroughTheReader() {
        Tensor conv = Tensor.ofFloats("conv1.weight", new long[] {4, 3, 2, 2}, ramp(48));
        Tensor scalar = Tensor.ofFloats("scale", new long[] {}, new float[] {Float.MIN_VALUE});
        Tensor empty = Tensor.ofFloats("empty", new long[] {0, 3}, new float[0]);
        Tensor odd = Tensor.ofFloats("odd", new long[] {3}, new float[] {Float.NaN, -0f, Float.POSITIVE_INFINITY});
        ByteBuffer longs = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(7).putLong(-1);
        Tensor steps = Tensor.of("bn.num_batches_tracked", DType.I64, new long[] {2}, longs.array());
        Tensor quoted = Tensor.ofFloats("na\"me é/ü\\x", new long[] {1}, new float[] {2.5f});
        Path file = dir.resolve("w.safetensors");

        SafetensorsWriter.write(file, List.of(conv, scalar, empty, odd, steps, quoted),
                Map.of("format", "pt", "note", "ünïcode \"quoted\""));

        WeightFile read = SafetensorsReader.read(file);
        assertThat(read.tensors().keySet()).containsExactly("conv1.weight", "scale", "empty", "odd",
                "bn.num_batches_tracked", "na\"me é/ü\\x");
        assertThat(read.tensors().values()).containsExactly(conv, scalar, empty, odd, steps, quoted);
        assertThat(read.tensor("conv1.weight").toFloats()).containsExactly(ramp(48));
        assertThat(read.metadata()).containsExactlyInAnyOrderEntriesOf(
                Map.of("format", "pt", "note", "ünïcode \"quoted\""));
    }

    @Test
    void layoutIsLengthThenSpacePaddedJsonThenLittleEndianData() throws IOException {
        Path file = dir.resolve("w.safetensors");
        SafetensorsWriter.write(file, List.of(Tensor.ofFloats("a", new long[] {2}, new float[] {1f, -2f})));

        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(headerLength % 8).isZero();
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertThat(header.strip()).isEqualTo("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}");
        assertThat(header.substring(header.strip().length())).matches(" *");
        ByteBuffer data = ByteBuffer.wrap(bytes, 8 + (int) headerLength, 8).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(data.getFloat()).isEqualTo(1f);
        assertThat(data.getFloat()).isEqualTo(-2f);
        assertThat(bytes).hasSize(8 + (int) headerLength + 8);
    }

    @Test
    void writeFloatsTakesArraysAndShapesAndReplacesAnExistingFile() throws IOException {
        Path file = dir.resolve("w.safetensors");
        Files.writeString(file, "old content");
        Map<String, float[]> values = new LinkedHashMap<>();
        values.put("fc.weight", ramp(6));
        values.put("fc.bias", new float[] {1, 2});

        SafetensorsWriter.writeFloats(file, values, Map.of("fc.weight", new long[] {2, 3}, "fc.bias",
                new long[] {2}), Map.of());

        WeightFile read = SafetensorsReader.read(file);
        assertThat(read.tensors().keySet()).containsExactly("fc.weight", "fc.bias");
        assertThat(read.tensor("fc.weight").shape()).containsExactly(2, 3);
        assertThat(read.tensor("fc.weight").toFloats()).containsExactly(ramp(6));
        assertThat(read.metadata()).isEmpty();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(file); // no temporary file left behind
        }
    }

    @Test
    void refusesAMissingShapeOrDuplicateNames() {
        Path file = dir.resolve("w.safetensors");
        assertThatThrownBy(() -> SafetensorsWriter.writeFloats(file, Map.of("a", new float[2]), Map.of(), Map.of()))
                .isInstanceOf(TunaException.class)
                .hasMessageContaining("Tensor 'a' has values but no shape");
        assertThatThrownBy(() -> SafetensorsWriter.writeFloats(file, Map.of("a", new float[2]),
                Map.of("a", new long[] {3}), Map.of()))
                .hasMessageContaining("has shape [3] but 2 values");
        Tensor a = Tensor.ofFloats("a", new long[] {1}, new float[1]);
        assertThatThrownBy(() -> SafetensorsWriter.write(file, List.of(a, a)))
                .isInstanceOf(TunaException.class)
                .hasMessageContaining("Two tensors are named 'a'");
        assertThat(file).doesNotExist();
    }

    @Test
    void reportsAnUnwritableDestination() {
        Path file = dir.resolve("no-such-folder").resolve("w.safetensors");
        assertThatThrownBy(() -> SafetensorsWriter.write(file, List.of()))
                .isInstanceOfSatisfying(TunaException.class,
                        e -> assertThat(e.kind()).isEqualTo(TunaException.Kind.RUNTIME))
                .hasMessageContaining("Cannot write " + file)
                .hasMessageContaining("check that its folder exists");
    }
}
