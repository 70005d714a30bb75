package dev.tuna.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuna.TunaException;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.model.LoadMode;
import dev.tuna.model.Network;
import dev.tuna.model.weights.WeightFiles;
import dev.tuna.transform.Normalization;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.ResizeMethod;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelArtifactTest {
    private static final List<String> CLASSES = List.of("cat", "dog", "fish");

    private static NDManager manager;
    private static Network network;
    private static ArtifactMetadata meta;
    /** One artifact written once; tests that damage it work on a copy. */
    private static Path written;

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    @BeforeAll
    static void writeOnce() {
        manager = NDManager.newBaseManager();
        network = Network.transfer(Architecture.MOBILENET_V2, HeadSpec.DEFAULT, 3, false, manager, 7);
        meta = metadata(7, trainingRecord());
        written = shared.resolve("model");
        ModelArtifact.write(written, network, meta, false);
    }

    @AfterAll
    static void close() {
        network.close();
        manager.close();
    }

    private static ArtifactMetadata metadata(long seed, JsonElement training) {
        return new ArtifactMetadata(Architecture.MOBILENET_V2, CLASSES, 48, ResizeMethod.CROP, PadMode.ZEROS,
                Normalization.MINUS_ONE_TO_ONE, false, HeadSpec.DEFAULT, seed,
                new LibraryVersions("1.2.3", "0.36.0", "2.7.1"), Instant.parse("2025-03-04T05:06:07.123456Z"),
                training);
    }

    private static JsonObject trainingRecord() {
        JsonObject training = new JsonObject();
        JsonArray history = new JsonArray();
        for (int epoch = 0; epoch < 2; epoch++) {
            JsonObject row = new JsonObject();
            row.addProperty("epoch", epoch);
            row.addProperty("trainLoss", 0.5 / (epoch + 1));
            row.addProperty("errorRate", 0.125f);
            history.add(row);
        }
        training.add("history", history);
        training.addProperty("baseLr", 2e-3);
        training.addProperty("note", "<fine> & \"tuned\"");
        return training;
    }

    private Path copy() throws IOException {
        Path target = dir.resolve("copy");
        Files.createDirectories(target);
        try (Stream<Path> files = Files.list(written)) {
            for (Path file : files.toList()) {
                Files.copy(file, target.resolve(file.getFileName()));
            }
        }
        return target;
    }

    private static void editJson(Path model, Consumer<JsonObject> edit) throws IOException {
        Path json = model.resolve("model.json");
        JsonObject root = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        edit.accept(root);
        Files.writeString(json, root.toString());
    }

    private static void assertBadModel(ThrowingCallable call, String... fragments) {
        assertThatThrownBy(call)
                .isInstanceOfSatisfying(TunaException.class,
                        e -> assertThat(e.kind()).isEqualTo(TunaException.Kind.BAD_MODEL_FILE))
                .message().contains(fragments);
    }

    private static List<String> siblings(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writeThenReadGivesTheSameMetadataAndWeights() {
        ModelArtifact read = ModelArtifact.read(written);

        assertThat(read.metadata()).isEqualTo(meta);
        assertThat(read.metadata().training()).isEqualTo(trainingRecord());
        assertThat(read.formatVersion()).isEqualTo(1);
        assertThat(read.weightsFile()).isEqualTo(written.resolve("weights.safetensors"));
        try (Network fresh = Network.transfer(Architecture.MOBILENET_V2, HeadSpec.DEFAULT, 3, false, manager, 99)) {
            fresh.load(WeightFiles.read(read.weightsFile()), LoadMode.STRICT);
            for (Map.Entry<String, Parameter> e : network.parameters().entrySet()) {
                assertThat(Arrays.equals(fresh.parameters().get(e.getKey()).getArray().toFloatArray(),
                        e.getValue().getArray().toFloatArray())).as(e.getKey()).isTrue();
            }
            assertThat(fresh.parameters().keySet()).contains("features.1.conv.0.1.running_mean",
                    "head.bn0.running_var", "head.fc1.weight");
        }
    }

    @Test
    void modelJsonIsPrettyPrintedWithTheDocumentedFields() throws IOException {
        String text = Files.readString(written.resolve("model.json"));
        JsonObject root = JsonParser.parseString(text).getAsJsonObject();

        assertThat(text).startsWith("{\n  \"format\": \"tuna-model\",\n  \"formatVersion\": 1,\n");
        assertThat(root.keySet()).containsExactly("format", "formatVersion", "architecture", "classes", "inputSize",
                "resizeMethod", "padMode", "normalization", "tfSamePadding", "head", "weightsFile", "weightsBytes",
                "weightsSha256", "libraryVersions", "seed", "createdAt", "training");
        assertThat(root.get("architecture").getAsString()).isEqualTo("mobilenet_v2");
        assertThat(root.get("classes").toString()).isEqualTo("[\"cat\",\"dog\",\"fish\"]");
        assertThat(root.get("resizeMethod").getAsString()).isEqualTo("crop");
        assertThat(root.get("padMode").getAsString()).isEqualTo("zeros");
        assertThat(root.get("normalization").toString()).isEqualTo("{\"mean\":[0.5,0.5,0.5],\"std\":[0.5,0.5,0.5]}");
        assertThat(root.get("head").toString()).isEqualTo("{\"hidden\":[512],\"dropouts\":[0.25,0.5]}");
        assertThat(root.get("weightsFile").getAsString()).isEqualTo("weights.safetensors");
        assertThat(root.get("weightsSha256").getAsString()).matches("[0-9a-f]{64}");
        assertThat(root.get("libraryVersions").toString())
                .isEqualTo("{\"tuna\":\"1.2.3\",\"djl\":\"0.36.0\",\"pytorch\":\"2.7.1\"}");
        assertThat(root.get("createdAt").getAsString()).isEqualTo("2025-03-04T05:06:07.123456Z");
        assertThat(text).contains("\"note\": \"<fine> & \\\"tuned\\\"\"");
    }

    @Test
    void ofRecordsTheCurrentLibraryVersionsAndTime() {
        Instant before = Instant.now();
        ArtifactMetadata now = ArtifactMetadata.of(Architecture.RESNET18, List.of("a", "b"), 64,
                ResizeMethod.SQUISH, PadMode.REFLECTION, Normalization.IMAGENET, false, HeadSpec.DEFAULT, 1, null);
        assertThat(now.createdAt()).isBetween(before, Instant.now());
        assertThat(now.libraryVersions().djl()).isEqualTo("0.36.0");
        assertThat(now.libraryVersions().pytorch()).isEqualTo("2.7.1");
        assertThat(now.training().isJsonNull()).isTrue();
    }

    @Test
    void refusesToOverwriteWithoutTheFlagAndTouchesNothing() throws IOException {
        Path target = dir.resolve("model");
        Files.createDirectories(target);
        Files.writeString(target.resolve("notes.txt"), "keep me");

        assertThatThrownBy(() -> ModelArtifact.write(target, network, meta, false))
                .isInstanceOfSatisfying(TunaException.class,
                        e -> assertThat(e.kind()).isEqualTo(TunaException.Kind.USAGE))
                .hasMessage(target + " already exists; choose another path or pass --force (overwrite) to replace it.");
        assertThat(siblings(target)).containsExactly("notes.txt");
        assertThat(Files.readString(target.resolve("notes.txt"))).isEqualTo("keep me");
        assertThat(siblings(dir)).containsExactly("model");
    }

    @Test
    void overwriteReplacesAnEarlierModelOnlyWithTheFlag() throws IOException {
        Path target = dir.resolve("model");
        ModelArtifact.write(target, network, meta, false);
        ArtifactMetadata second = metadata(8, null);

        ModelArtifact.write(target, network, second, true);

        assertThat(ModelArtifact.read(target).metadata()).isEqualTo(second);
        assertThat(siblings(dir)).containsExactly("model"); // no staging or backup folders left
        assertThat(siblings(target)).containsExactly("model.json", "weights.safetensors");
    }

    @Test
    void overwriteNeverReplacesAFolderThatIsNotAModel() throws IOException {
        Path target = dir.resolve("documents");
        Files.createDirectories(target);
        Files.writeString(target.resolve("thesis.tex"), "precious");

        assertThatThrownBy(() -> ModelArtifact.write(target, network, meta, true))
                .isInstanceOf(TunaException.class)
                .hasMessageContaining("already exists and is not a Tuna model")
                .hasMessageContaining("does not replace it even with --force");
        assertThat(Files.readString(target.resolve("thesis.tex"))).isEqualTo("precious");
    }

    @Test
    void refusesMetadataThatDoesNotDescribeTheNetwork() {
        ArtifactMetadata fourClasses = new ArtifactMetadata(Architecture.MOBILENET_V2, List.of("a", "b", "c", "d"),
                48, ResizeMethod.CROP, PadMode.ZEROS, Normalization.IMAGENET, false, HeadSpec.DEFAULT, 1,
                meta.libraryVersions(), meta.createdAt(), null);
        assertThatThrownBy(() -> ModelArtifact.write(dir.resolve("m"), network, fourClasses, false))
                .hasMessageContaining("The network has 3 outputs but the metadata lists 4 classes");
        ArtifactMetadata otherHead = new ArtifactMetadata(Architecture.MOBILENET_V2, CLASSES, 48, ResizeMethod.CROP,
                PadMode.ZEROS, Normalization.IMAGENET, false, new HeadSpec(List.of(256), List.of(0.1f, 0.2f)), 1,
                meta.libraryVersions(), meta.createdAt(), null);
        assertThatThrownBy(() -> ModelArtifact.write(dir.resolve("m"), network, otherHead, false))
                .hasMessageContaining("head has hidden layers [512] but the metadata says [256]");
        assertThat(dir.resolve("m")).doesNotExist();
    }

    @Test
    void metadataRejectsDuplicateClasses() {
        assertThatThrownBy(() -> new ArtifactMetadata(Architecture.RESNET18, List.of("a", "a"), 32,
                ResizeMethod.SQUISH, PadMode.ZEROS, Normalization.IMAGENET, false, HeadSpec.DEFAULT, 1,
                meta.libraryVersions(), meta.createdAt(), null))
                .hasMessageContaining("Class names must be unique; 'a' appears twice");
    }

    @Test
    void aNewerFormatVersionAsksForANewerTuna() throws IOException {
        Path model = copy();
        editJson(model, root -> root.addProperty("formatVersion", 2));
        assertBadModel(() -> ModelArtifact.read(model),
                model + " was made by a newer Tuna (format 2, this Tuna reads up to 1); upgrade Tuna");
    }

    @Test
    void aTruncatedWeightsFileIsReported() throws IOException {
        Path model = copy();
        Path weights = model.resolve("weights.safetensors");
        long size = Files.size(weights);
        try (RandomAccessFile file = new RandomAccessFile(weights.toFile(), "rw")) {
            file.setLength(size / 2);
        }
        assertBadModel(() -> ModelArtifact.read(model), "The weights file " + weights + " is truncated: it has "
                + size / 2 + " bytes, but model.json records " + size, "copy the whole model folder again");
    }

    @Test
    void aChangedWeightsFileFailsTheChecksum() throws IOException {
        Path model = copy();
        Path weights = model.resolve("weights.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        bytes[bytes.length - 3] ^= 1;
        Files.write(weights, bytes);
        assertBadModel(() -> ModelArtifact.read(model), "The weights file " + weights
                + " does not match its checksum", "the file is damaged or was modified");
    }

    @Test
    void aMissingWeightsFileIsReported() throws IOException {
        Path model = copy();
        Files.delete(model.resolve("weights.safetensors"));
        assertBadModel(() -> ModelArtifact.read(model), "weights.safetensors is missing: a Tuna model is a folder"
                + " with model.json and weights.safetensors");
    }

    @Test
    void aFolderWithoutModelJsonIsNotAModel() throws IOException {
        Path model = copy();
        Files.delete(model.resolve("model.json"));
        assertBadModel(() -> ModelArtifact.read(model), model + " has no model.json: a Tuna model is a folder with"
                + " model.json and weights.safetensors");
    }

    @Test
    void aMissingPathOrAFileIsNotAModel() {
        assertBadModel(() -> ModelArtifact.read(dir.resolve("nothing")), "No model at " + dir.resolve("nothing")
                + ": the path does not exist; a Tuna model is a folder with model.json and weights.safetensors");
        assertBadModel(() -> ModelArtifact.read(written.resolve("model.json")), "is a file, but a Tuna model is a"
                + " folder with model.json and weights.safetensors; pass the folder that holds it");
    }

    @Test
    void garbageJsonIsReported() throws IOException {
        Path model = copy();
        Files.writeString(model.resolve("model.json"), "{\"format\": \"tuna-model\", \"formatVersion\": ");
        assertBadModel(() -> ModelArtifact.read(model), model.resolve("model.json") + " is not valid JSON (",
                "export the model again");
        Files.write(model.resolve("model.json"), new byte[] {(byte) 0xff, (byte) 0xfe, 0});
        assertBadModel(() -> ModelArtifact.read(model), "is not UTF-8 text");
        Files.writeString(model.resolve("model.json"), "[1, 2]");
        assertBadModel(() -> ModelArtifact.read(model), "should hold a JSON object describing a Tuna model, but"
                + " holds a list");
    }

    @Test
    void anotherFormatIsNotATunaModel() throws IOException {
        Path model = copy();
        editJson(model, root -> root.addProperty("format", "keras"));
        assertBadModel(() -> ModelArtifact.read(model), "does not describe a Tuna model: expected \"format\":"
                + " \"tuna-model\", found \"keras\"");
    }

    @Test
    void missingAndInvalidFieldsAreNamed() throws IOException {
        Path model = copy();
        editJson(model, root -> root.remove("classes"));
        assertBadModel(() -> ModelArtifact.read(model), "lacks the field \"classes\" (a list)",
                "export the model again");
        editJson(model, root -> root.add("classes", JsonParser.parseString("[\"cat\",\"dog\",\"fish\"]")));
        editJson(model, root -> root.addProperty("inputSize", 1.5));
        assertBadModel(() -> ModelArtifact.read(model), "has an invalid \"inputSize\": expected a whole number from"
                + " 1 to 8192, found the number 1.5");
        editJson(model, root -> root.addProperty("inputSize", 48));
        editJson(model, root -> root.addProperty("resizeMethod", "stretch"));
        assertBadModel(() -> ModelArtifact.read(model), "has an invalid \"resizeMethod\": expected one of"
                + " \"squish\", \"crop\", \"pad\", found the text \"stretch\"");
        editJson(model, root -> root.addProperty("resizeMethod", "crop"));
        editJson(model, root -> root.getAsJsonObject("normalization").remove("std"));
        assertBadModel(() -> ModelArtifact.read(model), "lacks the field \"normalization.std\"");
        editJson(model, root -> root.getAsJsonObject("normalization").add("std",
                JsonParser.parseString("[0.5,0.5,0.5]")));
        editJson(model, root -> root.addProperty("architecture", "vit_h14"));
        assertBadModel(() -> ModelArtifact.read(model), "names the architecture 'vit_h14', which this Tuna does not"
                + " know (it knows resnet18, resnet34, resnet50, mobilenet_v2, convnext_tiny, efficientnet_b0);"
                + " upgrade Tuna");
        editJson(model, root -> root.addProperty("architecture", "mobilenet_v2"));
        editJson(model, root -> root.addProperty("weightsFile", "../elsewhere.safetensors"));
        assertBadModel(() -> ModelArtifact.read(model), "expected a plain file name inside the model folder");
        editJson(model, root -> root.addProperty("weightsFile", "weights.safetensors"));
        assertThat(ModelArtifact.read(model).metadata()).isEqualTo(meta);
    }

    @Test
    void theModelFolderGetsOrdinaryPermissions() throws IOException {
        assertThat(Files.readString(written.resolve("model.json"))).endsWith("}\n");
        if (Files.getFileStore(written).supportsFileAttributeView("posix")) {
            // made like any folder (umask), not owner-only as Files.createTempDirectory would
            Path ordinary = Files.createDirectory(dir.resolve("ordinary"));
            assertThat(Files.getPosixFilePermissions(written)).isEqualTo(Files.getPosixFilePermissions(ordinary));
        }
    }
}
