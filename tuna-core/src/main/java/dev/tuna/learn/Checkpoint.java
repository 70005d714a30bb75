package dev.tuna.learn;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuna.TunaException;
import dev.tuna.data.DataLoader;
import dev.tuna.data.ImageItem;
import dev.tuna.inference.LibraryVersions;
import dev.tuna.model.weights.SafetensorsWriter;
import dev.tuna.internal.engine.Threads;
import dev.tuna.internal.io.AtomicFiles;
import dev.tuna.internal.io.Digests;
import dev.tuna.internal.nn.Arrays2;
import dev.tuna.internal.train.FastAdam;
import dev.tuna.model.weights.DType;
import dev.tuna.model.weights.SafetensorsReader;
import dev.tuna.model.weights.Tensor;
import dev.tuna.model.weights.WeightFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

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

    private static final String STATE_PREFIX = "state-";
    private static final String STATE_SUFFIX = ".safetensors";
    private static final int STEP_FIELDS = 5;

    private final Path folder;
    private final JsonObject manifest;
    private final boolean complete;
    private final Phase phase;
    private final int phaseEpoch;
    private final int phaseEpochs;
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
        if (phase == Phase.FIT) {
            throw new IllegalStateException("unknown phase '" + phase + "'");
        }
        Map<String, String> fields = new LinkedHashMap<>();
        manifest.getAsJsonObject("run").entrySet().forEach(e -> fields.put(e.getKey(), e.getValue().getAsString()));
        this.run = Map.copyOf(fields);
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
            throw damaged(folder, "cannot read " + MANIFEST + " (" + e + ")", e);
        }
        JsonObject json;
        try {
            json = JsonParser.parseString(text).getAsJsonObject();
        } catch (RuntimeException e) {
            throw damaged(folder, MANIFEST + " is not valid JSON (" + text.length() + " characters: "
                    + e.getMessage() + ")", e);
        }
        String format = json.has("format") && json.get("format").isJsonPrimitive() ? json.get("format").getAsString() : null;
        if (!FORMAT.equals(format)) {
            throw damaged(folder, MANIFEST + " is not a Tuna checkpoint manifest (format " + format + ", expected "
                    + FORMAT + ")", null);
        }
        int version;
        try {
            version = json.get("formatVersion").getAsInt();
        } catch (RuntimeException e) {
            throw damaged(folder, MANIFEST + " has no valid formatVersion", e);
        }
        if (version > FORMAT_VERSION || version < 1) {
            throw new TunaException(TunaException.Kind.BAD_MODEL_FILE, "The checkpoint in " + folder + " has format"
                    + " version " + version + " but this Tuna reads version " + FORMAT_VERSION + ". Resume it with the"
                    + " Tuna that wrote it, or start a new run.");
        }
        try {
            return new Checkpoint(folder, json);
        } catch (RuntimeException e) {
            throw damaged(folder, MANIFEST + " is missing fields or has invalid values (" + e.getMessage() + ")", e);
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
            Files.deleteIfExists(folder.resolve(MANIFEST));
            for (Path file : list(folder)) {
                if (isOurs(file.getFileName().toString())) {
                    Files.deleteIfExists(file);
                }
            }
            if (list(folder).isEmpty()) {
                Files.deleteIfExists(folder);
            }
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
     * Returns the phase of the last complete epoch.
     *
     * @return {@link Phase#FROZEN} or {@link Phase#UNFROZEN}
     */
    public Phase phase() {
        return phase;
    }

    /**
     * Returns how many epochs of {@link #phase()} were complete.
     *
     * @return epochs done in the phase
     */
    public int phaseEpoch() {
        return phaseEpoch;
    }

    /**
     * Returns the number of epochs of {@link #phase()}.
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
            throw damaged(folder, MANIFEST + " has invalid fine-tuning settings (" + e.getMessage() + ")", e);
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
        int total = Integer.parseInt(run.getOrDefault("freezeEpochs", "0")) + Integer.parseInt(run.getOrDefault("epochs", "0"));
        return String.format(Locale.ROOT, "%d of %d epochs done (%s %d/%d)%s", history.size(), total, phase, phaseEpoch,
                phaseEpochs, complete ? ", training complete" : "");
    }

    // ------------------------------------------------------------------ package: used by Learner

    /** Forgets any checkpoint in {@code folder} so that a new run starts there. */
    static Resume start(Path folder) {
        delete(folder);
        return Resume.START;
    }

    /** What a resumed run must match, in a fixed order. */
    static Map<String, String> runOf(Learner learner, int epochs, FineTune settings) {
        Map<String, String> run = new LinkedHashMap<>();
        var spec = learner.data().spec();
        run.put("data", dataFingerprint(learner.data().train(), learner.data().valid()));
        run.put("classes", String.join(",", learner.data().classes()));
        run.put("architecture", learner.network().architecture().id());
        run.put("weights", learner.weights() == null ? "none" : learner.weights().name());
        run.put("head", learner.head().toString());
        run.put("size", Integer.toString(spec.size()));
        run.put("resize", spec.resizeMethod() + "/" + spec.padMode());
        run.put("normalization", spec.normalization().toString());
        run.put("batchSize", Integer.toString(spec.batchSize()));
        run.put("flip", Boolean.toString(spec.flip()));
        if (spec.augment() != null) {
            run.put("augment", spec.augment().toString());
        }
        for (Callback callback : learner.callbacks()) {
            if (callback instanceof BatchMix mix) {
                run.put(mix.id(), Double.toString(mix.alpha()));
            }
        }
        run.put("dataSeed", Long.toString(spec.seed()));
        run.put("seed", Long.toString(learner.seed()));
        run.put("optimizer", learner.optimizer().settings().toString());
        run.put("freezeMode", learner.freezeMode().id());
        run.put("epochs", Integer.toString(epochs));
        run.put("freezeEpochs", Integer.toString(settings.freezeEpochs()));
        run.put("baseLr", Double.toString(settings.baseLr()));
        run.put("lrMult", Double.toString(settings.lrMult()));
        run.put("pctStart", Double.toString(settings.pctStart()));
        run.put("div", Double.toString(settings.div()));
        return run;
    }

    /**
     * Checks the checkpoint in {@code folder} against this run, puts its state into the learner
     * (weights, running statistics, counters, records) and returns where training continues.
     */
    static Resume restore(Learner learner, Path folder, int epochs, FineTune settings) {
        Checkpoint checkpoint = read(folder);
        checkpoint.checkMatches(runOf(learner, epochs, settings));
        WeightFile state = checkpoint.readState();
        Map<String, Tensor> tensors = state.tensors();
        for (Map.Entry<String, Parameter> e : learner.network().parameters().entrySet()) {
            NDArray array = e.getValue().getArray();
            float[] values = checkpoint.floats(tensors, "model." + e.getKey(), array.getShape().getShape());
            Arrays2.copyInto(array, values);
        }
        JsonObject manifest = checkpoint.manifest;
        try {
            JsonObject position = manifest.getAsJsonObject("position");
            Map<String, Integer> steps = new HashMap<>();
            Map<String, float[]> averages = new HashMap<>();
            Map<String, float[]> squares = new HashMap<>();
            Map<String, long[]> shapes = new HashMap<>();
            learner.slots().forEach(s -> shapes.put(s.name(), s.parameter().getArray().getShape().getShape()));
            for (Map.Entry<String, JsonElement> e : manifest.getAsJsonObject("optimizerSteps").entrySet()) {
                String name = e.getKey();
                long[] shape = shapes.get(name);
                if (shape == null) {
                    throw new IllegalStateException("optimizer state for unknown parameter '" + name + "'");
                }
                steps.put(name, e.getValue().getAsInt());
                if (tensors.containsKey("adam.average." + name)) {
                    averages.put(name, checkpoint.floats(tensors, "adam.average." + name, shape));
                    squares.put(name, checkpoint.floats(tensors, "adam.squares." + name, shape));
                }
            }
            List<BatchRecord> records = new ArrayList<>();
            Tensor stepTensor = tensors.get("steps");
            if (stepTensor != null) {
                double[] values = stepTensor.toDoubles();
                if (stepTensor.rank() != 2 || stepTensor.shape()[1] != STEP_FIELDS) {
                    throw new IllegalStateException("steps tensor has shape " + Arrays.toString(stepTensor.shape()));
                }
                for (int i = 0; i + STEP_FIELDS <= values.length; i += STEP_FIELDS) {
                    records.add(new BatchRecord((long) values[i], values[i + 1], values[i + 2], values[i + 3],
                            values[i + 4]));
                }
            }
            learner.restoreProgress(position.get("epochsSeen").getAsInt(), position.get("iterations").getAsLong(),
                    checkpoint.history, records);
            JsonObject smooth = manifest.getAsJsonObject("smoothLoss");
            int phase = checkpoint.phase == Phase.FROZEN ? Resume.FROZEN : Resume.UNFROZEN;
            return new Resume(phase, checkpoint.phaseEpoch, smooth.get("raw").getAsDouble(),
                    smooth.get("count").getAsInt(), new FastAdam.Snapshot(steps, averages, squares),
                    checkpoint.complete);
        } catch (TunaException e) {
            throw e;
        } catch (RuntimeException e) {
            throw damaged(folder, "its state does not fit the network (" + e.getMessage() + ")", e);
        }
    }

    /** Writes a checkpoint at the end of every epoch of the fine-tuning it is attached to. */
    static final class Writer implements Callback {
        private final Path folder;
        private final Map<String, String> run;
        private int phaseEpochs;

        Writer(Path folder, Map<String, String> run) {
            this.folder = folder;
            this.run = run;
        }

        @Override
        public void onFitStart(Learner learner, Phase phase, int epochs, int batchesPerEpoch) {
            phaseEpochs = epochs;
        }

        @Override
        public void onEpochEnd(Learner learner, EpochRecord record) {
            write(learner, record.phase(), record.epoch() + 1);
        }

        /** Marks the last checkpoint of this run complete. */
        void complete(Learner learner) {
            if (!exists(folder)) {
                return;
            }
            JsonObject manifest = read(folder).manifest;
            manifest.addProperty("complete", true);
            try {
                AtomicFiles.write(folder.resolve(MANIFEST), manifest.toString().getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw cannotWrite(folder, e);
            }
        }

        private void write(Learner learner, Phase phase, int phaseEpoch) {
            try {
                Files.createDirectories(folder);
                List<Tensor> tensors = new ArrayList<>();
                for (Map.Entry<String, Parameter> e : learner.network().parameters().entrySet()) {
                    NDArray array = e.getValue().getArray();
                    tensors.add(Tensor.ofFloats("model." + e.getKey(), array.getShape().getShape(), array.toFloatArray()));
                }
                FastAdam.Snapshot optimizer = learner.optimizer().snapshot();
                Map<String, long[]> shapes = new HashMap<>();
                learner.slots().forEach(s -> shapes.put(s.name(), s.parameter().getArray().getShape().getShape()));
                JsonObject optimizerSteps = new JsonObject();
                for (FastAdam.Slot slot : learner.slots()) { // network order, for a stable file
                    String name = slot.name();
                    if (!optimizer.steps().containsKey(name)) {
                        continue;
                    }
                    optimizerSteps.addProperty(name, optimizer.steps().get(name));
                    if (optimizer.averages().containsKey(name)) {
                        tensors.add(Tensor.ofFloats("adam.average." + name, shapes.get(name), optimizer.averages().get(name)));
                        tensors.add(Tensor.ofFloats("adam.squares." + name, shapes.get(name), optimizer.squares().get(name)));
                    }
                }
                List<BatchRecord> steps = learner.steps();
                if (!steps.isEmpty()) {
                    ByteBuffer bytes = ByteBuffer.allocate(steps.size() * STEP_FIELDS * Double.BYTES)
                            .order(ByteOrder.LITTLE_ENDIAN);
                    for (BatchRecord r : steps) {
                        bytes.putDouble(r.iteration()).putDouble(r.loss()).putDouble(r.smoothLoss())
                                .putDouble(r.learningRate()).putDouble(r.momentum());
                    }
                    tensors.add(Tensor.of("steps", DType.F64, new long[] {steps.size(), STEP_FIELDS}, bytes.array()));
                }
                String name = String.format(Locale.ROOT, "%s%d-%08x%s", STATE_PREFIX, learner.epochsSeen(),
                        ThreadLocalRandom.current().nextInt(), STATE_SUFFIX);
                Path stateFile = folder.resolve(name);
                SafetensorsWriter.write(stateFile, tensors, Map.of("format", FORMAT));

                JsonObject manifest = new JsonObject();
                manifest.addProperty("format", FORMAT);
                manifest.addProperty("formatVersion", FORMAT_VERSION);
                manifest.addProperty("complete", false);
                JsonObject position = new JsonObject();
                position.addProperty("phase", phase.id());
                position.addProperty("epoch", phaseEpoch);
                position.addProperty("epochs", phaseEpochs);
                position.addProperty("epochsSeen", learner.epochsSeen());
                position.addProperty("iterations", learner.iterations());
                position.addProperty("frozenGroups", learner.frozenGroups());
                manifest.add("position", position);
                JsonObject smooth = new JsonObject();
                smooth.addProperty("raw", learner.smoothing().raw());
                smooth.addProperty("count", learner.smoothing().count());
                manifest.add("smoothLoss", smooth);
                manifest.add("optimizerSteps", optimizerSteps);
                JsonObject runJson = new JsonObject();
                run.forEach(runJson::addProperty);
                manifest.add("run", runJson);
                JsonArray history = new JsonArray();
                for (EpochRecord r : learner.history()) {
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
                JsonObject stateJson = new JsonObject();
                stateJson.addProperty("file", name);
                stateJson.addProperty("bytes", Files.size(stateFile));
                stateJson.addProperty("sha256", Digests.sha256Hex(stateFile));
                manifest.add("state", stateJson);
                LibraryVersions versions = LibraryVersions.current();
                JsonObject library = new JsonObject();
                library.addProperty("tuna", versions.tuna());
                library.addProperty("djl", versions.djl());
                library.addProperty("pytorch", versions.pytorch());
                manifest.add("library", library);
                manifest.addProperty("threads", Threads.intraOp());
                AtomicFiles.write(folder.resolve(MANIFEST), manifest.toString().getBytes(StandardCharsets.UTF_8));
                for (Path file : list(folder)) { // older state files and leftovers of interrupted writes
                    String other = file.getFileName().toString();
                    if (isOurs(other) && !other.equals(name)) {
                        Files.deleteIfExists(file);
                    }
                }
            } catch (IOException e) {
                throw cannotWrite(folder, e);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private void checkMatches(Map<String, String> now) {
        List<String> differences = new ArrayList<>();
        Set<String> keys = new LinkedHashSet<>(now.keySet());
        keys.addAll(run.keySet());
        for (String key : keys) {
            String then = run.getOrDefault(key, "(not recorded)");
            String current = now.getOrDefault(key, "(not recorded)");
            if (!then.equals(current)) {
                differences.add(key + ": checkpoint " + then + ", now " + current);
            }
        }
        if (!differences.isEmpty()) {
            throw TunaException.usage("The checkpoint in " + folder + " is from a different run, so it cannot be"
                    + " resumed: " + String.join("; ", differences) + ". Resume with the data and options of the"
                    + " interrupted run, or start a new run without --resume (which replaces the checkpoint).");
        }
    }

    private WeightFile readState() {
        String name;
        long bytes;
        String sha;
        try {
            JsonObject state = manifest.getAsJsonObject("state");
            name = state.get("file").getAsString();
            bytes = state.get("bytes").getAsLong();
            sha = state.get("sha256").getAsString();
        } catch (RuntimeException e) {
            throw damaged(folder, MANIFEST + " does not name its state file (" + e.getMessage() + ")", e);
        }
        if (!isState(name) || name.contains("/") || name.contains("\\")) {
            throw damaged(folder, MANIFEST + " names an invalid state file '" + name + "'", null);
        }
        Path file = folder.resolve(name);
        try {
            long size = Files.size(file);
            if (size != bytes) {
                throw damaged(folder, "the state file " + name + " has " + size + " bytes, expected " + bytes
                        + " (truncated?)", null);
            }
            String actual = Digests.sha256Hex(file);
            if (!actual.equals(sha)) {
                throw damaged(folder, "the state file " + name + " does not match its checksum (SHA-256 " + actual
                        + ", expected " + sha + ")", null);
            }
        } catch (NoSuchFileException e) {
            throw damaged(folder, "its state file " + name + " is missing", e);
        } catch (IOException e) {
            throw damaged(folder, "cannot read its state file " + name + " (" + e + ")", e);
        }
        try {
            return SafetensorsReader.read(file);
        } catch (TunaException e) {
            throw damaged(folder, "its state file cannot be read (" + e.getMessage() + ")", e);
        }
    }

    private float[] floats(Map<String, Tensor> tensors, String name, long[] shape) {
        Tensor tensor = tensors.get(name);
        if (tensor == null) {
            throw damaged(folder, "its state file has no tensor '" + name + "'", null);
        }
        if (!Arrays.equals(tensor.shape(), shape)) {
            throw damaged(folder, "tensor '" + name + "' has shape " + Arrays.toString(tensor.shape()) + ", the"
                    + " network needs " + Arrays.toString(shape), null);
        }
        return tensor.toFloats();
    }

    /** Item paths, labels and file sizes of both splits, hashed: any change to the data shows. */
    private static String dataFingerprint(DataLoader train, DataLoader valid) {
        MessageDigest digest = Digests.sha256();
        for (DataLoader loader : List.of(train, valid)) {
            digest.update((loader.name() + "\n").getBytes(StandardCharsets.UTF_8));
            for (ImageItem item : loader.items()) {
                long size;
                try {
                    size = Files.size(item.path());
                } catch (IOException e) {
                    size = -1;
                }
                digest.update((item.relativePath() + "\t" + item.label() + "\t" + size + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
        String hex = HexFormat.of().formatHex(digest.digest()).substring(0, 16);
        return train.size() + " training + " + valid.size() + " validation images (" + hex + ")";
    }

    private static boolean isState(String name) {
        return name.startsWith(STATE_PREFIX) && name.endsWith(STATE_SUFFIX);
    }

    /** Files a checkpoint writes: state files and the hidden temporaries of interrupted writes. */
    private static boolean isOurs(String name) {
        return isState(name) || name.startsWith("." + STATE_PREFIX) && name.contains(".tmp-")
                || name.startsWith("." + MANIFEST + ".tmp-");
    }

    private static List<Path> list(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.toList();
        }
    }

    private static JsonElement json(double value) {
        return Double.isFinite(value) ? new com.google.gson.JsonPrimitive(value) : JsonNull.INSTANCE;
    }

    private static double number(JsonObject object, String name) {
        JsonElement element = Objects.requireNonNull(object.get(name), name);
        return element.isJsonNull() ? Double.NaN : element.getAsDouble();
    }

    private static TunaException damaged(Path folder, String what, Throwable cause) {
        return new TunaException(TunaException.Kind.BAD_MODEL_FILE, "The checkpoint in " + folder + " is damaged: "
                + what + ". It cannot be resumed; delete the folder and start a new run (without --resume).", cause);
    }

    private static TunaException cannotWrite(Path folder, IOException e) {
        return new TunaException(TunaException.Kind.RUNTIME, "Cannot write the checkpoint to " + folder + " (" + e
                + "); check that the folder is writable and has free space.", e);
    }
}
