package dev.tuna.inference;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.tuna.TunaException;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.transform.Normalization;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.ResizeMethod;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** Turns {@link ArtifactMetadata} into {@code model.json} and back, checking every field on the way in. */
final class ArtifactJson {
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping()
            .serializeSpecialFloatingPointValues().serializeNulls().create();

    private ArtifactJson() {
    }

    /** What {@code model.json} says besides the metadata. */
    record Parsed(int formatVersion, ArtifactMetadata metadata, String weightsFile, long weightsBytes,
            String weightsSha256) {
    }

    /**
     * The metadata alone, as {@code model.json} holds it but without the weights fields: what an ONNX
     * export embeds ({@link #decodeMetadata} reads it back).
     */
    static String encodeMetadata(ArtifactMetadata meta) {
        return encode(meta, null, 0, null);
    }

    /**
     * Parses and checks what {@link #encodeMetadata} wrote.
     *
     * @param file where it was read from, for messages
     * @param text the JSON
     * @return the metadata
     * @throws TunaException ({@link TunaException.Kind#BAD_MODEL_FILE}) saying what is wrong
     */
    static ArtifactMetadata decodeMetadata(Path file, String text) {
        return decode(file, text, false).metadata();
    }

    /** {@code model.json}; without weight fields when {@code weightsFile} is null. */
    static String encode(ArtifactMetadata meta, String weightsFile, long weightsBytes, String weightsSha256) {
        JsonObject root = new JsonObject();
        root.addProperty("format", ModelArtifact.FORMAT);
        root.addProperty("formatVersion", ModelArtifact.FORMAT_VERSION);
        root.addProperty("architecture", meta.architecture().id());
        JsonArray classes = new JsonArray();
        meta.classes().forEach(classes::add);
        root.add("classes", classes);
        root.addProperty("inputSize", meta.inputSize());
        root.addProperty("resizeMethod", meta.resizeMethod().name().toLowerCase(Locale.ROOT));
        root.addProperty("padMode", meta.padMode().name().toLowerCase(Locale.ROOT));
        JsonObject normalization = new JsonObject();
        normalization.add("mean", floats(meta.normalization().mean()));
        normalization.add("std", floats(meta.normalization().std()));
        root.add("normalization", normalization);
        root.addProperty("tfSamePadding", meta.tfSamePadding());
        JsonObject head = new JsonObject();
        JsonArray hidden = new JsonArray();
        meta.head().hidden().forEach(hidden::add);
        head.add("hidden", hidden);
        JsonArray dropouts = new JsonArray();
        meta.head().dropouts().forEach(dropouts::add);
        head.add("dropouts", dropouts);
        root.add("head", head);
        if (weightsFile != null) {
            root.addProperty("weightsFile", weightsFile);
            root.addProperty("weightsBytes", weightsBytes);
            root.addProperty("weightsSha256", weightsSha256);
        }
        JsonObject versions = new JsonObject();
        versions.addProperty("tuna", meta.libraryVersions().tuna());
        versions.addProperty("djl", meta.libraryVersions().djl());
        versions.addProperty("pytorch", meta.libraryVersions().pytorch());
        root.add("libraryVersions", versions);
        root.addProperty("seed", meta.seed());
        root.addProperty("createdAt", meta.createdAt().toString());
        root.add("training", meta.training());
        return GSON.toJson(root) + "\n";
    }

    private static JsonArray floats(float[] values) {
        JsonArray array = new JsonArray();
        for (float v : values) {
            array.add(v);
        }
        return array;
    }

    /**
     * Parses and checks {@code model.json}.
     *
     * @param file the file, for messages
     * @param text its content
     * @return the parsed description
     * @throws TunaException ({@link TunaException.Kind#BAD_MODEL_FILE}) saying what is wrong
     */
    static Parsed decode(Path file, String text) {
        return decode(file, text, true);
    }

    private static Parsed decode(Path file, String text, boolean withWeights) {
        JsonElement parsed;
        try {
            parsed = JsonParser.parseString(text);
        } catch (JsonParseException e) {
            throw bad(file + " is not valid JSON (" + firstLine(e) + "); the file is damaged or was edited by hand:"
                    + " export the model again", e);
        }
        if (!parsed.isJsonObject()) {
            throw bad(file + " should hold a JSON object describing a Tuna model, but holds "
                    + describe(parsed) + "; export the model again");
        }
        Fields fields = new Fields(file, parsed.getAsJsonObject());
        JsonElement format = fields.root.get("format");
        if (format == null || !format.isJsonPrimitive() || !ModelArtifact.FORMAT.equals(format.getAsString())) {
            throw bad(file + " does not describe a Tuna model: expected \"format\": \"" + ModelArtifact.FORMAT
                    + "\", found " + (format == null ? "no \"format\" field" : format.toString())
                    + "; pass the folder written by Tuna's export");
        }
        int version = fields.integer(fields.root, "formatVersion", 1, Integer.MAX_VALUE);
        if (version > ModelArtifact.FORMAT_VERSION) {
            throw bad(file.getParent() + " was made by a newer Tuna (format " + version + ", this Tuna reads up to "
                    + ModelArtifact.FORMAT_VERSION + "); upgrade Tuna");
        }
        String architectureId = fields.string(fields.root, "architecture");
        Architecture architecture;
        try {
            architecture = Architecture.parse(architectureId);
        } catch (TunaException e) {
            throw bad(file + " names the architecture '" + architectureId + "', which this Tuna does not know"
                    + " (it knows " + Architecture.ids() + "); upgrade Tuna", e);
        }
        List<String> classes = fields.strings(fields.root, "classes");
        int inputSize = fields.integer(fields.root, "inputSize", 1, ArtifactMetadata.MAX_INPUT_SIZE);
        ResizeMethod resizeMethod = fields.choice(fields.root, "resizeMethod", ResizeMethod.class);
        PadMode padMode = fields.choice(fields.root, "padMode", PadMode.class);
        JsonObject normalizationJson = fields.object(fields.root, "normalization");
        float[] mean = fields.floats(normalizationJson, "normalization.mean", "mean");
        float[] std = fields.floats(normalizationJson, "normalization.std", "std");
        Normalization normalization;
        try {
            normalization = new Normalization(mean, std);
        } catch (IllegalArgumentException e) {
            throw bad(file + " has an invalid \"normalization\" (" + e.getMessage() + "); export the model again", e);
        }
        boolean tfSamePadding = fields.bool(fields.root, "tfSamePadding");
        JsonObject headJson = fields.object(fields.root, "head");
        List<Integer> hidden = new ArrayList<>();
        for (JsonElement e : fields.array(headJson, "head.hidden", "hidden")) {
            hidden.add(fields.integerValue(e, "head.hidden", 1, Integer.MAX_VALUE));
        }
        List<Float> dropouts = new ArrayList<>();
        for (float f : fields.floats(headJson, "head.dropouts", "dropouts")) {
            dropouts.add(f);
        }
        HeadSpec head;
        try {
            head = new HeadSpec(hidden, dropouts);
        } catch (TunaException e) {
            throw bad(file + " has an invalid \"head\": " + e.getMessage() + " Export the model again.", e);
        }
        String weightsFile = withWeights ? fields.string(fields.root, "weightsFile") : "";
        if (withWeights && (weightsFile.isEmpty() || weightsFile.contains("/") || weightsFile.contains("\\")
                || weightsFile.equals(".") || weightsFile.equals("..")
                || weightsFile.chars().anyMatch(Character::isISOControl))) {
            throw bad(file + " names the weights file \"" + printable(weightsFile) + "\"; expected a plain file name"
                    + " inside the model folder, such as \"" + ModelArtifact.WEIGHTS_FILE + "\"; export the model again");
        }
        long weightsBytes = withWeights ? fields.longValue(fields.root, "weightsBytes", 0, Long.MAX_VALUE) : 0;
        String sha = withWeights ? fields.string(fields.root, "weightsSha256") : "";
        if (withWeights && !sha.matches("[0-9a-f]{64}")) {
            throw bad(file + " has \"weightsSha256\": \"" + sha + "\"; expected 64 lowercase hex digits (a SHA-256);"
                    + " export the model again");
        }
        JsonObject versionsJson = fields.object(fields.root, "libraryVersions");
        LibraryVersions versions = new LibraryVersions(fields.string(versionsJson, "libraryVersions.tuna", "tuna"),
                fields.string(versionsJson, "libraryVersions.djl", "djl"),
                fields.string(versionsJson, "libraryVersions.pytorch", "pytorch"));
        long seed = fields.longValue(fields.root, "seed", Long.MIN_VALUE, Long.MAX_VALUE);
        String createdText = fields.string(fields.root, "createdAt");
        Instant createdAt;
        try {
            createdAt = Instant.parse(createdText);
        } catch (DateTimeParseException e) {
            throw bad(file + " has \"createdAt\": \"" + createdText + "\"; expected an ISO-8601 time such as"
                    + " 2025-01-31T12:00:00Z; export the model again", e);
        }
        JsonElement training = fields.root.has("training") ? fields.root.get("training") : JsonNull.INSTANCE;
        ArtifactMetadata metadata;
        try {
            metadata = new ArtifactMetadata(architecture, classes, inputSize, resizeMethod, padMode, normalization,
                    tfSamePadding, head, seed, versions, createdAt, training);
        } catch (TunaException e) {
            throw bad(file + " is inconsistent: " + e.getMessage() + " Export the model again.", e);
        }
        return new Parsed(version, metadata, weightsFile, weightsBytes, sha);
    }

    static TunaException bad(String message) {
        return new TunaException(TunaException.Kind.BAD_MODEL_FILE, message);
    }

    static TunaException bad(String message, Throwable cause) {
        return new TunaException(TunaException.Kind.BAD_MODEL_FILE, message, cause);
    }

    /** The text with control characters (NUL, line breaks...) written as {@code \\uXXXX}, for messages. */
    private static String printable(String text) {
        StringBuilder out = new StringBuilder();
        text.chars().forEach(c -> out.append(Character.isISOControl(c) ? String.format(Locale.ROOT, "\\u%04x", c)
                : String.valueOf((char) c)));
        return out.toString();
    }

    private static String firstLine(Exception e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        String message = String.valueOf(cause.getMessage());
        int newline = message.indexOf('\n');
        return newline >= 0 ? message.substring(0, newline) : message;
    }

    private static String describe(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return "null";
        }
        if (e.isJsonArray()) {
            return "a list";
        }
        if (e.isJsonObject()) {
            return "an object";
        }
        JsonPrimitive p = e.getAsJsonPrimitive();
        String text = p.toString();
        if (text.length() > 40) {
            text = text.substring(0, 40) + "...";
        }
        return (p.isString() ? "the text " : p.isBoolean() ? "the boolean " : "the number ") + text;
    }

    /** Typed access to fields, with messages naming the file, the field and what was expected. */
    private static final class Fields {
        private final Path file;
        private final JsonObject root;

        Fields(Path file, JsonObject root) {
            this.file = file;
            this.root = root;
        }

        private JsonElement get(JsonObject object, String path, String key, String expected) {
            JsonElement value = object.get(key);
            if (value == null || value.isJsonNull()) {
                throw bad(file + " lacks the field \"" + path + "\" (" + expected + "); the file is incomplete or"
                        + " damaged: export the model again");
            }
            return value;
        }

        private TunaException wrong(String path, String expected, JsonElement found) {
            return bad(file + " has an invalid \"" + path + "\": expected " + expected + ", found " + describe(found)
                    + "; export the model again");
        }

        String string(JsonObject object, String key) {
            return string(object, key, key);
        }

        String string(JsonObject object, String path, String key) {
            JsonElement value = get(object, path, key, "a text");
            if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isString()) {
                throw wrong(path, "a text", value);
            }
            return value.getAsString();
        }

        boolean bool(JsonObject object, String key) {
            JsonElement value = get(object, key, key, "true or false");
            if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isBoolean()) {
                throw wrong(key, "true or false", value);
            }
            return value.getAsBoolean();
        }

        int integer(JsonObject object, String key, int min, int max) {
            return (int) longValue(object, key, min, max);
        }

        long longValue(JsonObject object, String key, long min, long max) {
            return wholeNumber(get(object, key, key, range(min, max)), key, min, max);
        }

        int integerValue(JsonElement value, String path, int min, int max) {
            return (int) wholeNumber(value, path, min, max);
        }

        private static String range(long min, long max) {
            if (min == Long.MIN_VALUE) {
                return "a whole number";
            }
            if (max == Integer.MAX_VALUE || max == Long.MAX_VALUE) {
                return "a whole number of at least " + min;
            }
            return "a whole number from " + min + " to " + max;
        }

        private long wholeNumber(JsonElement value, String path, long min, long max) {
            String expected = range(min, max);
            if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isNumber()) {
                throw wrong(path, expected, value);
            }
            long number;
            try {
                number = new BigDecimal(value.getAsString()).longValueExact();
            } catch (ArithmeticException | NumberFormatException e) {
                throw wrong(path, expected, value);
            }
            if (number < min || number > max) {
                throw wrong(path, expected, value);
            }
            return number;
        }

        JsonObject object(JsonObject object, String key) {
            JsonElement value = get(object, key, key, "an object");
            if (!value.isJsonObject()) {
                throw wrong(key, "an object", value);
            }
            return value.getAsJsonObject();
        }

        JsonArray array(JsonObject object, String path, String key) {
            JsonElement value = get(object, path, key, "a list");
            if (!value.isJsonArray()) {
                throw wrong(path, "a list", value);
            }
            return value.getAsJsonArray();
        }

        List<String> strings(JsonObject object, String key) {
            List<String> out = new ArrayList<>();
            for (JsonElement e : array(object, key, key)) {
                if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                    throw wrong(key, "a list of texts", e);
                }
                out.add(e.getAsString());
            }
            return out;
        }

        float[] floats(JsonObject object, String path, String key) {
            JsonArray array = array(object, path, key);
            float[] out = new float[array.size()];
            for (int i = 0; i < out.length; i++) {
                JsonElement e = array.get(i);
                if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
                    throw wrong(path, "a list of numbers", e);
                }
                try {
                    out[i] = Float.parseFloat(e.getAsString());
                } catch (NumberFormatException ex) {
                    throw wrong(path, "a list of numbers", e);
                }
            }
            return out;
        }

        <E extends Enum<E>> E choice(JsonObject object, String key, Class<E> type) {
            String expected = "one of " + Arrays.stream(type.getEnumConstants())
                    .map(c -> "\"" + c.name().toLowerCase(Locale.ROOT) + "\"").collect(Collectors.joining(", "));
            String text = string(object, key);
            for (E constant : type.getEnumConstants()) {
                if (constant.name().equalsIgnoreCase(text.trim())) {
                    return constant;
                }
            }
            throw wrong(key, expected, new JsonPrimitive(text));
        }
    }
}
