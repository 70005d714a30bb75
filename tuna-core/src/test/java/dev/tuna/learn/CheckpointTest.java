package dev.tuna.learn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuna.TunaException;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.internal.engine.Threads;
import dev.tuna.model.Architecture;
import dev.tuna.testing.Datasets;
import dev.tuna.testing.Images;
import dev.tuna.transform.ResizeMethod;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints of {@code fineTune}: a run interrupted at any epoch boundary (in the frozen phase, between
 * the phases, in the unfrozen phase) and resumed ends exactly as the uninterrupted run; mismatched and
 * damaged checkpoints are refused. One libtorch thread, so that results are bit-reproducible.
 */
class CheckpointTest {
    private static final FineTune SETTINGS = FineTune.DEFAULT.withFreezeEpochs(2);
    private static final int EPOCHS = 2; // unfrozen: boundaries after epochs 1, 2 (between phases) and 3

    @TempDir
    static Path dir;
    static Path data;
    static int threadsBefore;
    static Outcome uninterrupted;
    static Path finished;

    record Outcome(List<EpochRecord> history, List<BatchRecord> steps, Map<String, float[]> weights) {}

    /** Thrown by a callback to stand in for the process dying. */
    static final class Crash extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Crash() {
            super("simulated crash");
        }
    }

    @BeforeAll
    static void trainWithoutInterruption() {
        threadsBefore = Threads.intraOp();
        Threads.configure(1, 1);
        data = Datasets.folder(dir.resolve("data"), Map.of("a", 10, "b", 10));
        finished = dir.resolve("finished.checkpoint");
        try (DataLoaders loaders = loaders(data); Learner learner = learner(loaders)) {
            learner.fineTune(EPOCHS, SETTINGS, finished, false);
            uninterrupted = outcome(learner);
        }
    }

    @AfterAll
    static void restoreThreads() {
        Threads.configure(threadsBefore, 1);
    }

    static DataLoaders loaders(Path root) {
        return ImageFolder.from(root).resize(32, ResizeMethod.SQUISH).batchSize(4).dataloaders();
    }

    static Learner learner(DataLoaders loaders) {
        return Learner.builder(loaders).architecture(Architecture.MOBILENET_V2).weights(null).console(null, false)
                .build();
    }

    static Outcome outcome(Learner learner) {
        Map<String, float[]> weights = new LinkedHashMap<>();
        learner.network().parameters().forEach((name, p) -> weights.put(name, p.getArray().toFloatArray()));
        return new Outcome(learner.history(), learner.steps(), weights);
    }

    /** A callback that "crashes" at the first batch after {@code epochs} complete epochs. */
    static Callback crashAt(int epochs) {
        return new Callback() {
            @Override
            public void onBatchEnd(Learner l, int batch, int batches, BatchRecord record, double rate) {
                if (l.history().size() == epochs) {
                    throw new Crash();
                }
            }
        };
    }

    /** Trains until the first batch after {@code epochs} complete epochs, then "crashes". */
    static void crashAfter(int epochs, Path checkpoint) {
        try (DataLoaders loaders = loaders(data); Learner learner = learner(loaders)) {
            learner.addCallback(crashAt(epochs));
            assertThatThrownBy(() -> learner.fineTune(EPOCHS, SETTINGS, checkpoint, false)).isInstanceOf(Crash.class);
        }
    }

    static Outcome resume(Path checkpoint) {
        try (DataLoaders loaders = loaders(data); Learner learner = learner(loaders)) {
            learner.fineTune(EPOCHS, SETTINGS, checkpoint, true);
            return outcome(learner);
        }
    }

    static void assertSameRun(Outcome actual, Outcome expected) {
        assertThat(actual.history()).hasSameSizeAs(expected.history());
        for (int i = 0; i < expected.history().size(); i++) {
            EpochRecord a = actual.history().get(i);
            EpochRecord e = expected.history().get(i);
            assertThat(a.phase()).isEqualTo(e.phase());
            assertThat(a.epoch()).isEqualTo(e.epoch());
            // bit-for-bit, as README says of a resumed run with the same thread count
            assertThat(a.trainLoss()).as("train loss of epoch %d", i).isEqualTo(e.trainLoss());
            assertThat(a.validLoss()).as("valid loss of epoch %d", i).isEqualTo(e.validLoss());
            assertThat(a.errorRate()).as("error rate of epoch %d", i).isEqualTo(e.errorRate());
        }
        assertThat(actual.steps()).hasSameSizeAs(expected.steps());
        for (int i = 0; i < expected.steps().size(); i++) {
            assertThat(actual.steps().get(i).iteration()).isEqualTo(expected.steps().get(i).iteration());
            assertThat(actual.steps().get(i).loss()).as("loss of step %d", i)
                    .isEqualTo(expected.steps().get(i).loss());
            assertThat(actual.steps().get(i).learningRate()).isEqualTo(expected.steps().get(i).learningRate());
        }
        assertThat(actual.weights().keySet()).isEqualTo(expected.weights().keySet());
        expected.weights().forEach((name, values) -> assertThat(actual.weights().get(name)).as(name).isEqualTo(values));
    }

    @Test
    void resumingAtEveryEpochBoundaryEndsLikeTheUninterruptedRun() {
        assertThat(uninterrupted.history()).extracting(EpochRecord::phase)
                .containsExactly(Phase.FROZEN, Phase.FROZEN, Phase.UNFROZEN, Phase.UNFROZEN);
        for (int epochs = 1; epochs <= 3; epochs++) { // in the frozen phase, between phases, in the unfrozen one
            Path checkpoint = dir.resolve("crash-" + epochs);
            crashAfter(epochs, checkpoint);
            Checkpoint saved = Checkpoint.read(checkpoint);
            assertThat(saved.complete()).isFalse();
            assertThat(saved.history()).hasSize(epochs);
            assertThat(saved.phase()).isEqualTo(epochs <= 2 ? Phase.FROZEN : Phase.UNFROZEN);
            assertThat(saved.phaseEpoch()).isEqualTo(epochs <= 2 ? epochs : epochs - 2);
            assertSameRun(resume(checkpoint), uninterrupted);
        }
    }

    /** fast.ai's augmentations and MixUp draw from the seed, the epoch and the batch: a resume repeats them. */
    @Test
    void aResumedRunWithAugmentationAndMixupEndsLikeTheUninterruptedOne() {
        java.util.function.Supplier<DataLoaders> augmented = () -> ImageFolder.from(data)
                .resize(32, ResizeMethod.SQUISH).batchSize(4).augment(dev.tuna.transform.AugTransforms.FASTAI)
                .dataloaders();
        Outcome expected;
        try (DataLoaders loaders = augmented.get(); Learner learner = learner(loaders)) {
            learner.addCallback(BatchMix.mixup(0.4));
            learner.fineTune(EPOCHS, SETTINGS, dir.resolve("augmented-full"), false);
            expected = outcome(learner);
        }
        // not the plain run: augmentation and MixUp changed the training
        assertThat(expected.steps().get(0).loss()).isNotEqualTo(uninterrupted.steps().get(0).loss());
        Path checkpoint = dir.resolve("augmented-crash");
        try (DataLoaders loaders = augmented.get(); Learner learner = learner(loaders)) {
            learner.addCallback(BatchMix.mixup(0.4));
            learner.addCallback(crashAt(3));
            assertThatThrownBy(() -> learner.fineTune(EPOCHS, SETTINGS, checkpoint, false)).isInstanceOf(Crash.class);
        }
        try (DataLoaders loaders = augmented.get(); Learner learner = learner(loaders)) {
            learner.addCallback(BatchMix.mixup(0.4));
            learner.fineTune(EPOCHS, SETTINGS, checkpoint, true);
            assertSameRun(outcome(learner), expected);
        }
        // and a resume without MixUp is refused: it would be another run
        try (DataLoaders loaders = augmented.get(); Learner learner = learner(loaders)) {
            Path again = dir.resolve("augmented-crash-2");
            try (DataLoaders l2 = augmented.get(); Learner first = learner(l2)) {
                first.addCallback(BatchMix.mixup(0.4));
                first.addCallback(crashAt(1));
                assertThatThrownBy(() -> first.fineTune(EPOCHS, SETTINGS, again, false)).isInstanceOf(Crash.class);
            }
            assertThatThrownBy(() -> learner.fineTune(EPOCHS, SETTINGS, again, true))
                    .isInstanceOf(dev.tuna.TunaException.class).hasMessageContaining("mixup");
        }
    }

    /** Stochastic depth draws from the seed and the epoch, like dropout: a resumed EfficientNet run repeats. */
    @Test
    void aResumedRunWithStochasticDepthEndsLikeTheUninterruptedOne() {
        java.util.function.Function<DataLoaders, Learner> efficientNet = loaders -> Learner.builder(loaders)
                .architecture(Architecture.EFFICIENTNET_B0).weights(null).console(null, false).build();
        Plan plan = SETTINGS.withFreezeEpochs(1).plan(2);
        Outcome expected;
        try (DataLoaders loaders = loaders(data); Learner learner = efficientNet.apply(loaders)) {
            learner.fit(plan, dir.resolve("depth-full"), false);
            expected = outcome(learner);
        }
        Path checkpoint = dir.resolve("depth-crash");
        try (DataLoaders loaders = loaders(data); Learner learner = efficientNet.apply(loaders)) {
            learner.addCallback(crashAt(2));
            assertThatThrownBy(() -> learner.fit(plan, checkpoint, false)).isInstanceOf(Crash.class);
        }
        try (DataLoaders loaders = loaders(data); Learner learner = efficientNet.apply(loaders)) {
            learner.fit(plan, checkpoint, true);
            assertSameRun(outcome(learner), expected);
        }
    }

    /** Progressive resizing is one plan: its checkpoints hold the stage, so a resume continues at the right size. */
    @Test
    void aResumedProgressiveRunEndsLikeTheUninterruptedOne() {
        Plan plan = SETTINGS.plan(1).atSize(24).then(SETTINGS.plan(1).atSize(32));
        assertThat(plan.stages()).extracting(Stage::size).containsExactly(24, 24, 32, 32);
        Outcome expected;
        try (DataLoaders loaders = loaders(data); Learner learner = learner(loaders)) {
            learner.fit(plan, dir.resolve("progressive-full"), false);
            expected = outcome(learner);
            assertThat(learner.data().spec().size()).isEqualTo(32);
        }
        assertThat(expected.history()).extracting(EpochRecord::phase).containsExactly(Phase.FROZEN, Phase.FROZEN,
                Phase.UNFROZEN, Phase.FROZEN, Phase.FROZEN, Phase.UNFROZEN);
        for (int epochs : new int[] {3, 4}) { // between the sizes; inside the large size's frozen stage
            Path checkpoint = dir.resolve("progressive-crash-" + epochs);
            try (DataLoaders loaders = loaders(data); Learner learner = learner(loaders)) {
                learner.addCallback(crashAt(epochs));
                assertThatThrownBy(() -> learner.fit(plan, checkpoint, false)).isInstanceOf(Crash.class);
            }
            Checkpoint saved = Checkpoint.read(checkpoint);
            assertThat(saved.stage()).isEqualTo(epochs == 3 ? 1 : 2);
            assertThat(saved.describe()).startsWith(epochs + " of 6 epochs done");
            try (DataLoaders loaders = loaders(data); Learner learner = learner(loaders)) {
                learner.fit(plan, checkpoint, true);
                assertSameRun(outcome(learner), expected);
            }
        }
        // the same epochs at one size are another run
        try (DataLoaders loaders = loaders(data); Learner learner = learner(loaders)) {
            assertThatThrownBy(() -> learner.fit(SETTINGS.plan(1).then(SETTINGS.plan(1)),
                    dir.resolve("progressive-crash-4"), true))
                    .isInstanceOf(dev.tuna.TunaException.class).hasMessageContaining("plan: checkpoint");
        }
    }

    @Test
    void aFinishedRunIsMarkedCompleteAndResumingItTrainsNothing() throws IOException {
        Checkpoint saved = Checkpoint.read(finished);
        assertThat(saved.complete()).isTrue();
        assertThat(saved.describe()).isEqualTo("4 of 4 epochs done (unfrozen 2/2), training complete");
        assertThat(saved.settings()).isEqualTo(SETTINGS);
        try (Stream<Path> files = Files.list(finished)) { // one manifest, one state file, no temporaries
            assertThat(files.map(f -> f.getFileName().toString()).sorted().toList())
                    .satisfiesExactly(f -> assertThat(f).isEqualTo("checkpoint.json"),
                            f -> assertThat(f).matches("state-4-[0-9a-f]{8}\\.safetensors"));
        }
        Path copy = dir.resolve("finished-copy");
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(finished)) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        assertSameRun(resume(copy), uninterrupted);
        Files.writeString(copy.resolve("notes.txt"), "mine");
        Checkpoint.delete(copy);
        assertThat(copy.resolve("checkpoint.json")).doesNotExist();
        assertThat(copy.resolve("notes.txt")).exists(); // only the checkpoint's own files are deleted
        Files.delete(copy.resolve("notes.txt"));
        Checkpoint.delete(copy);
        assertThat(copy).doesNotExist();
    }

    @Test
    void aNewRunReplacesTheCheckpointAndCleansUpInterruptedWrites() throws IOException {
        Path checkpoint = dir.resolve("replaced");
        crashAfter(1, checkpoint);
        Files.writeString(checkpoint.resolve(".state-9-0000.safetensors.tmp-abc"), "half a file");
        crashAfter(2, checkpoint);
        assertThat(Checkpoint.read(checkpoint).history()).hasSize(2);
        try (Stream<Path> files = Files.list(checkpoint)) {
            assertThat(files.map(f -> f.getFileName().toString()).toList()).hasSize(2).contains("checkpoint.json")
                    .noneMatch(f -> f.contains("tmp"));
        }
    }

    @Test
    void resumeRefusesACheckpointFromAnotherRun() throws IOException {
        Path checkpoint = dir.resolve("other-run");
        crashAfter(1, checkpoint);
        try (DataLoaders loaders = loaders(data); Learner learner = learner(loaders)) {
            assertThatThrownBy(() -> learner.fineTune(EPOCHS + 1, SETTINGS, checkpoint, true))
                    .isInstanceOfSatisfying(TunaException.class, e -> assertThat(e.kind()).isEqualTo(TunaException.Kind.USAGE))
                    .hasMessageContaining("is from a different run")
                    .hasMessageContaining("epochs: checkpoint 2, now 3")
                    .hasMessageNotContaining("data:");
            assertThatThrownBy(() -> learner.fineTune(EPOCHS, SETTINGS.withBaseLr(1e-2), checkpoint, true))
                    .hasMessageContaining("baseLr: checkpoint 0.002, now 0.01");
        }
        Path moreData = dir.resolve("more-data");
        Datasets.folder(moreData, Map.of("a", 10, "b", 10));
        Images.writeJpeg(moreData.resolve("a/extra.jpg"), 24, 16, 99);
        try (DataLoaders loaders = loaders(moreData); Learner learner = learner(loaders)) {
            assertThatThrownBy(() -> learner.fineTune(EPOCHS, SETTINGS, checkpoint, true))
                    .hasMessageContaining("data: checkpoint 16 training + 4 validation images")
                    .hasMessageContaining("now 17 training + 4 validation images");
        }
        try (DataLoaders loaders = ImageFolder.from(data).resize(48, ResizeMethod.SQUISH).batchSize(4).dataloaders();
             Learner learner = Learner.builder(loaders).architecture(Architecture.RESNET18).weights(null)
                     .console(null, false).build()) {
            assertThatThrownBy(() -> learner.fineTune(EPOCHS, SETTINGS, checkpoint, true))
                    .hasMessageContaining("architecture: checkpoint mobilenet_v2, now resnet18")
                    .hasMessageContaining("size: checkpoint 32, now 48");
        }
        assertThat(Checkpoint.read(checkpoint).history()).hasSize(1); // a refused resume changes nothing
    }

    @Test
    void resumeRefusesDamagedCheckpoints() throws IOException {
        Path checkpoint = dir.resolve("damaged");
        crashAfter(1, checkpoint);
        Path manifest = checkpoint.resolve(Checkpoint.MANIFEST);
        JsonObject json = JsonParser.parseString(Files.readString(manifest)).getAsJsonObject();
        Path state = checkpoint.resolve(json.getAsJsonObject("state").get("file").getAsString());
        byte[] good = Files.readAllBytes(state);

        Files.write(state, java.util.Arrays.copyOf(good, good.length / 2));
        assertDamaged(checkpoint, "truncated");
        byte[] flipped = good.clone();
        flipped[flipped.length - 3] ^= 0x40;
        Files.write(state, flipped);
        assertDamaged(checkpoint, "does not match its checksum");
        Files.delete(state);
        assertDamaged(checkpoint, "is missing");
        Files.write(state, good);

        String text = Files.readString(manifest);
        Files.writeString(manifest, text.substring(0, text.length() / 2), StandardCharsets.UTF_8);
        assertDamaged(checkpoint, "not valid JSON");
        Files.writeString(manifest, text.replace("\"formatVersion\":1", "\"formatVersion\":7"));
        assertThatThrownBy(() -> Checkpoint.read(checkpoint)).hasMessageContaining("format version 7");
        Files.writeString(manifest, text.replace("\"position\"", "\"place\""));
        assertDamaged(checkpoint, "missing fields");
        Files.writeString(manifest, text);
        assertThat(Checkpoint.read(checkpoint).history()).hasSize(1);

        Path none = dir.resolve("none");
        try (DataLoaders loaders = loaders(data); Learner learner = learner(loaders)) {
            assertThatThrownBy(() -> learner.fineTune(EPOCHS, SETTINGS, none, true))
                    .isInstanceOfSatisfying(TunaException.class, e -> assertThat(e.kind()).isEqualTo(TunaException.Kind.USAGE))
                    .hasMessageContaining("No checkpoint to resume from");
        }
    }

    private static void assertDamaged(Path checkpoint, String what) {
        try (DataLoaders loaders = loaders(data); Learner learner = learner(loaders)) {
            assertThatThrownBy(() -> learner.fineTune(EPOCHS, SETTINGS, checkpoint, true))
                    .isInstanceOfSatisfying(TunaException.class,
                            e -> assertThat(e.kind()).isEqualTo(TunaException.Kind.BAD_MODEL_FILE))
                    .hasMessageContaining("The checkpoint in " + checkpoint + " is damaged")
                    .hasMessageContaining(what)
                    .hasMessageContaining("start a new run");
        }
    }
}
