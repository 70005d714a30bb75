package dev.tuna.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.tuna.TunaException;
import dev.tuna.internal.io.AtomicFiles;
import dev.tuna.model.Network;
import dev.tuna.model.weights.SafetensorsWriter;
import dev.tuna.model.weights.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * A trained model on disk: a folder holding {@code model.json} (a versioned description, see
 * {@link ArtifactMetadata}) and {@code weights.safetensors} (every parameter and batch-norm running
 * statistic, by torchvision name, as float32).
 *
 * <p>{@code model.json} records the format ({@value #FORMAT}) and its version ({@value
 * #FORMAT_VERSION}), the architecture, the classes, the input pipeline (size, resize method, pad mode,
 * normalisation), the head, the weights file with its size and SHA-256, the library versions, the
 * seed, the creation time and the trainer's opaque training record. Reading checks all of it,
 * including the weights' checksum. No Java serialization is involved.
 *
 * <pre>{@code
 * ModelArtifact.write(Path.of("pets-model"), network, metadata, false);
 * ModelArtifact artifact = ModelArtifact.read(Path.of("pets-model"));
 * List<String> classes = artifact.metadata().classes();
 * }</pre>
 *
 * @param directory the model folder
 * @param formatVersion the version of the format the folder was written in
 * @param metadata what {@code model.json} says about the model
 * @param weightsFile the weights file inside the folder
 * @param weightsBytes the size of the weights file
 * @param weightsSha256 the SHA-256 of the weights file, lowercase hex
 */
public record ModelArtifact(Path directory, int formatVersion, ArtifactMetadata metadata, Path weightsFile,
        long weightsBytes, String weightsSha256) {
    /** The value of {@code format} in {@code model.json}. */
    public static final String FORMAT = "tuna-model";
    /** The format version this Tuna writes, and the newest it reads. */
    public static final int FORMAT_VERSION = 1;
    /** The name of the description file. */
    public static final String MODEL_JSON = "model.json";
    /** The name of the weights file this Tuna writes. */
    public static final String WEIGHTS_FILE = "weights.safetensors";

    private static final String WHAT_IT_IS = "a Tuna model is a folder with " + MODEL_JSON + " and "
            + WEIGHTS_FILE;

    /**
     * Checks that nothing is null.
     *
     * @param directory the model folder
     * @param formatVersion the format version of the folder
     * @param metadata the description
     * @param weightsFile the weights file
     * @param weightsBytes its size
     * @param weightsSha256 its SHA-256, lowercase hex
     */
    public ModelArtifact {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(weightsFile, "weightsFile");
        Objects.requireNonNull(weightsSha256, "weightsSha256");
    }

    /**
     * Writes a network and its description as a model folder, atomically: everything goes into a
     * hidden sibling folder first, which is renamed into place only once complete. An existing
     * folder is replaced only with {@code overwrite}, and only after the new one is complete; even
     * then only an empty folder or an earlier Tuna model is replaced, never another folder.
     *
     * @param directory the model folder to create
     * @param network the trained network: a {@link Network#transfer transfer} network matching the
     *     metadata's architecture, classes and head
     * @param metadata the description
     * @param overwrite whether to replace an existing model at {@code directory}
     * @return the artifact as written
     * @throws TunaException ({@link TunaException.Kind#USAGE}) when {@code directory} exists and
     *     {@code overwrite} is false (nothing is touched), when it is something other than a Tuna model,
     *     or when the network does not match the metadata; ({@link TunaException.Kind#RUNTIME}) when
     *     writing fails (nothing is left behind)
     */
    public static ModelArtifact write(Path directory, Network network, ArtifactMetadata metadata, boolean overwrite) {
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(metadata, "metadata");
        Path target = directory.toAbsolutePath().normalize();
        checkTarget(directory, target, overwrite);
        checkNetwork(network, metadata);
        List<Tensor> tensors = new ArrayList<>();
        for (Map.Entry<String, Parameter> entry : network.parameters().entrySet()) {
            NDArray array = entry.getValue().getArray();
            tensors.add(Tensor.ofFloats(entry.getKey(), array.getShape().getShape(), array.toFloatArray()));
        }
        Path staging = null;
        try {
            Files.createDirectories(target.getParent());
            staging = AtomicFiles.temporarySibling(target, "tmp");
            Files.createDirectory(staging);
            Path weights = staging.resolve(WEIGHTS_FILE);
            SafetensorsWriter.write(weights, tensors, Map.of("format", "pt", "producer", "tuna"));
            long size = Files.size(weights);
            String sha = dev.tuna.internal.io.Digests.sha256Hex(weights);
            String json = ArtifactJson.encode(metadata, WEIGHTS_FILE, size, sha);
            AtomicFiles.writeNew(staging.resolve(MODEL_JSON), json.getBytes(StandardCharsets.UTF_8));
            install(directory, staging, target, overwrite);
            staging = null;
            return new ModelArtifact(target, FORMAT_VERSION, metadata, target.resolve(WEIGHTS_FILE), size, sha);
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "Cannot write the model to " + directory + " (" + e
                    + "); check that the folder is writable and the disk has free space.", e);
        } finally {
            AtomicFiles.deleteQuietly(staging);
        }
    }

    private static void checkTarget(Path given, Path target, boolean overwrite) {
        if (target.getParent() == null) {
            throw TunaException.usage("Cannot write a model to " + given + ": expected a folder path with a parent,"
                    + " found the root; choose a folder such as ./my-model.");
        }
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!overwrite) {
            throw TunaException.usage(given + " already exists; choose another path or pass --force"
                    + " (overwrite) to replace it.");
        }
        if (!isReplaceable(target)) {
            throw TunaException.usage(given + " already exists and is not a Tuna model (expected a folder with "
                    + MODEL_JSON + ", or an empty folder); Tuna does not replace it even with --force. Choose"
                    + " another path, or move it away yourself.");
        }
    }

    /** Only an empty folder or a folder with model.json is replaced. */
    private static boolean isReplaceable(Path target) {
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        if (Files.isRegularFile(target.resolve(MODEL_JSON), LinkOption.NOFOLLOW_LINKS)) {
            return true;
        }
        try (Stream<Path> children = Files.list(target)) {
            return children.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private static void checkNetwork(Network network, ArtifactMetadata metadata) {
        if (!network.isTransfer()) {
            throw TunaException.usage("Only a fine-tuned network (a pretrained body with Tuna's head, built by"
                    + " Network.transfer) can be saved as a model; found torchvision's complete classifier.");
        }
        if (network.architecture() != metadata.architecture()) {
            throw TunaException.usage("The metadata says " + metadata.architecture().id() + " but the network is "
                    + network.architecture().id() + "; describe the network that is saved.");
        }
        if (network.classes() != metadata.classes().size()) {
            throw TunaException.usage("The network has " + network.classes() + " outputs but the metadata lists "
                    + metadata.classes().size() + " classes " + metadata.classes() + "; they must match.");
        }
        List<Integer> hidden = new ArrayList<>();
        for (int i = 0; network.parameters().containsKey("head.fc" + (i + 1) + ".weight"); i++) {
            hidden.add((int) network.parameters().get("head.fc" + i + ".weight").getArray().getShape().get(0));
        }
        if (!hidden.equals(metadata.head().hidden())) {
            throw TunaException.usage("The network's head has hidden layers " + hidden + " but the metadata says "
                    + metadata.head().hidden() + "; describe the head that was built.");
        }
    }

    /** Moves the complete staging folder to the target, replacing an old model only now. */
    private static void install(Path given, Path staging, Path target, boolean overwrite) throws IOException {
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            try {
                AtomicFiles.moveNew(staging, target);
                return;
            } catch (FileAlreadyExistsException e) {
                if (!overwrite) {
                    throw TunaException.usage(given + " already exists; choose another path or pass --force"
                            + " (overwrite) to replace it.");
                }
                // created meanwhile: replace it below, with the same checks
            }
        }
        if (!isReplaceable(target)) {
            throw TunaException.usage(given + " already exists and is not a Tuna model (expected a folder with "
                    + MODEL_JSON + ", or an empty folder); Tuna does not replace it even with --force. Choose"
                    + " another path, or move it away yourself.");
        }
        Path old = AtomicFiles.temporarySibling(target, "old");
        AtomicFiles.moveNew(target, old);
        try {
            AtomicFiles.moveNew(staging, target);
        } catch (IOException | RuntimeException e) {
            try {
                AtomicFiles.moveNew(old, target);
            } catch (IOException restore) {
                e.addSuppressed(restore);
            }
            throw e;
        }
        AtomicFiles.deleteQuietly(old);
    }

    /**
     * Reads and checks a model folder: {@code model.json} must be a Tuna model description of a
     * version this Tuna reads, with every field present and valid, and the weights file must exist
     * with the recorded size and checksum. The weights themselves are not loaded.
     *
     * @param directory the model folder
     * @return the artifact
     * @throws TunaException ({@link TunaException.Kind#BAD_MODEL_FILE}) saying what is missing,
     *     damaged or too new, and how to fix it
     */
    public static ModelArtifact read(Path directory) {
        Objects.requireNonNull(directory, "directory");
        if (!Files.exists(directory)) {
            throw ArtifactJson.bad("No model at " + directory + ": the path does not exist; " + WHAT_IT_IS
                    + " (written by Tuna's export); check the path.");
        }
        if (!Files.isDirectory(directory)) {
            String hint = directory.getFileName() != null && directory.getFileName().toString().equals(MODEL_JSON)
                    ? "pass the folder that holds it: " + directory.toAbsolutePath().getParent()
                    : "pass the model folder, not a file";
            throw ArtifactJson.bad(directory + " is a file, but " + WHAT_IT_IS + "; " + hint + ".");
        }
        Path json = directory.resolve(MODEL_JSON);
        if (!Files.isRegularFile(json)) {
            throw ArtifactJson.bad(directory + " has no " + MODEL_JSON + ": " + WHAT_IT_IS + "; pass a folder"
                    + " written by Tuna's export, or copy the whole folder again.");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(json))).toString();
        } catch (CharacterCodingException e) {
            throw ArtifactJson.bad(json + " is not UTF-8 text (it should be JSON); the file is damaged: export the"
                    + " model again.", e);
        } catch (IOException e) {
            throw ArtifactJson.bad("Cannot read " + json + " (" + e + "); check that it is readable.", e);
        }
        ArtifactJson.Parsed parsed = ArtifactJson.decode(json, text);
        Path weights;
        try {
            weights = directory.resolve(parsed.weightsFile());
        } catch (InvalidPathException e) { // a name that is not a file name on this system
            throw ArtifactJson.bad(json + " names the weights file \"" + parsed.weightsFile() + "\", which is not a"
                    + " valid file name here (" + e.getReason() + "); export the model again.", e);
        }
        checkWeights(weights, parsed);
        return new ModelArtifact(directory, parsed.formatVersion(), parsed.metadata(), weights,
                parsed.weightsBytes(), parsed.weightsSha256());
    }

    private static void checkWeights(Path weights, ArtifactJson.Parsed parsed) {
        if (!Files.isRegularFile(weights)) {
            throw ArtifactJson.bad("The weights file " + weights + " is missing: " + WHAT_IT_IS + "; copy the whole"
                    + " model folder again, or export the model again.");
        }
        long size;
        String sha;
        try {
            size = Files.size(weights);
            sha = size == parsed.weightsBytes() ? dev.tuna.internal.io.Digests.sha256Hex(weights) : null;
        } catch (IOException e) {
            throw ArtifactJson.bad("Cannot read the weights file " + weights + " (" + e + "); check that it is"
                    + " readable.", e);
        }
        if (size < parsed.weightsBytes()) {
            throw ArtifactJson.bad("The weights file " + weights + " is truncated: it has " + size + " bytes, but "
                    + MODEL_JSON + " records " + parsed.weightsBytes() + "; the copy or download was cut short:"
                    + " copy the whole model folder again.");
        }
        if (size > parsed.weightsBytes()) {
            throw ArtifactJson.bad("The weights file " + weights + " has " + size + " bytes, but " + MODEL_JSON
                    + " records " + parsed.weightsBytes() + "; it was changed or replaced after export: copy the"
                    + " whole model folder again, or export the model again.");
        }
        if (!sha.equals(parsed.weightsSha256())) {
            throw ArtifactJson.bad("The weights file " + weights + " does not match its checksum: SHA-256 " + sha
                    + ", but " + MODEL_JSON + " records " + parsed.weightsSha256() + "; the file is damaged or was"
                    + " modified: copy the whole model folder again, or export the model again.");
        }
    }
}
