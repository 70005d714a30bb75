package dev.tuna.model.weights;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.tuna.TunaException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads safetensors files: an 8-byte little-endian header length {@code N}, {@code N} bytes of JSON
 * naming each tensor's {@code dtype}, {@code shape} and {@code data_offsets} (plus an optional
 * {@code __metadata__} map of strings), then the tensors' bytes.
 *
 * <p>The reader is strict, like the reference implementation: the header must be well-formed JSON with
 * nothing unknown in it, each tensor's byte range must match its type and shape, and the ranges must
 * tile the data section exactly (no overlaps, gaps or trailing bytes). Anything else fails with a
 * {@link TunaException} of kind {@code BAD_MODEL_FILE} saying what was wrong.
 *
 * <pre>{@code
 * WeightFile weights = SafetensorsReader.read(Path.of("model.safetensors"));
 * float[] bias = weights.tensor("fc.bias").toFloats();
 * }</pre>
 */
public final class SafetensorsReader {
    /** The largest header the reference implementation accepts. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    /** The largest single tensor Tuna holds in memory (one Java array). */
    static final long MAX_TENSOR_BYTES = Integer.MAX_VALUE - 8L;

    private static final String METADATA_KEY = "__metadata__";
    private static final Set<String> UNSUPPORTED_DTYPES =
            Set.of("U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64");
    private static final Pattern WHOLE_NUMBER = Pattern.compile("0|[1-9][0-9]*");

    private SafetensorsReader() {
    }

    /** One header entry, before its bytes are read. */
    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        String range() {
            return "'" + name + "' (bytes " + begin + ".." + end + ")";
        }
    }

    /**
     * Reads every tensor of a safetensors file into memory.
     *
     * @param path the {@code .safetensors} file
     * @return the tensors in header order, with the file's metadata
     * @throws TunaException ({@code BAD_MODEL_FILE}) if the file is missing, unreadable, not
     *     safetensors, truncated or inconsistent
     */
    public static WeightFile read(Path path) {
        long fileSize = FileProbe.checkFile(path);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            if (fileSize < 8) {
                throw FileProbe.bad(path + " is " + fileSize + " bytes long, too short for a safetensors file (which"
                        + " starts with an 8-byte header length); the file is truncated or not safetensors");
            }
            ByteBuffer lengthBytes = readFully(channel, 0, 8, path).order(ByteOrder.LITTLE_ENDIAN);
            long headerLength = lengthBytes.getLong(0);
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
                throw FileProbe.bad(path + " is not a valid safetensors file: its first 8 bytes give a header length"
                        + " of " + Long.toUnsignedString(headerLength) + " bytes, expected 2 to " + MAX_HEADER_BYTES
                        + " (it starts with " + FileProbe.hex(Arrays.copyOf(lengthBytes.array(), 8))
                        + "); check that this is a .safetensors file and download or save it again");
            }
            if (8 + headerLength > fileSize) {
                throw FileProbe.bad(path + " is truncated: its safetensors header should be " + headerLength
                        + " bytes long but only " + (fileSize - 8) + " bytes follow the header length;"
                        + " download or save the file again");
            }
            byte[] headerBytes = readFully(channel, 8, (int) headerLength, path).array();
            long dataStart = 8 + headerLength;
            long dataSize = fileSize - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = parseHeader(path, decodeUtf8(path, headerBytes), metadata);
            checkLayout(path, entries, dataSize);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Entry entry : entries) {
                ByteBuffer bytes = readFully(channel, dataStart + entry.begin(), (int) (entry.end() - entry.begin()),
                        path);
                tensors.put(entry.name(), new Tensor(entry.name(), entry.dtype(), entry.shape(), bytes));
            }
            return new WeightFile(path, WeightFile.Format.SAFETENSORS, tensors, metadata, Optional.empty(),
                    Map.of());
        } catch (IOException e) {
            throw FileProbe.bad("cannot read weight file " + path + " (" + e + "); check that it is readable", e);
        }
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length, Path path)
            throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw FileProbe.bad(path + " ended early while reading bytes " + position + ".." + (position + length)
                        + "; was it changed while being read?");
            }
        }
        return buffer.flip();
    }

    private static String decodeUtf8(Path path, byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw FileProbe.bad(path + " has a corrupt safetensors header: it is not valid UTF-8 text"
                    + " (it should be a JSON object); download or save the file again", e);
        }
    }

    private static List<Entry> parseHeader(Path path, String json, Map<String, String> metadata) {
        if (!json.startsWith("{")) {
            throw corruptHeader(path, "it should start with '{' but starts with '"
                    + json.substring(0, Math.min(json.length(), 20)) + "'");
        }
        List<Entry> entries = new ArrayList<>();
        Set<String> names = new HashSet<>();
        try (JsonReader reader = new JsonReader(new StringReader(json))) {
            reader.setStrictness(Strictness.STRICT);
            reader.beginObject();
            while (reader.hasNext()) {
                String name = reader.nextName();
                if (!names.add(name)) {
                    throw corruptHeader(path, "it names '" + name + "' twice");
                }
                if (name.equals(METADATA_KEY)) {
                    readMetadata(path, reader, metadata);
                } else {
                    entries.add(readEntry(path, reader, name));
                }
            }
            reader.endObject();
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw corruptHeader(path, "there is more text after its JSON object");
            }
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            throw corruptHeader(path, "it is not valid JSON: " + gsonProblem(e));
        }
        return entries;
    }

    private static void readMetadata(Path path, JsonReader reader, Map<String, String> metadata)
            throws IOException {
        if (reader.peek() != JsonToken.BEGIN_OBJECT) {
            throw corruptHeader(path, "'" + METADATA_KEY + "' should map names to strings but is "
                    + kind(reader.peek()));
        }
        reader.beginObject();
        while (reader.hasNext()) {
            String key = reader.nextName();
            if (reader.peek() != JsonToken.STRING) {
                throw corruptHeader(path, "'" + METADATA_KEY + "' entry '" + key + "' should be a string but is "
                        + kind(reader.peek()));
            }
            metadata.put(key, reader.nextString());
        }
        reader.endObject();
    }

    private static Entry readEntry(Path path, JsonReader reader, String name) throws IOException {
        if (reader.peek() != JsonToken.BEGIN_OBJECT) {
            throw corruptHeader(path, "tensor '" + name + "' should be an object with \"dtype\", \"shape\" and"
                    + " \"data_offsets\" but is " + kind(reader.peek()));
        }
        String dtypeName = null;
        long[] shape = null;
        long[] offsets = null;
        reader.beginObject();
        while (reader.hasNext()) {
            String key = reader.nextName();
            switch (key) {
                case "dtype" -> {
                    if (dtypeName != null || reader.peek() != JsonToken.STRING) {
                        throw corruptHeader(path, "tensor '" + name + "' needs exactly one string \"dtype\"");
                    }
                    dtypeName = reader.nextString();
                }
                case "shape" -> {
                    if (shape != null) {
                        throw corruptHeader(path, "tensor '" + name + "' has two \"shape\" entries");
                    }
                    shape = readWholeNumbers(path, reader, name, key);
                }
                case "data_offsets" -> {
                    if (offsets != null) {
                        throw corruptHeader(path, "tensor '" + name + "' has two \"data_offsets\" entries");
                    }
                    offsets = readWholeNumbers(path, reader, name, key);
                }
                default -> throw corruptHeader(path, "tensor '" + name + "' has an unknown entry \"" + key
                        + "\" (expected \"dtype\", \"shape\" and \"data_offsets\")");
            }
        }
        reader.endObject();
        if (dtypeName == null || shape == null || offsets == null) {
            throw corruptHeader(path, "tensor '" + name + "' lacks "
                    + (dtypeName == null ? "\"dtype\"" : shape == null ? "\"shape\"" : "\"data_offsets\""));
        }
        if (offsets.length != 2 || offsets[0] > offsets[1]) {
            throw corruptHeader(path, "tensor '" + name + "' has data_offsets " + Arrays.toString(offsets)
                    + "; expected [begin, end] with begin <= end");
        }
        DType dtype = dtype(path, name, dtypeName);
        long numel;
        long byteSize;
        try {
            numel = Tensor.numel(shape);
            byteSize = Math.multiplyExact(numel, dtype.byteSize());
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw corruptHeader(path, "tensor '" + name + "' has an impossible shape " + Arrays.toString(shape));
        }
        if (offsets[1] - offsets[0] != byteSize) {
            throw corruptHeader(path, "tensor '" + name + "' of type " + dtypeName + " and shape "
                    + Arrays.toString(shape) + " needs " + numel + " x " + dtype.byteSize() + " = " + byteSize
                    + " bytes, but its data_offsets " + Arrays.toString(offsets) + " span "
                    + (offsets[1] - offsets[0]) + " bytes");
        }
        if (byteSize > MAX_TENSOR_BYTES) {
            throw FileProbe.bad(path + ": tensor '" + name + "' is " + byteSize + " bytes; Tuna reads tensors of up"
                    + " to " + MAX_TENSOR_BYTES + " bytes. Split it or store it in a smaller type");
        }
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] readWholeNumbers(Path path, JsonReader reader, String name, String key)
            throws IOException {
        if (reader.peek() != JsonToken.BEGIN_ARRAY) {
            throw corruptHeader(path, "tensor '" + name + "' has a \"" + key + "\" that is " + kind(reader.peek())
                    + ", expected an array of whole numbers");
        }
        List<Long> values = new ArrayList<>();
        reader.beginArray();
        while (reader.hasNext()) {
            String literal = reader.peek() == JsonToken.NUMBER ? reader.nextString() : null;
            if (literal == null || !WHOLE_NUMBER.matcher(literal).matches()) {
                throw corruptHeader(path, "tensor '" + name + "' has a \"" + key + "\" entry that is "
                        + (literal == null ? kind(reader.peek()) : literal)
                        + ", expected a whole number >= 0");
            }
            try {
                values.add(Long.parseLong(literal));
            } catch (NumberFormatException e) {
                throw corruptHeader(path, "tensor '" + name + "' has a \"" + key + "\" entry " + literal
                        + " that is too large");
            }
        }
        reader.endArray();
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    private static String kind(JsonToken token) {
        return switch (token) {
            case BEGIN_ARRAY -> "an array";
            case BEGIN_OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> "the end of a JSON value";
        };
    }

    private static DType dtype(Path path, String name, String dtypeName) {
        for (DType dtype : DType.values()) {
            if (dtype.name().equals(dtypeName)) {
                return dtype;
            }
        }
        String supported = Arrays.toString(DType.values());
        if (UNSUPPORTED_DTYPES.contains(dtypeName)) {
            throw FileProbe.bad(path + ": tensor '" + name + "' has dtype " + dtypeName + ", which Tuna does not"
                    + " read (supported: " + supported + "); convert the tensor before saving, e.g. to F32");
        }
        throw corruptHeader(path, "tensor '" + name + "' has an unknown dtype \"" + dtypeName + "\" (expected one of "
                + supported + ")");
    }

    private static void checkLayout(Path path, List<Entry> entries, long dataSize) {
        for (Entry entry : entries) {
            if (entry.end() > dataSize) {
                throw FileProbe.bad(path + " is truncated or has a corrupt header: tensor " + entry.range()
                        + " ends beyond the data section, which has " + dataSize + " bytes;"
                        + " download or save the file again");
            }
        }
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        Entry previous = null;
        for (Entry entry : sorted) {
            if (entry.begin() < covered) {
                throw corruptHeader(path, "tensors " + previous.range() + " and " + entry.range() + " overlap");
            }
            if (entry.begin() > covered) {
                throw corruptHeader(path, "bytes " + covered + ".." + entry.begin()
                        + " of the data section belong to no tensor");
            }
            covered = entry.end();
            previous = entry;
        }
        if (covered != dataSize) {
            throw corruptHeader(path, "the tensors cover " + covered + " bytes but the data section has " + dataSize
                    + " (bytes " + covered + ".." + dataSize + " belong to no tensor)");
        }
    }

    private static TunaException corruptHeader(Path path, String problem) {
        return FileProbe.bad(path + " has a corrupt safetensors header: " + problem
                + "; download or save the file again");
    }

    private static String gsonProblem(Exception e) {
        String message = String.valueOf(e.getMessage());
        int newline = message.indexOf('\n');
        if (newline >= 0) {
            message = message.substring(0, newline);
        }
        message = message.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON ", "");
        return message.startsWith("at line") ? "unexpected text " + message : message;
    }
}
