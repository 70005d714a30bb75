package dev.tuna.inference;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuna.TunaException;
import dev.tuna.internal.io.Digests;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.testing.Fuzzing;
import dev.tuna.transform.Normalization;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.ResizeMethod;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes the reading of an exported model's {@code model.json} (Jazzer), through the public
 * {@link ModelArtifact#read}: a checked artifact or a {@code BAD_MODEL_FILE} {@link TunaException},
 * nothing else. Seeds in {@code ModelJsonFuzzTestInputs/modelJson/}; {@code JAZZER_FUZZ=1} fuzzes.
 */
class ModelJsonFuzzTest {
    /** The weights file beside every fuzzed model.json (read only for its size and checksum). */
    private static final byte[] WEIGHTS = "not really safetensors, only checksummed".getBytes(StandardCharsets.US_ASCII);

    static {
        // load and initialise the classes a read needs before the first timed input
        try {
            Map.Entry<String, byte[]> seed = seeds().entrySet().iterator().next();
            Fuzzing.scratchFile("warm-up/" + ModelArtifact.WEIGHTS_FILE, WEIGHTS);
            ModelArtifact.read(Fuzzing.scratchFile("warm-up/" + ModelArtifact.MODEL_JSON, seed.getValue()).getParent());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @FuzzTest
    @Timeout(value = 2, unit = TimeUnit.SECONDS)
    void modelJson(byte[] json) {
        Fuzzing.executed("ModelJsonFuzzTest#modelJson");
        Path folder = Fuzzing.scratch().resolve("model.tuna");
        Fuzzing.scratchFile("model.tuna/" + ModelArtifact.WEIGHTS_FILE, WEIGHTS);
        Fuzzing.scratchFile("model.tuna/" + ModelArtifact.MODEL_JSON, json);
        ModelArtifact artifact;
        try {
            artifact = ModelArtifact.read(folder);
        } catch (TunaException e) {
            Fuzzing.expectDocumented(e, TunaException.Kind.BAD_MODEL_FILE);
            return;
        }
        ArtifactMetadata metadata = artifact.metadata();
        if (metadata.classes().isEmpty() || metadata.inputSize() < 1
                || metadata.inputSize() > ArtifactMetadata.MAX_INPUT_SIZE) {
            throw new AssertionError("read an inconsistent model: " + metadata);
        }
    }

    /** Every seed is a model.json that reads, and is committed in the inputs directory. */
    @Test
    void seedsReadAndAreCommitted() throws IOException {
        Map<String, byte[]> seeds = seeds();
        Fuzzing.syncSeeds(getClass(), "modelJson", seeds);
        for (Map.Entry<String, byte[]> seed : seeds.entrySet()) {
            Path folder = Fuzzing.scratch().resolve("seed-" + seed.getKey());
            Fuzzing.scratchFile("seed-" + seed.getKey() + "/" + ModelArtifact.WEIGHTS_FILE, WEIGHTS);
            Fuzzing.scratchFile("seed-" + seed.getKey() + "/" + ModelArtifact.MODEL_JSON, seed.getValue());
            assertThat(ModelArtifact.read(folder).metadata().classes()).as(seed.getKey()).isNotEmpty();
        }
    }

    // ---------------------------------------------------------------- findings, kept as regression tests

    /** A weights file name with a NUL character passed the checks, then made resolving it throw InvalidPathException. */
    @Test
    void refusesWeightsFileNameWithControlCharacter() throws IOException {
        String json = new String(seeds().get("resnet18.json"), StandardCharsets.UTF_8)
                .replace("\"weights.safetensors\"", "\"weights\\u0000.safetensors\"");
        Fuzzing.scratchFile("nul.tuna/" + ModelArtifact.WEIGHTS_FILE, WEIGHTS);
        Path folder = Fuzzing.scratchFile("nul.tuna/" + ModelArtifact.MODEL_JSON, json.getBytes(StandardCharsets.UTF_8))
                .getParent();

        Fuzzing.assertRefused(() -> ModelArtifact.read(folder), TunaException.Kind.BAD_MODEL_FILE,
                "names the weights file \"weights\\u0000.safetensors\"; expected a plain file name");
    }

    /** model.json files as Tuna's export writes them ({@link ArtifactJson#encode}). */
    static Map<String, byte[]> seeds() throws IOException {
        Path weights = Fuzzing.scratchFile("seed-weights", WEIGHTS);
        String sha = Digests.sha256Hex(weights);
        JsonObject training = JsonParser.parseString("{\"epochs\":[{\"epoch\":0,\"phase\":\"frozen\",\"trainLoss\":1.25,"
                + "\"validLoss\":0.5,\"errorRate\":0.125}],\"test\":{\"accuracy\":0.92,\"total\":250}}")
                .getAsJsonObject();
        ArtifactMetadata resnet = new ArtifactMetadata(Architecture.RESNET18, List.of("daisy", "rose", "tulip"), 224,
                ResizeMethod.SQUISH, PadMode.ZEROS, Normalization.IMAGENET, false, HeadSpec.DEFAULT, 42,
                new LibraryVersions("0.1.0", "0.36.0", "2.7.1"), Instant.parse("2025-06-01T12:00:00Z"), training);
        ArtifactMetadata mobilenet = new ArtifactMetadata(Architecture.MOBILENET_V2, List.of("cat", "dog"), 128,
                ResizeMethod.PAD, PadMode.REFLECTION, Normalization.MINUS_ONE_TO_ONE, true,
                new HeadSpec(List.of(), List.of(0.5f)), -7, new LibraryVersions("dev", "0.36.0", "unknown"),
                Instant.parse("2026-11-30T10:00:00.123Z"), null);
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("resnet18.json", ArtifactJson.encode(resnet, ModelArtifact.WEIGHTS_FILE, WEIGHTS.length, sha)
                .getBytes(StandardCharsets.UTF_8));
        seeds.put("mobilenet-pad.json", ArtifactJson.encode(mobilenet, ModelArtifact.WEIGHTS_FILE, WEIGHTS.length,
                sha).getBytes(StandardCharsets.UTF_8));
        return seeds;
    }
}
