package dev.tuna.model.weights;

import com.google.gson.stream.JsonWriter;
import dev.tuna.TunaException;
import dev.tuna.internal.io.AtomicFiles;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes safetensors files in the standard layout: an 8-byte little-endian header length {@code N},
 * {@code N} bytes of JSON (padded with spaces to a multiple of 8) giving each tensor's
 * {@code dtype}, {@code shape} and {@code data_offsets} plus an optional {@code __metadata__} map of
 * strings, then every tensor's bytes, little-endian and in C order, one after the other.
 *
 * <p>Tensors are stored in the order given. The file is written next to its destination under a
 * temporary name and renamed into place once complete, so a reader never sees half a file.
 * {@link dev.tuna.model.weights.SafetensorsReader} reads the result back exactly.
 *
 * <pre>{@code
 * SafetensorsWriter.write(Path.of("weights.safetensors"),
 *         List.of(Tensor.ofFloats("fc.weight", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})),
 *         Map.of("format", "pt"));
 * }</pre>
 */
public final class SafetensorsWriter {
    private static final String METADATA_KEY = "__metadata__";

    private SafetensorsWriter() {
    }

    /**
     * Writes tensors without metadata.
     *
     * @param file the destination; replaced if it exists
     * @param tensors the tensors, written in this order under their own names
     * @throws TunaException ({@link TunaException.Kind#USAGE}) for duplicate or reserved names;
     *     ({@link TunaException.Kind#RUNTIME}) when the file cannot be written
     */
    public static void write(Path file, Collection<Tensor> tensors) {
        write(file, tensors, Map.of());
    }

    /**
     * Writes tensors (of any {@link dev.tuna.model.weights.DType}) and a metadata map.
     *
     * @param file the destination; replaced if it exists
     * @param tensors the tensors, written in this order under their own names
     * @param metadata strings stored under {@code __metadata__}; omitted when empty
     * @throws TunaException ({@link TunaException.Kind#USAGE}) for duplicate or reserved names;
     *     ({@link TunaException.Kind#RUNTIME}) when the file cannot be written
     */
    public static void write(Path file, Collection<Tensor> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(file, "file");
        List<Tensor> list = List.copyOf(tensors);
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        checkNames(list, meta);
        byte[] header = header(list, meta);
        AtomicFiles.writeAtomically(file, channel -> {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            AtomicFiles.writeFully(channel, length);
            AtomicFiles.writeFully(channel, ByteBuffer.wrap(header));
            for (Tensor tensor : list) {
                AtomicFiles.writeFully(channel, tensor.data());
            }
        });
    }

    /**
     * Writes float32 tensors given as arrays and shapes.
     *
     * @param file the destination; replaced if it exists
     * @param values each tensor's elements in C order, by name, written in the map's iteration order
     * @param shapes each tensor's shape, by name; every name of {@code values} needs one
     * @param metadata strings stored under {@code __metadata__}; omitted when empty
     * @throws TunaException ({@link TunaException.Kind#USAGE}) when a shape is missing or does not fit
     *     its values; ({@link TunaException.Kind#RUNTIME}) when the file cannot be written
     */
    public static void writeFloats(Path file, Map<String, float[]> values, Map<String, long[]> shapes,
            Map<String, String> metadata) {
        List<Tensor> tensors = new ArrayList<>();
        for (Map.Entry<String, float[]> entry : values.entrySet()) {
            long[] shape = shapes.get(entry.getKey());
            if (shape == null) {
                throw TunaException.usage("Tensor '" + entry.getKey() + "' has values but no shape; pass a shape"
                        + " for every tensor (found shapes for " + shapes.keySet() + ").");
            }
            try {
                tensors.add(Tensor.ofFloats(entry.getKey(), shape, entry.getValue()));
            } catch (IllegalArgumentException e) {
                throw TunaException.usage("Tensor '" + entry.getKey() + "' has shape " + Arrays.toString(shape)
                        + " but " + entry.getValue().length + " values; the shape's product must equal the number"
                        + " of values.");
            }
        }
        write(file, tensors, metadata);
    }

    private static void checkNames(List<Tensor> tensors, Map<String, String> metadata) {
        Set<String> seen = new HashSet<>();
        for (Tensor tensor : tensors) {
            String name = tensor.name();
            if (name.isEmpty() || name.equals(METADATA_KEY)) {
                throw TunaException.usage("A safetensors tensor cannot be named '" + name + "'; choose another name.");
            }
            if (!seen.add(name)) {
                throw TunaException.usage("Two tensors are named '" + name + "'; safetensors names must be unique.");
            }
        }
        for (Map.Entry<String, String> entry : metadata.entrySet()) {
            if (entry.getKey() == null || entry.getValue() == null) {
                throw TunaException.usage("Safetensors metadata must map strings to strings; found "
                        + entry.getKey() + " = " + entry.getValue() + ".");
            }
        }
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes. */
    private static byte[] header(List<Tensor> tensors, Map<String, String> metadata) {
        StringWriter text = new StringWriter();
        try (JsonWriter json = new JsonWriter(text)) {
            json.setHtmlSafe(false);
            json.beginObject();
            if (!metadata.isEmpty()) {
                json.name(METADATA_KEY).beginObject();
                for (Map.Entry<String, String> entry : metadata.entrySet()) {
                    json.name(entry.getKey()).value(entry.getValue());
                }
                json.endObject();
            }
            long offset = 0;
            for (Tensor tensor : tensors) {
                json.name(tensor.name()).beginObject();
                json.name("dtype").value(tensor.dtype().name());
                json.name("shape").beginArray();
                for (long dimension : tensor.shape()) {
                    json.value(dimension);
                }
                json.endArray();
                long end = offset + tensor.byteSize();
                json.name("data_offsets").beginArray().value(offset).value(end).endArray();
                json.endObject();
                offset = end;
            }
            json.endObject();
        } catch (IOException e) {
            throw new IllegalStateException("writing to a StringWriter cannot fail", e);
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (bytes.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(bytes, padded);
        Arrays.fill(out, bytes.length, padded, (byte) ' ');
        return out;
    }
}
