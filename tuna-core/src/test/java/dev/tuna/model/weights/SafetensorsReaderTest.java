package dev.tuna.model.weights;

import static dev.tuna.model.weights.Fixtures.concat;
import static dev.tuna.model.weights.Fixtures.floats;
import static dev.tuna.model.weights.Fixtures.halves;
import static dev.tuna.model.weights.Fixtures.longs;
import static dev.tuna.model.weights.Fixtures.safetensors;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.tuna.TunaException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsReaderTest {
    @TempDir
    Path dir;

    private Path file(byte[] bytes) {
        return Fixtures.write(dir.resolve("model.safetensors"), bytes);
    }

    private static void assertBadModelFile(Throwable e) {
        assertThat(e).isInstanceOf(TunaException.class);
        assertThat(((TunaException) e).kind()).isEqualTo(TunaException.Kind.BAD_MODEL_FILE);
    }

    /** Reads a file whose single F32 tensor 'w' has the given entry; the data section is {@code data}. */
    private Throwable failure(String entry, byte[] data) {
        Path path = file(safetensors("{\"w\":" + entry + "}", data));
        return catchThrowable(() -> SafetensorsReader.read(path));
    }

    @Test
    void readsTensorsInHeaderOrderWithMetadata() {
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[16,24]},"
                + "\"half\":{\"shape\":[3],\"data_offsets\":[24,30],\"dtype\":\"F16\"},"
                + "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[30,30]}}   ";
        byte[] data = concat(floats(1, 2, 3, 4), longs(12345678901L), halves(0x3C00, 0xC100, 0x7BFF));
        Path path = file(safetensors(header, data));

        WeightFile weights = SafetensorsReader.read(path);

        assertThat(weights.format()).isEqualTo(WeightFile.Format.SAFETENSORS);
        assertThat(weights.metadata()).isEqualTo(Map.of("format", "pt"));
        assertThat(weights.tensors().keySet()).containsExactly("fc.weight", "bn.num_batches_tracked", "half", "empty");
        assertThat(weights.tensor("fc.weight").shape()).containsExactly(2, 2);
        assertThat(weights.tensor("fc.weight").toFloats()).containsExactly(1, 2, 3, 4);
        assertThat(weights.tensor("bn.num_batches_tracked").rank()).isZero();
        assertThat(weights.tensor("bn.num_batches_tracked").toLongs()).containsExactly(12345678901L);
        assertThat(weights.tensor("half").toFloats()).containsExactly(1f, -2.5f, 65504f);
        assertThat(weights.tensor("empty").numel()).isZero();
        assertThat(weights.stateDictKey()).isEmpty();
    }

    @Test
    void reportsMissingTensorByName() {
        Path path = file(safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(1)));

        WeightFile weights = SafetensorsReader.read(path);

        assertThatThrownBy(() -> weights.tensor("fc.bias"))
                .satisfies(SafetensorsReaderTest::assertBadModelFile)
                .hasMessage(path + " has no tensor named 'fc.bias'; it has 1 tensors: 'w'. Check that the file holds"
                        + " the weights of the expected architecture");
    }

    @Test
    void reportsTruncatedHeader() {
        byte[] whole = safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(1));
        Path path = file(Arrays.copyOf(whole, 30));

        assertThatThrownBy(() -> SafetensorsReader.read(path))
                .satisfies(SafetensorsReaderTest::assertBadModelFile)
                .hasMessage(path + " is truncated: its safetensors header should be 54 bytes long but only 22 bytes"
                        + " follow the header length; download or save the file again");
    }

    @Test
    void reportsTruncatedData() {
        byte[] whole = safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", floats(1, 2));
        Path path = file(Arrays.copyOf(whole, whole.length - 2));

        assertThatThrownBy(() -> SafetensorsReader.read(path))
                .hasMessage(path + " is truncated or has a corrupt header: tensor 'w' (bytes 0..8) ends beyond the"
                        + " data section, which has 6 bytes; download or save the file again");
    }

    @Test
    void reportsInsaneHeaderLength() {
        byte[] bytes = new byte[16];
        Arrays.fill(bytes, (byte) 0xff);
        Path path = file(bytes);

        assertThatThrownBy(() -> SafetensorsReader.read(path))
                .satisfies(SafetensorsReaderTest::assertBadModelFile)
                .hasMessageStartingWith(path + " is not a valid safetensors file: its first 8 bytes give a header"
                        + " length of 18446744073709551615 bytes, expected 2 to 100000000");
    }

    @Test
    void reportsFileTooShortForHeaderLength() {
        Path path = file(new byte[] {1, 2, 3});

        assertThatThrownBy(() -> SafetensorsReader.read(path))
                .hasMessageStartingWith(path + " is 3 bytes long, too short for a safetensors file");
    }

    @Test
    void reportsMalformedJson() {
        Path path = file(safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1] \"data_offsets\":[0,4]}}", floats(1)));

        assertThatThrownBy(() -> SafetensorsReader.read(path))
                .satisfies(SafetensorsReaderTest::assertBadModelFile)
                .hasMessageStartingWith(path + " has a corrupt safetensors header: it is not valid JSON: ")
                .hasMessageContaining("line 1 column")
                .hasMessageEndingWith("; download or save the file again");
    }

    @Test
    void reportsLenientJsonAsMalformed() {
        assertThat(failure("{dtype:'F32',shape:[1],data_offsets:[0,4]}", floats(1)))
                .hasMessageContaining("it is not valid JSON");
    }

    @Test
    void reportsTrailingTextAfterHeader() {
        Path path = file(safetensors("{} {}", new byte[0]));

        assertThatThrownBy(() -> SafetensorsReader.read(path))
                .hasMessageContaining("corrupt safetensors header: it is not valid JSON: unexpected text at line 1"
                        + " column 5");
    }

    @Test
    void reportsByteLengthThatDoesNotMatchShape() {
        assertThat(failure("{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}", new byte[12]))
                .satisfies(SafetensorsReaderTest::assertBadModelFile)
                .hasMessageContaining("corrupt safetensors header: tensor 'w' of type F32 and shape [2, 2] needs"
                        + " 4 x 4 = 16 bytes, but its data_offsets [0, 12] span 12 bytes");
    }

    @Test
    void reportsOverlappingTensors() {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        Path path = file(safetensors(header, new byte[12]));

        assertThatThrownBy(() -> SafetensorsReader.read(path))
                .hasMessageContaining("tensors 'a' (bytes 0..8) and 'b' (bytes 4..12) overlap");
    }

    @Test
    void reportsGapsAndTrailingBytes() {
        String gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        assertThatThrownBy(() -> SafetensorsReader.read(file(safetensors(gap, new byte[8]))))
                .hasMessageContaining("bytes 0..4 of the data section belong to no tensor");

        String trailing = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        assertThatThrownBy(() -> SafetensorsReader.read(file(safetensors(trailing, new byte[6]))))
                .hasMessageContaining("the tensors cover 4 bytes but the data section has 6 (bytes 4..6 belong to"
                        + " no tensor)");
    }

    @Test
    void reportsBadOffsets() {
        assertThat(failure("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}", new byte[8]))
                .hasMessageContaining("tensor 'w' has data_offsets [8, 4]; expected [begin, end] with begin <= end");
        assertThat(failure("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}", new byte[4]))
                .hasMessageContaining("tensor 'w' has data_offsets [0]");
        assertThat(failure("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,-4]}", new byte[4]))
                .hasMessageContaining("tensor 'w' has a \"data_offsets\" entry that is -4, expected a whole number"
                        + " >= 0");
        assertThat(failure("{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}", new byte[4]))
                .hasMessageContaining("tensor 'w' has a \"shape\" entry that is 1.5, expected a whole number >= 0");
    }

    @Test
    void reportsMissingAndUnknownEntryFields() {
        assertThat(failure("{\"dtype\":\"F32\",\"shape\":[1]}", new byte[4]))
                .hasMessageContaining("tensor 'w' lacks \"data_offsets\"");
        assertThat(failure("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}", new byte[4]))
                .hasMessageContaining("tensor 'w' has an unknown entry \"x\"");
        Path path = file(safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]));
        assertThatThrownBy(() -> SafetensorsReader.read(path)).hasMessageContaining("it names 'w' twice");
    }

    @Test
    void reportsUnknownAndUnsupportedDtypes() {
        assertThat(failure("{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]}", new byte[4]))
                .hasMessageContaining("tensor 'w' has an unknown dtype \"F17\" (expected one of [F32, F16, BF16,");
        assertThat(failure("{\"dtype\":\"U32\",\"shape\":[1],\"data_offsets\":[0,4]}", new byte[4]))
                .satisfies(SafetensorsReaderTest::assertBadModelFile)
                .hasMessageContaining("tensor 'w' has dtype U32, which Tuna does not read");
    }

    @Test
    void reportsNonStringMetadata() {
        Path path = file(safetensors("{\"__metadata__\":{\"epoch\":3}}", new byte[0]));

        assertThatThrownBy(() -> SafetensorsReader.read(path))
                .hasMessageContaining("'__metadata__' entry 'epoch' should be a string but is a number");
    }

    @Test
    void reportsEveryTruncationAsBadModelFile() {
        byte[] whole = safetensors("{\"__metadata__\":{\"a\":\"b\"},"
                + "\"w\":{\"dtype\":\"F16\",\"shape\":[2,1],\"data_offsets\":[0,4]}}", halves(1, 2));
        for (int i = 0; i < whole.length; i++) {
            Path path = file(Arrays.copyOf(whole, i));
            assertThatThrownBy(() -> SafetensorsReader.read(path))
                    .satisfies(SafetensorsReaderTest::assertBadModelFile);
        }
    }

    @Test
    void readsLittleEndianHeaderLength() {
        byte[] header = "{}".getBytes(StandardCharsets.US_ASCII);
        byte[] length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(2).array();
        Path path = file(concat(length, header));

        assertThat(SafetensorsReader.read(path).tensors()).isEmpty();
    }
}
