package dev.tuna.learn;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuna.TunaException;
import dev.tuna.inference.LibraryVersions;
import dev.tuna.internal.engine.Threads;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The saved state of a {@link Learner#fineTune(int, FineTune, Path, boolean)} run at an epoch
 * boundary, from which a killed run continues and ends as the uninterrupted run would.
 *
 * <p>A checkpoint is a folder with two files:
 * <ul>
 *   <li>{@code checkpoint.json}: format and version, whether the run is complete, the position
 *       (phase, epochs done in it, epochs seen, iterations, frozen groups), the smoothed-loss state,
 *       the optimizer's per-parameter step counts, the epoch table, a description of the run (data,
 *       architecture, classes, size, settings) that a resumed run must match, and the name, size and
 *       SHA-256 of the state file;</li>
 *   <li>{@code state-<epochs>-<random>.safetensors}: every network parameter including batch-norm
 *       running statistics ({@code model.<name>}), the optimizer's moments ({@code adam.average.<name>},
 *       {@code adam.squares.<name>}) and the per-step records ({@code steps}, float64 {@code [n, 5]}).</li>
 * </ul>
 * After every epoch a new state file is written and forced to disk, then the manifest is replaced by
 * an atomic rename, then older state files are removed: at any moment the manifest names a complete
 * state file. The data order needs no saved generator: each epoch's shuffle and augmentation, and its
 * dropout masks, are seeded from the seed and the number of epochs seen.
 *
 * <pre>{@code
 * Path folder = Checkpoint.defaultFolder(Path.of("flowers.tuna"));     // flowers.tuna.checkpoint
 * if (Checkpoint.exists(folder)) {
 *     System.out.println("Resuming " + Checkpoint.read(folder).describe());
 * }
 * learner.fineTune(3, FineTune.DEFAULT, folder, Checkpoint.exists(folder));
 * }</pre>
 */
public final class Checkpoint {
    /** The {@code format} value of a checkpoint manifest. */
    public static final String FORMAT = "tuna-checkpoint";
    /** The format version this Tuna writes, and the newest it reads. */
    public static final int FORMAT_VERSION = 1;
    /** The manifest's file name. */
    public static final String MANIFEST = "checkpoint.json";

    private final Path folder;
    private final JsonObject manifest;
    private final boolean complete;
    private final Phase phase;
    private final int stage;
    private final int phaseEpoch;
    private final int phaseEpochs;
    private final int totalEpochs;
    private final Map<String, String> run;
    private final List<EpochRecord> history;

    private Checkpoint(Path folder, JsonObject manifest) {
        this.folder = folder;
        this.manifest = manifest;
        this.complete = manifest.get("complete").getAsBoolean();
        JsonObject position = manifest.getAsJsonObject("position");
        this.phase = Phase.parse(position.get("phase").getAsString());
        this.phaseEpoch = position.get("epoch").getAsInt();
        this.phaseEpochs = position.get("epochs").getAsInt();
        // version 1 before plans: fine-tuning's two stages, named by their phase
        this.stage = position.has("stage") ? position.get("stage").getAsInt() : phase == Phase.FROZEN ? 0 : 1;
        Map<String, String> fields = new LinkedHashMap<>();
        manifest.getAsJsonObject("run").entrySet().forEach(e -> fields.put(e.getKey(), e.getValue().getAsString()));
        this.run = Map.copyOf(fields);
        // checked here, so that a damaged count fails the read rather than describe() later
        this.totalEpochs = position.has("planEpochs") ? position.get("planEpochs").getAsInt()
                : Integer.parseInt(run.getOrDefault("freezeEpochs", "0")) + Integer.parseInt(run.getOrDefault("epochs", "0"));
        List<EpochRecord> records = new ArrayList<>();
        for (JsonElement element : manifest.getAsJsonArray("history")) {
            JsonObject r = element.getAsJsonObject();
            records.add(new EpochRecord(r.get("epoch").getAsInt(), Phase.parse(r.get("phase").getAsString()),
                    number(r, "trainLoss"), number(r, "validLoss"), number(r, "errorRate"), number(r, "seconds"),
                    number(r, "trainImagesPerSecond"), r.has("validSeconds") ? number(r, "validSeconds") : Double.NaN,
                    r.has("residentBytes") ? r.get("residentBytes").getAsLong() : 0));
        }
        this.history = List.copyOf(records);
    }

    // ------------------------------------------------------------------ public API

    /**
     * Returns the default checkpoint folder of a run that writes {@code artifact}: a sibling named
     * {@code <artifact>.checkpoint}.
     *
     * @param artifact the model artifact path
     * @return the checkpoint folder
     */
    public static Path defaultFolder(Path artifact) {
        Path absolute = artifact.toAbsolutePath().normalize();
        Path name = absolute.getFileName();
        return absolute.resolveSibling((name == null ? "model" : name.toString()) + ".checkpoint");
    }

    /**
     * Whether {@code folder} holds a checkpoint (its manifest exists; it may still be damaged).
     *
     * @param folder the checkpoint folder
     * @return true when there is a checkpoint to resume or replace
     */
    public static boolean exists(Path folder) {
        return Files.isRegularFile(folder.resolve(MANIFEST));
    }

    /**
     * Reads a checkpoint's manifest (not its state file, which resuming checks and loads).
     *
     * @param folder the checkpoint folder
     * @return the checkpoint
     * @throws TunaException ({@code USAGE}) when there is none; ({@code BAD_MODEL_FILE}) when it is damaged
     *     or from a newer Tuna
     */
    public static Checkpoint read(Path folder) {
        Path file = folder.resolve(MANIFEST);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw TunaException.usage("No checkpoint to resume from: " + folder + " has no " + MANIFEST
                    + ". Start a new run instead (without --resume).");
        } catch (IOException e) {
            throw CheckpointStore.damaged(folder, "cannot read " + MANIFEST + " (" + e + ")", e);
        }
        JsonObject json;
        try {
            json = JsonParser.parseString(text).getAsJsonObject();
        } catch (RuntimeException e) {
            throw CheckpointStore.damaged(folder, MANIFEST + " is not valid JSON (" + text.length() + " characters: "
                    + e.getMessage() + ")", e);
        }
        String format = json.has("format") && json.get("format").isJsonPrimitive() ? json.get("format").getAsString() : null;
        if (!FORMAT.equals(format)) {
            throw CheckpointStore.damaged(folder, MANIFEST + " is not a Tuna checkpoint manifest (format " + format + ", expected "
                    + FORMAT + ")", null);
        }
        int version;
        try {
            version = json.get("formatVersion").getAsInt();
        } catch (RuntimeException e) {
            throw CheckpointStore.damaged(folder, MANIFEST + " has no valid formatVersion", e);
        }
        if (version > FORMAT_VERSION || version < 1) {
            throw new TunaException(TunaException.Kind.BAD_MODEL_FILE, "The checkpoint in " + folder + " has format"
                    + " version " + version + " but this Tuna reads version " + FORMAT_VERSION + ". Resume it with the"
                    + " Tuna that wrote it, or start a new run.");
        }
        try {
            return new Checkpoint(folder, json);
        } catch (RuntimeException e) {
            throw CheckpointStore.damaged(folder, MANIFEST + " is missing fields or has invalid values (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Deletes a checkpoint: its manifest, state files and temporary files left by an interrupted write,
     * then the folder if nothing else is in it. Other files are left alone. Nothing happens when there
     * is no checkpoint.
     *
     * @param folder the checkpoint folder
     * @throws TunaException ({@code RUNTIME}) when a file cannot be deleted
     */
    public static void delete(Path folder) {
        if (!Files.isDirectory(folder)) {
            return;
        }
        try {
            CheckpointStore.delete(folder);
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "Cannot delete the checkpoint in " + folder + " (" + e
                    + "); delete the folder by hand.", e);
        }
    }

    /**
     * Returns the checkpoint's folder.
     *
     * @return the folder
     */
    public Path folder() {
        return folder;
    }

    /**
     * Whether the run had finished when the checkpoint was written (resuming it trains nothing).
     *
     * @return true for a finished run
     */
    public boolean complete() {
        return complete;
    }

    /**
     * Returns the plan's stage of the last complete epoch (its index: fine-tuning's frozen stage is 0).
     *
     * @return the stage
     */
    public int stage() {
        return stage;
    }

    /**
     * Returns the phase of the last complete epoch.
     *
     * @return the phase of its stage
     */
    public Phase phase() {
        return phase;
    }

    /**
     * Returns how many epochs of the stage were complete.
     *
     * @return epochs done in the phase
     */
    public int phaseEpoch() {
        return phaseEpoch;
    }

    /**
     * Returns the number of epochs of the stage.
     *
     * @return the phase's epochs
     */
    public int phaseEpochs() {
        return phaseEpochs;
    }

    /**
     * Returns the fine-tuning settings of the run (the base learning rate included).
     *
     * @return the settings
     */
    public FineTune settings() {
        try {
            return new FineTune(Double.parseDouble(run.get("baseLr")), Integer.parseInt(run.get("freezeEpochs")),
                    Double.parseDouble(run.get("lrMult")), Double.parseDouble(run.get("pctStart")),
                    Double.parseDouble(run.get("div")));
        } catch (RuntimeException e) {
            throw CheckpointStore.damaged(folder, MANIFEST + " has invalid fine-tuning settings (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Returns the epoch table up to the checkpoint.
     *
     * @return one record per complete epoch
     */
    public List<EpochRecord> history() {
        return history;
    }

    /**
     * Returns the description of the run that a resumed run must match: data, architecture, weights,
     * classes, size, batch size, seeds, epochs and fine-tuning settings.
     *
     * @return field name to value
     */
    public Map<String, String> run() {
        return run;
    }

    /**
     * Describes the position for people, e.g. {@code "2 of 4 epochs done (unfrozen 1/3)"}.
     *
     * @return the description
     */
    public String describe() {
        return String.format(Locale.ROOT, "%d of %d epochs done (%s %d/%d)%s", history.size(), totalEpochs, phase, phaseEpoch,
                phaseEpochs, complete ? ", training complete" : "");
    }

    // ------------------------------------------------------------------ package: used by Learner

    /** Forgets any checkpoint in {@code folder} so that a new run starts there. */
    static Resume start(Path folder) {
        delete(folder);
        return Resume.START;
    }

    /**
     * Checks the checkpoint in {@code folder} against this run, puts its state into the learner
     * (weights, running statistics, counters, records) and returns where the plan continues.
     */
    static Resume restore(Learner learner, Path folder, Plan plan) {
        Checkpoint checkpoint = read(folder);
        RunFingerprint.check(folder, checkpoint.run, RunFingerprint.of(learner, plan));
        if (checkpoint.stage >= plan.stages().size()) {
            throw CheckpointStore.damaged(folder, "its stage " + checkpoint.stage + " is not in a plan of "
                    + plan.stages().size() + " stages", null);
        }
        try {
            JsonObject position = checkpoint.manifest.getAsJsonObject("position");
            JsonObject smooth = checkpoint.manifest.getAsJsonObject("smoothLoss");
            SmoothedLoss smoothing = new SmoothedLoss(SmoothedLoss.BETA, smooth.get("raw").getAsDouble(),
                    smooth.get("count").getAsInt());
            TrainingState saved = new TrainingState(checkpoint.stage, position.get("epochsSeen").getAsInt(),
                    position.get("iterations").getAsLong(), position.get("frozenGroups").getAsInt(), smoothing,
                    checkpoint.history, List.of(), null);
            TrainingState state = CheckpointStore.restore(folder, checkpoint.manifest, learner.network(), saved);
            learner.restore(state);
            return new Resume(checkpoint.stage, checkpoint.phaseEpoch, smoothing, state.optimizer(),
                    checkpoint.complete);
        } catch (TunaException e) {
            throw e;
        } catch (RuntimeException e) {
            throw CheckpointStore.damaged(folder, "its state does not fit the network (" + e.getMessage() + ")", e);
        }
    }

    /** Writes a checkpoint at the end of every epoch of the plan it is attached to. */
    static final class Writer implements Callback {
        private final Path folder;
        private final Plan plan;
        private final Map<String, String> run;

        Writer(Path folder, Plan plan, Map<String, String> run) {
            this.folder = folder;
            this.plan = plan;
            this.run = run;
        }

        @Override
        public void onEpochEnd(Learner learner, EpochRecord record) {
            TrainingState state = learner.state();
            JsonObject manifest = new JsonObject();
            manifest.addProperty("format", FORMAT);
            manifest.addProperty("formatVersion", FORMAT_VERSION);
            manifest.addProperty("complete", false);
            JsonObject position = new JsonObject();
            position.addProperty("phase", record.phase().id());
            position.addProperty("stage", state.stage());
            position.addProperty("epoch", record.epoch() + 1);
            position.addProperty("epochs", plan.stages().get(state.stage()).epochs());
            position.addProperty("planEpochs", plan.epochs());
            position.addProperty("epochsSeen", state.epochsSeen());
            position.addProperty("iterations", state.iterations());
            position.addProperty("frozenGroups", state.frozenGroups());
            manifest.add("position", position);
            JsonObject smooth = new JsonObject();
            smooth.addProperty("raw", state.smoothing().raw());
            smooth.addProperty("count", state.smoothing().count());
            manifest.add("smoothLoss", smooth);
            JsonObject runJson = new JsonObject();
            run.forEach(runJson::addProperty);
            manifest.add("run", runJson);
            JsonArray history = new JsonArray();
            for (EpochRecord r : state.history()) {
                JsonObject row = new JsonObject();
                row.addProperty("phase", r.phase().id());
                row.addProperty("epoch", r.epoch());
                row.add("trainLoss", json(r.trainLoss()));
                row.add("validLoss", json(r.validLoss()));
                row.add("errorRate", json(r.errorRate()));
                row.add("seconds", json(r.seconds()));
                row.add("trainImagesPerSecond", json(r.trainImagesPerSecond()));
                row.add("validSeconds", json(r.validSeconds()));
                row.addProperty("residentBytes", r.residentBytes());
                history.add(row);
            }
            manifest.add("history", history);
            LibraryVersions versions = LibraryVersions.current();
            JsonObject library = new JsonObject();
            library.addProperty("tuna", versions.tuna());
            library.addProperty("djl", versions.djl());
            library.addProperty("pytorch", versions.pytorch());
            manifest.add("library", library);
            manifest.addProperty("threads", Threads.intraOp());
            CheckpointStore.write(folder, learner.network(), state, manifest);
        }

        /** Marks the last checkpoint of this run complete. */
        void complete() {
            if (exists(folder)) {
                JsonObject manifest = read(folder).manifest;
                manifest.addProperty("complete", true);
                CheckpointStore.writeManifest(folder, manifest);
            }
        }
    }

    private static JsonElement json(double value) {
        return Double.isFinite(value) ? new com.google.gson.JsonPrimitive(value) : JsonNull.INSTANCE;
    }

    private static double number(JsonObject object, String name) {
        JsonElement element = Objects.requireNonNull(object.get(name), name);
        return element.isJsonNull() ? Double.NaN : element.getAsDouble();
    }
}
