package dev.tuna.learn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import dev.tuna.TunaException;
import dev.tuna.data.DataLoader;
import dev.tuna.data.ImageItem;
import dev.tuna.data.Split;
import dev.tuna.data.Splitter;
import dev.tuna.inference.ArtifactMetadata;
import dev.tuna.inference.ModelArtifact;
import dev.tuna.inference.Predictions;
import dev.tuna.internal.engine.ProcessMemory;
import dev.tuna.internal.engine.TorchRandom;
import dev.tuna.internal.nn.Numerics;
import dev.tuna.internal.train.FastAdam;
import dev.tuna.model.LoadMode;
import dev.tuna.model.LoadReport;
import dev.tuna.model.Network;
import dev.tuna.model.weights.WeightFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * fast.ai's head trained on body features computed elsewhere (e.g. on a Spark cluster by
 * {@code dev.tuna.spark.Featurize}), on one machine: exactly the cached frozen phase of
 * {@code fineTune} under {@link FreezeMode#FROZEN_BN} — the same seeded 80/20 split of the rows in sorted
 * path order ({@link Splitter#random}), the training loader's epoch order ({@link DataLoader#trainingOrder},
 * last partial batch dropped), the head's seeded initialisation and dropout, Adam with fast.ai's settings
 * and {@code fit_one_cycle(epochs, slice(baseLr), pct_start=0.99)} — then a normal model with the base
 * model's body and the new head.
 *
 * <pre>{@code
 * try (FeatureHead head = FeatureHead.train(Path.of("base.tuna"), rows, FeatureHead.Settings.DEFAULTS)) {
 *     head.history().forEach(System.out::println);
 *     head.export(Path.of("flowers.tuna"), false);
 * }
 * }</pre>
 *
 * <p>The body comes from {@code baseModel}, the model the features were computed with: its architecture,
 * weights and batch-norm statistics, input size, resize method and normalisation. Its own head and
 * classes are ignored. Owns native memory: close it.
 */
public final class FeatureHead implements AutoCloseable {
    /**
     * How the head trains.
     *
     * @param epochs frozen-phase epochs ({@code fine_tune}'s {@code freeze_epochs}; fast.ai: 1)
     * @param validPct the validation fraction of the random split, in [0, 1)
     * @param seed the seed of the split, the epoch order, the head's initialisation and dropout
     * @param batchSize rows per training step
     * @param baseLr {@code fine_tune}'s base learning rate (the head trains at it)
     * @param labelSmoothing the loss's label smoothing, 0 for plain cross-entropy
     */
    public record Settings(int epochs, double validPct, long seed, int batchSize, double baseLr,
            double labelSmoothing) {
        /** fast.ai's: one epoch, 20% validation, seed 42, batches of 64, base rate 2e-3, no smoothing. */
        public static final Settings DEFAULTS = new Settings(1, 0.2, 42, 64, FineTune.DEFAULT.baseLr(), 0);

        /**
         * Validates.
         *
         * @param epochs epochs, at least 1
         * @param validPct the validation fraction
         * @param seed the seed
         * @param batchSize rows per step, at least 1
         * @param baseLr the base learning rate, positive
         * @param labelSmoothing in [0, 1)
         */
        public Settings {
            if (epochs < 1) {
                throw TunaException.usage("The number of head epochs must be at least 1; found " + epochs + ".");
            }
            if (batchSize < 1) {
                throw TunaException.usage("The batch size must be positive; found " + batchSize + ".");
            }
            if (!(baseLr > 0)) {
                throw TunaException.usage("The learning rate must be positive; found " + baseLr + ".");
            }
            if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
                throw TunaException.usage("Label smoothing must be in [0, 1); found " + labelSmoothing + ".");
            }
            Splitter.random(validPct, seed); // validates the fraction
        }

        /**
         * Returns a copy with another value.
         *
         * @param value epochs
         * @return a copy with them
         */
        public Settings withEpochs(int value) {
            return new Settings(value, validPct, seed, batchSize, baseLr, labelSmoothing);
        }

        /**
         * Returns a copy with another value.
         *
         * @param value the validation fraction
         * @return a copy with it
         */
        public Settings withValidPct(double value) {
            return new Settings(epochs, value, seed, batchSize, baseLr, labelSmoothing);
        }

        /**
         * Returns a copy with another value.
         *
         * @param value the seed
         * @return a copy with it
         */
        public Settings withSeed(long value) {
            return new Settings(epochs, validPct, value, batchSize, baseLr, labelSmoothing);
        }

        /**
         * Returns a copy with another value.
         *
         * @param value the batch size
         * @return a copy with it
         */
        public Settings withBatchSize(int value) {
            return new Settings(epochs, validPct, seed, value, baseLr, labelSmoothing);
        }

        /**
         * Returns a copy with another value.
         *
         * @param value the base learning rate
         * @return a copy with it
         */
        public Settings withBaseLr(double value) {
            return new Settings(epochs, validPct, seed, batchSize, value, labelSmoothing);
        }

        /**
         * Returns a copy with another value.
         *
         * @param value the label smoothing
         * @return a copy with it
         */
        public Settings withLabelSmoothing(double value) {
            return new Settings(epochs, validPct, seed, batchSize, baseLr, value);
        }
    }

    private final ArtifactMetadata base;
    private final Settings settings;
    private final List<String> classes;
    private final NDManager manager;
    private final Network network;
    private final float[][] train;
    private final int[] trainTargets;
    private final float[][] valid;
    private final int[] validTargets;
    private final List<Path> validPaths;
    private final List<EpochRecord> history = new ArrayList<>();
    private Predictions lastValidation;

    private FeatureHead(ArtifactMetadata base, Settings settings, List<String> classes, NDManager manager,
            Network network, List<FeatureRow> trainRows, List<FeatureRow> validRows) {
        this.base = base;
        this.settings = settings;
        this.classes = classes;
        this.manager = manager;
        this.network = network;
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < classes.size(); i++) {
            index.put(classes.get(i), i);
        }
        this.train = trainRows.stream().map(FeatureRow::features).toArray(float[][]::new);
        this.trainTargets = trainRows.stream().mapToInt(r -> index.get(r.label())).toArray();
        this.valid = validRows.stream().map(FeatureRow::features).toArray(float[][]::new);
        this.validTargets = validRows.stream().mapToInt(r -> index.get(r.label())).toArray();
        this.validPaths = validRows.stream().map(r -> Path.of(r.path().replace('\0', '_'))).toList();
    }

    /**
     * Trains the head on feature rows.
     *
     * @param baseModel the model folder the features were computed with (its body is kept)
     * @param rows the labelled features, in any order
     * @param settings the split and schedule
     * @return the trained head, ready to {@link #export}
     * @throws TunaException ({@code BAD_DATA}) when the rows are fewer than two classes, of the wrong width
     *     for the body, or leave a class without training rows; ({@code BAD_MODEL_FILE}) for a bad base model
     */
    public static FeatureHead train(Path baseModel, List<FeatureRow> rows, Settings settings) {
        Objects.requireNonNull(settings, "settings");
        ModelArtifact artifact = ModelArtifact.read(baseModel);
        ArtifactMetadata meta = artifact.metadata();
        List<FeatureRow> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparing(FeatureRow::path));
        List<String> classes = sorted.stream().map(FeatureRow::label).distinct().sorted().toList();
        if (classes.size() < 2) {
            throw TunaException.badData("Training a classifier needs at least two classes; the " + sorted.size()
                    + " feature rows have " + classes + ". Expected one folder per class under the featurized root.");
        }
        List<ImageItem> items = sorted.stream().map(r -> new ImageItem(Path.of(""), r.path(), r.label())).toList();
        Split split = Splitter.random(settings.validPct(), settings.seed()).split(items);
        List<FeatureRow> trainRows = pick(sorted, split.train());
        List<FeatureRow> validRows = pick(sorted, split.valid());
        for (String c : classes) {
            if (trainRows.stream().noneMatch(r -> r.label().equals(c))) {
                throw TunaException.badData("The class '" + c + "' has no training rows after the "
                        + Math.round(settings.validPct() * 100) + "% validation split; add images of it or"
                        + " lower the validation fraction.");
            }
        }
        NDManager manager = NDManager.newBaseManager();
        try {
            Network network = Network.transfer(meta.architecture(), meta.head(), classes.size(), meta.tfSamePadding(),
                    manager, settings.seed());
            LoadReport report = network.load(WeightFiles.read(artifact.weightsFile()), LoadMode.PARTIAL);
            List<String> bodyMissing = report.missing().stream().filter(n -> !n.startsWith("head.")).toList();
            if (!bodyMissing.isEmpty() || report.mismatched().stream().anyMatch(n -> !n.startsWith("head."))) {
                throw new TunaException(TunaException.Kind.BAD_MODEL_FILE, "The base model " + baseModel
                        + " does not hold a whole " + meta.architecture().id() + " body (missing " + bodyMissing
                        + ", mismatched " + report.mismatched() + "); export it again.");
            }
            int width = 2 * meta.architecture().bodyChannels();
            for (FeatureRow r : sorted) {
                if (r.features().length != width) {
                    throw TunaException.badData(String.format(Locale.ROOT, "The features of %s have %d values;"
                            + " the %s body of %s gives %d. Compute the features with this base model.",
                            r.path(), r.features().length, meta.architecture().id(), baseModel, width));
                }
            }
            FeatureHead head = new FeatureHead(meta, settings, classes, manager, network, trainRows, validRows);
            head.fit();
            return head;
        } catch (RuntimeException | Error e) {
            manager.close();
            throw e;
        }
    }

    private static List<FeatureRow> pick(List<FeatureRow> rows, int[] positions) {
        List<FeatureRow> out = new ArrayList<>(positions.length);
        for (int p : positions) {
            out.add(rows.get(p));
        }
        return out;
    }

    /** fine_tune's frozen stage on the cached rows, as the training loop runs it. */
    private void fit() {
        int perEpoch = train.length / settings.batchSize();
        if (perEpoch == 0) {
            throw TunaException.badData("There are " + train.length + " training rows, fewer than one batch of "
                    + settings.batchSize() + "; lower the batch size or add images.");
        }
        Numerics.current().checkTraining();
        Stage stage = FineTune.DEFAULT.withBaseLr(settings.baseLr()).withFreezeEpochs(settings.epochs()).plan(1)
                .stages().get(0);
        List<FastAdam.Slot> slots = FastAdam.slots(network.parameters(), network::group, network::isNorm);
        for (FastAdam.Slot slot : slots) {
            slot.parameter().freeze(slot.group() < Learner.GROUPS - 1);
        }
        Loss loss = Loss.labelSmoothing(settings.labelSmoothing());
        SmoothedLoss smooth = new SmoothedLoss();
        Schedule[] lrs = stage.learningRates();
        long total = (long) stage.epochs() * perEpoch;
        long done = 0;
        int dimension = train[0].length;
        try (FastAdam optimizer = new FastAdam(manager, FastAdam.Settings.FASTAI)) {
            for (int epoch = 0; epoch < stage.epochs(); epoch++) {
                long start = System.nanoTime();
                long epochSeed = Resume.epochSeed(settings.seed(), epoch);
                TorchRandom.seed(epochSeed);
                network.seedStochasticDepth(epochSeed);
                int[] order = DataLoader.trainingOrder(train.length, settings.seed(), epoch);
                for (int b = 0; b < perEpoch; b++) {
                    double pos = (double) done / total;
                    double[] rates = new double[lrs.length];
                    for (int g = 0; g < rates.length; g++) {
                        rates[g] = lrs[g].at(pos);
                    }
                    double beta1 = stage.momentum().at(pos);
                    float[] x = new float[settings.batchSize() * dimension];
                    long[] y = new long[settings.batchSize()];
                    for (int i = 0; i < y.length; i++) {
                        int row = order[b * settings.batchSize() + i];
                        System.arraycopy(train[row], 0, x, i * dimension, dimension);
                        y[i] = trainTargets[row];
                    }
                    try (NDManager scope = network.newManager()) {
                        NDArray features = scope.create(x, new Shape(y.length, dimension));
                        NDArray targets = scope.create(y).oneHot(classes.size());
                        double value = TrainingLoop.step(() -> network.head(features, true), targets, loss, optimizer,
                                slots, rates, beta1);
                        if (!Double.isFinite(value)) {
                            throw new TunaException(TunaException.Kind.RUNTIME, "The training loss became " + value
                                    + "; the learning rate is probably too high. Lower it.");
                        }
                        smooth.add(value);
                    }
                    done++;
                }
                double trainSeconds = (System.nanoTime() - start) / 1e9;
                lastValidation = valid.length == 0 ? null : validate();
                double seconds = (System.nanoTime() - start) / 1e9;
                history.add(new EpochRecord(epoch, Phase.FROZEN, smooth.value(),
                        lastValidation == null ? Double.NaN : lastValidation.meanLoss(),
                        lastValidation == null ? Double.NaN : lastValidation.errorRate(), seconds,
                        perEpoch * settings.batchSize() / trainSeconds, seconds - trainSeconds,
                        ProcessMemory.residentBytes()));
            }
        }
    }

    private Predictions validate() {
        int dimension = valid[0].length;
        float[][] probabilities = new float[valid.length][];
        for (int from = 0; from < valid.length; from += settings.batchSize()) {
            int n = Math.min(valid.length, from + settings.batchSize()) - from;
            float[] x = new float[n * dimension];
            for (int i = 0; i < n; i++) {
                System.arraycopy(valid[from + i], 0, x, i * dimension, dimension);
            }
            try (NDManager scope = network.newManager()) {
                float[] p = network.head(scope.create(x, new Shape(n, dimension)), false).softmax(1).toFloatArray();
                for (int i = 0; i < n; i++) {
                    probabilities[from + i] = java.util.Arrays.copyOfRange(p, i * classes.size(),
                            (i + 1) * classes.size());
                }
            }
        }
        return Predictions.of(classes, validPaths, probabilities, validTargets);
    }

    /**
     * Returns the epoch table.
     *
     * @return one frozen-phase record per epoch
     */
    public List<EpochRecord> history() {
        return List.copyOf(history);
    }

    /**
     * Returns the classes, sorted.
     *
     * @return the vocabulary of the rows' labels
     */
    public List<String> classes() {
        return classes;
    }

    /**
     * Returns how many rows trained.
     *
     * @return the training side of the split
     */
    public int trainSize() {
        return train.length;
    }

    /**
     * Returns the last epoch's predictions on the validation rows.
     *
     * @return the predictions, or null when the validation fraction is 0
     */
    public Predictions validation() {
        return lastValidation;
    }

    /**
     * Writes the model: the base model's body and input description with the trained head and the
     * rows' classes, as {@link Learner#export} does (atomically; an existing folder is replaced only
     * when {@code overwrite} is set).
     *
     * @param directory the artifact folder
     * @param overwrite whether to replace an existing artifact
     * @return the artifact
     */
    public ModelArtifact export(Path directory, boolean overwrite) {
        JsonObject training = new JsonObject();
        training.addProperty("freezeMode", FreezeMode.FROZEN_BN.id());
        training.addProperty("source", "body features (FeatureHead)");
        training.addProperty("labelSmoothing", settings.labelSmoothing());
        training.addProperty("trainImages", train.length);
        training.addProperty("validImages", valid.length);
        training.addProperty("batchSize", settings.batchSize());
        training.addProperty("dataSeed", settings.seed());
        training.addProperty("plan", "fine_tune frozen stage: " + settings.epochs() + " epoch(s), base lr "
                + settings.baseLr());
        training.add("history", ArtifactRecord.history(history));
        ArtifactMetadata meta = ArtifactMetadata.of(base.architecture(), classes, base.inputSize(),
                base.resizeMethod(), base.padMode(), base.normalization(), base.tfSamePadding(), base.head(),
                settings.seed(), training);
        return ModelArtifact.write(directory, network, meta, overwrite);
    }

    /** Frees the network. */
    @Override
    public void close() {
        network.close();
        manager.close();
    }
}
