package dev.tuna.inference;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.tuna.TunaException;
import dev.tuna.internal.io.AtomicFiles;
import dev.tuna.internal.nn.OnnxGraph;
import dev.tuna.model.Network;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Writes a trained model as an ONNX file (opset {@value OnnxGraph#OPSET}) that ONNX Runtime, or any ONNX
 * consumer, runs without libtorch or Tuna; {@link Classifier#load(Path)} loads it back on ONNX Runtime.
 *
 * <pre>{@code
 * OnnxExport.write(ModelArtifact.read(Path.of("flowers.tuna")), Path.of("flowers.onnx"));
 * try (Classifier onnx = Classifier.load(Path.of("flowers.onnx"))) { ... }   // same predictions
 * }</pre>
 *
 * <p><b>The graph.</b> Input {@value #INPUT}: float {@code [batch, 3, size, size]} (NCHW, RGB), the batch
 * dimension symbolic. Outputs {@value #PROBABILITIES} (softmax over the classes, as {@link Classifier}
 * returns) and {@value #LOGITS}, both {@code [batch, classes]}. Inference semantics: batch norms folded
 * into the convolution before them (the head's into its linear layers), no dropout or stochastic depth.
 *
 * <p><b>What a consumer needs</b> is in the model's {@code metadata_props}: {@value #CLASSES} (a JSON list,
 * output order), {@value #INPUT_SIZE}, {@value #RESIZE_METHOD} and {@value #PAD_MODE} (how an image of any
 * shape became the square, see {@link dev.tuna.transform.ResizeMethod}), {@value #MEAN} and {@value #STD}
 * (JSON lists, RGB), {@value #INPUT_LAYOUT} and {@value #VALUE_RANGE} (in words), {@value #ARCHITECTURE},
 * and {@value #TUNA_MODEL}, the complete model description ({@code model.json} without its weight
 * fields) that Tuna reads back.
 */
public final class OnnxExport {
    /** The graph's input. */
    public static final String INPUT = "input";
    /** The output with the class probabilities. */
    public static final String PROBABILITIES = "probabilities";
    /** The output with the logits. */
    public static final String LOGITS = "logits";
    /** Metadata: the class names, a JSON list in output order. */
    public static final String CLASSES = "classes";
    /** Metadata: the side of the square input in pixels. */
    public static final String INPUT_SIZE = "input_size";
    /** Metadata: {@code squish}, {@code crop} or {@code pad}. */
    public static final String RESIZE_METHOD = "resize_method";
    /** Metadata: how {@code pad} fills borders. */
    public static final String PAD_MODE = "pad_mode";
    /** Metadata: the per-channel mean subtracted from {@code pixel / 255}, a JSON list (R, G, B). */
    public static final String MEAN = "mean";
    /** Metadata: the per-channel standard deviation divided by, a JSON list (R, G, B). */
    public static final String STD = "std";
    /** Metadata: the input layout, in words. */
    public static final String INPUT_LAYOUT = "input_layout";
    /** Metadata: how a pixel becomes an input value, in words. */
    public static final String VALUE_RANGE = "value_range";
    /** Metadata: the architecture's identifier, e.g. {@code resnet18}. */
    public static final String ARCHITECTURE = "architecture";
    /** Metadata: Tuna's complete model description (JSON). */
    public static final String TUNA_MODEL = "tuna.model";

    private static final String WHAT_IT_IS = "an ONNX model exported by Tuna (tuna export <model> --onnx <file>)";

    private OnnxExport() {
    }

    /**
     * Exports a model folder, refusing to replace an existing file.
     *
     * @param artifact the model, as {@link ModelArtifact#read} returns it
     * @param file the {@code .onnx} file to write (its folder must exist)
     * @throws TunaException ({@link TunaException.Kind#USAGE}) when the file exists or its folder does not;
     *     ({@link TunaException.Kind#BAD_MODEL_FILE}) when the weights do not fit or a layer cannot be exported
     */
    public static void write(ModelArtifact artifact, Path file) {
        write(artifact, file, false);
    }

    /**
     * Exports a model folder.
     *
     * @param artifact the model
     * @param file the {@code .onnx} file to write (its folder must exist)
     * @param overwrite whether an existing file may be replaced (atomically)
     * @throws TunaException as {@link #write(ModelArtifact, Path)}
     */
    public static void write(ModelArtifact artifact, Path file, boolean overwrite) {
        Objects.requireNonNull(artifact, "artifact");
        checkTarget(file, overwrite);
        try (Classifier classifier = Classifier.load(artifact.directory(),
                ClassifierOptions.DEFAULTS.withRuntime(ModelRuntime.LIBTORCH))) {
            write(classifier, file, overwrite);
        }
    }

    /**
     * Exports the network of a classifier that runs on libtorch (loaded from a model folder, or a
     * {@link Classifier#view} of a learner's network), refusing to replace an existing file.
     *
     * @param classifier the classifier
     * @param file the {@code .onnx} file to write (its folder must exist)
     * @throws TunaException as {@link #write(ModelArtifact, Path)}; ({@link TunaException.Kind#USAGE}) for a
     *     classifier that already runs an ONNX model
     */
    public static void write(Classifier classifier, Path file) {
        write(classifier, file, false);
    }

    /**
     * Exports the network of a classifier that runs on libtorch.
     *
     * @param classifier the classifier
     * @param file the {@code .onnx} file to write (its folder must exist)
     * @param overwrite whether an existing file may be replaced (atomically)
     * @throws TunaException as {@link #write(Classifier, Path)}
     */
    public static void write(Classifier classifier, Path file, boolean overwrite) {
        Objects.requireNonNull(classifier, "classifier");
        checkTarget(file, overwrite);
        Network network = classifier.network().orElseThrow(() -> TunaException.usage("This classifier already"
                + " runs an ONNX model on ONNX Runtime; there is nothing to export: copy its .onnx file instead."));
        byte[] bytes = toBytes(network, classifier.metadata());
        AtomicFiles.writeAtomically(file, channel -> AtomicFiles.writeFully(channel, ByteBuffer.wrap(bytes)));
    }

    private static void checkTarget(Path file, boolean overwrite) {
        Objects.requireNonNull(file, "file");
        if (Files.isDirectory(file)) {
            throw TunaException.usage(file + " is a folder; pass the path of the .onnx file to write, e.g. "
                    + file.resolve("model.onnx") + ".");
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw TunaException.usage("Cannot write " + file + ": its folder " + parent + " does not exist; create"
                    + " it first.");
        }
        if (!overwrite && Files.exists(file)) {
            throw TunaException.usage(file + " already exists; pass --force (or overwrite = true) to replace it,"
                    + " or choose another file.");
        }
    }

    /**
     * The ONNX model of a network, serialised.
     *
     * @param network the network (body and fast.ai head, as the metadata describes)
     * @param metadata what the model records
     * @return the bytes of the {@code .onnx} file
     */
    static byte[] toBytes(Network network, ArtifactMetadata metadata) {
        if (network.classes() != metadata.classes().size()) {
            throw new IllegalArgumentException("the network has " + network.classes() + " outputs, the metadata "
                    + metadata.classes().size() + " classes");
        }
        OnnxGraph.Lowered lowered = OnnxGraph.lower(network.block(), network.parameters(), INPUT,
                metadata.inputSize());
        long[] outputShape = {-1, lowered.classes()};
        GraphProto.Builder graph = lowered.graph();
        graph.addNode(NodeProto.newBuilder().setOpType("Identity").setName(LOGITS).addInput(lowered.logits())
                .addOutput(LOGITS));
        graph.addNode(NodeProto.newBuilder().setOpType("Softmax").setName(PROBABILITIES).addInput(LOGITS)
                .addOutput(PROBABILITIES).addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder()
                        .setName("axis").setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INT).setI(1)));
        graph.addOutput(OnnxGraph.valueInfo(PROBABILITIES, outputShape));
        graph.addOutput(OnnxGraph.valueInfo(LOGITS, outputShape));
        ModelProto.Builder model = ModelProto.newBuilder()
                .setIrVersion(8) // the IR version of opset 17
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OnnxGraph.OPSET))
                .setProducerName("tuna").setProducerVersion(metadata.libraryVersions().tuna())
                .setModelVersion(1)
                .setDocString(metadata.architecture().id() + " image classifier for " + metadata.classes().size()
                        + " classes, exported by Tuna; preprocessing in metadata_props")
                .setGraph(graph);
        properties(metadata).forEach((key, value) -> model.addMetadataProps(
                StringStringEntryProto.newBuilder().setKey(key).setValue(value)));
        return model.build().toByteArray();
    }

    /**
     * The {@code metadata_props} of an export.
     *
     * @param metadata the model's description
     * @return key to value, in a fixed order
     */
    static Map<String, String> properties(ArtifactMetadata metadata) {
        Map<String, String> props = new LinkedHashMap<>();
        JsonArray classes = new JsonArray();
        metadata.classes().forEach(classes::add);
        props.put(CLASSES, classes.toString());
        props.put(INPUT_SIZE, Integer.toString(metadata.inputSize()));
        props.put(RESIZE_METHOD, metadata.resizeMethod().name().toLowerCase(Locale.ROOT));
        props.put(PAD_MODE, metadata.padMode().name().toLowerCase(Locale.ROOT));
        props.put(MEAN, floats(metadata.normalization().mean()));
        props.put(STD, floats(metadata.normalization().std()));
        props.put(INPUT_LAYOUT, "NCHW float32 [batch, 3, " + metadata.inputSize() + ", " + metadata.inputSize()
                + "], channels R, G, B");
        props.put(VALUE_RANGE, "(pixel / 255 - mean) / std per channel, pixel an 8-bit sRGB value 0-255");
        props.put(ARCHITECTURE, metadata.architecture().id());
        props.put(TUNA_MODEL, ArtifactJson.encodeMetadata(metadata));
        return props;
    }

    private static String floats(float[] values) {
        JsonArray array = new JsonArray();
        for (float v : values) {
            array.add(v);
        }
        return array.toString();
    }

    /**
     * Reads a model's description back from its {@code metadata_props}, checking that the keys a consumer
     * reads agree with the full description.
     *
     * @param file the ONNX file, for messages
     * @param props its metadata
     * @return the description
     * @throws TunaException ({@link TunaException.Kind#BAD_MODEL_FILE}) when the metadata is missing or
     *     inconsistent
     */
    static ArtifactMetadata readProperties(Path file, Map<String, String> props) {
        String json = props.get(TUNA_MODEL);
        if (json == null) {
            throw ArtifactJson.bad(file + " is an ONNX model without Tuna's metadata (no \"" + TUNA_MODEL
                    + "\" in its metadata_props), so its classes, input size and normalisation are unknown;"
                    + " expected " + WHAT_IT_IS + ".");
        }
        ArtifactMetadata metadata = ArtifactJson.decodeMetadata(file, json);
        Map<String, String> expected = properties(metadata);
        List<String> differ = new ArrayList<>();
        for (String key : List.of(CLASSES, INPUT_SIZE, RESIZE_METHOD, PAD_MODE, MEAN, STD)) {
            if (!sameValue(props.get(key), expected.get(key))) {
                differ.add(key + " = " + props.get(key) + " (the description says " + expected.get(key) + ")");
            }
        }
        if (!differ.isEmpty()) {
            throw ArtifactJson.bad(file + " has metadata_props that disagree with its own model description: "
                    + String.join("; ", differ) + "; the file was edited: export the model again.");
        }
        return metadata;
    }

    /** Equal as JSON values (so that {@code [0.5]} and {@code [0.50]} agree), or as strings. */
    private static boolean sameValue(String found, String expected) {
        if (found == null) {
            return false;
        }
        try {
            JsonElement a = JsonParser.parseString(found);
            JsonElement b = JsonParser.parseString(expected);
            if (a.isJsonArray() && b.isJsonArray() && a.getAsJsonArray().size() == b.getAsJsonArray().size()) {
                return a.equals(b) || numbers(a).equals(numbers(b));
            }
        } catch (JsonParseException | IllegalStateException | NumberFormatException e) {
            // not JSON: compare as text
        }
        return found.equals(expected);
    }

    private static List<Double> numbers(JsonElement array) {
        List<Double> out = new ArrayList<>();
        for (JsonElement e : array.getAsJsonArray()) {
            out.add(e.getAsDouble());
        }
        return out;
    }

    /** For messages: the shape of a value, e.g. {@code [batch, 3, 224, 224]}. */
    static String shape(long[] dims) {
        return Arrays.toString(Arrays.stream(dims).mapToObj(d -> d < 0 ? "batch" : Long.toString(d)).toArray());
    }
}
