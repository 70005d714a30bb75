package dev.tuna.learn;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.tuna.TunaException;
import dev.tuna.testing.Fuzzing;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes the reading of a checkpoint manifest ({@code checkpoint.json}) and everything a resumed run
 * or {@code tuna train --resume} asks of it (Jazzer): a {@link Checkpoint} whose accessors all work, or
 * a {@code BAD_MODEL_FILE} {@link TunaException} from {@link Checkpoint#read}, nothing else. Seeds in
 * {@code CheckpointManifestFuzzTestInputs/manifest/}; {@code JAZZER_FUZZ=1} fuzzes.
 */
class CheckpointManifestFuzzTest {
    static {
        // load and initialise the classes a read needs before the first timed input
        Checkpoint.read(Fuzzing.scratchFile("warm-up.checkpoint/" + Checkpoint.MANIFEST, manifest(true)).getParent())
                .settings();
    }

    @FuzzTest
    @Timeout(value = 2, unit = TimeUnit.SECONDS)
    void manifest(byte[] json) {
        Fuzzing.executed("CheckpointManifestFuzzTest#manifest");
        Path folder = Fuzzing.scratchFile("run.checkpoint/" + Checkpoint.MANIFEST, json).getParent();
        Checkpoint checkpoint;
        try {
            checkpoint = Checkpoint.read(folder);
        } catch (TunaException e) {
            Fuzzing.expectDocumented(e, TunaException.Kind.BAD_MODEL_FILE);
            return;
        }
        checkpoint.complete();
        checkpoint.stage();
        checkpoint.phase().id();
        checkpoint.phaseEpoch();
        checkpoint.phaseEpochs();
        checkpoint.history().size();
        checkpoint.run().size();
        if (checkpoint.describe().isBlank()) {
            throw new AssertionError("an empty description");
        }
        try {
            checkpoint.settings();
        } catch (TunaException e) {
            Fuzzing.expectDocumented(e, TunaException.Kind.BAD_MODEL_FILE);
        }
    }

    /** Every seed is a manifest that reads, and is committed in the inputs directory. */
    @Test
    void seedsReadAndAreCommitted() {
        Map<String, byte[]> seeds = seeds();
        Fuzzing.syncSeeds(getClass(), "manifest", seeds);
        for (Map.Entry<String, byte[]> seed : seeds.entrySet()) {
            Path folder = Fuzzing.scratchFile("seed-" + seed.getKey() + "/" + Checkpoint.MANIFEST, seed.getValue())
                    .getParent();
            Checkpoint checkpoint = Checkpoint.read(folder);
            assertThat(checkpoint.describe()).as(seed.getKey()).contains("epochs done");
            assertThat(checkpoint.settings()).isNotNull();
        }
    }

    // ---------------------------------------------------------------- findings, kept as regression tests

    /**
     * A manifest whose epoch count is not a number: it was read without complaint, then
     * {@code describe()} (printed by {@code tuna train --resume}) threw a NumberFormatException.
     */
    @Test
    void refusesManifestWithEpochCountThatIsNotANumber() {
        Path folder = edited(true, "\"planEpochs\": 4", "\"planEpochs\": \"four\"");

        Fuzzing.assertRefused(() -> Checkpoint.read(folder), TunaException.Kind.BAD_MODEL_FILE,
                "checkpoint.json is missing fields or has invalid values (For input string: \"four\")");
    }

    /** The same for the older manifests, whose epoch count is the sum of two run fields. */
    @Test
    void refusesOldManifestWithEpochsThatAreNotANumber() {
        Path folder = edited(false, "\"epochs\": \"3\"", "\"epochs\": \"3.5\"");

        Fuzzing.assertRefused(() -> Checkpoint.read(folder), TunaException.Kind.BAD_MODEL_FILE,
                "(For input string: \"3.5\")");
    }

    /** A checkpoint folder whose manifest is a seed with one piece of text replaced. */
    private static Path edited(boolean withPlan, String text, String replacement) {
        String json = new String(manifest(withPlan), StandardCharsets.UTF_8);
        if (!json.contains(text)) {
            throw new IllegalArgumentException("the manifest has no " + text);
        }
        byte[] bytes = json.replace(text, replacement).getBytes(StandardCharsets.UTF_8);
        return Fuzzing.scratchFile("edited-" + withPlan + ".checkpoint/" + Checkpoint.MANIFEST, bytes).getParent();
    }

    /** Manifests in the form {@link Checkpoint}'s writer gives them, and the older one without plans. */
    static Map<String, byte[]> seeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("unfrozen-epoch-2.json", manifest(true));
        seeds.put("version-1-before-plans.json", manifest(false));
        return seeds;
    }

    private static byte[] manifest(boolean withPlan) {
        JsonObject manifest = new JsonObject();
        manifest.addProperty("format", Checkpoint.FORMAT);
        manifest.addProperty("formatVersion", Checkpoint.FORMAT_VERSION);
        manifest.addProperty("complete", !withPlan);
        JsonObject position = new JsonObject();
        position.addProperty("phase", withPlan ? "unfrozen" : "frozen");
        if (withPlan) {
            position.addProperty("stage", 1);
        }
        position.addProperty("epoch", withPlan ? 2 : 1);
        position.addProperty("epochs", withPlan ? 3 : 1);
        if (withPlan) {
            position.addProperty("planEpochs", 4);
        }
        position.addProperty("epochsSeen", withPlan ? 3 : 1);
        position.addProperty("iterations", 96L);
        position.addProperty("frozenGroups", withPlan ? 0 : 2);
        manifest.add("position", position);
        JsonObject smooth = new JsonObject();
        smooth.addProperty("raw", 0.4375);
        smooth.addProperty("count", 96);
        manifest.add("smoothLoss", smooth);
        JsonObject run = new JsonObject();
        run.addProperty("data", "flowers 2936 files, sha256 0f1e");
        run.addProperty("classes", "daisy,dandelion,roses,sunflowers,tulips");
        run.addProperty("architecture", "resnet18");
        run.addProperty("size", "192");
        run.addProperty("seed", "42");
        run.addProperty("baseLr", "0.002");
        run.addProperty("freezeEpochs", "1");
        run.addProperty("epochs", "3");
        run.addProperty("lrMult", "100.0");
        run.addProperty("pctStart", "0.3");
        run.addProperty("div", "5.0");
        manifest.add("run", run);
        JsonArray history = new JsonArray();
        for (int epoch = 0; epoch < (withPlan ? 3 : 1); epoch++) {
            JsonObject row = new JsonObject();
            row.addProperty("phase", epoch == 0 ? "frozen" : "unfrozen");
            row.addProperty("epoch", epoch == 0 ? 0 : epoch - 1);
            row.addProperty("trainLoss", 1.5 / (epoch + 1));
            row.addProperty("validLoss", 1.0 / (epoch + 1));
            row.add("errorRate", epoch == 2 ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(0.25 / (epoch + 1)));
            row.addProperty("seconds", 61.5);
            row.addProperty("trainImagesPerSecond", 38.25);
            if (withPlan) {
                row.addProperty("validSeconds", 7.0);
                row.addProperty("residentBytes", 1_500_000_000L);
            }
            history.add(row);
        }
        manifest.add("history", history);
        JsonObject library = new JsonObject();
        library.addProperty("tuna", "0.1.0");
        library.addProperty("djl", "0.36.0");
        library.addProperty("pytorch", "2.7.1");
        manifest.add("library", library);
        manifest.addProperty("threads", 2);
        JsonObject steps = new JsonObject();
        steps.addProperty("fc.weight", 96);
        manifest.add("optimizerSteps", steps);
        JsonObject state = new JsonObject();
        state.addProperty("file", "state-3-1a2b3c4d.safetensors");
        state.addProperty("bytes", 123456);
        state.addProperty("sha256", "0".repeat(64));
        manifest.add("state", state);
        return (new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(manifest) + "\n")
                .getBytes(StandardCharsets.UTF_8);
    }
}
