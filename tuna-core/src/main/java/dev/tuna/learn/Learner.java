package dev.tuna.learn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.tuna.ProgressListener;
import dev.tuna.TunaException;
import dev.tuna.data.Batch;
import dev.tuna.data.BatchIterator;
import dev.tuna.data.DataLoader;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageItem;
import dev.tuna.inference.ArtifactMetadata;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.ClassifierOptions;
import dev.tuna.inference.Evaluation;
import dev.tuna.inference.Predictions;
import dev.tuna.internal.engine.ProcessMemory;
import dev.tuna.internal.engine.TorchRandom;
import dev.tuna.internal.train.FastAdam;
import dev.tuna.model.Architecture;
import dev.tuna.model.BatchNormRecalibration;
import dev.tuna.model.HeadSpec;
import dev.tuna.model.LoadMode;
import dev.tuna.model.Network;
import dev.tuna.model.PretrainedWeights;
import dev.tuna.model.WeightCatalog;
import dev.tuna.model.weights.WeightFiles;
import dev.tuna.transform.AugTransforms;
import dev.tuna.transform.Tta;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Owns a network, its optimizer and its data, and trains it with fast.ai's policies:
 * {@link #freeze()}/{@link #unfreeze()}, discriminative learning rates, {@link #fitOneCycle} and
 * {@link #fineTune(int)}.
 *
 * <pre>{@code
 * try (Learner learner = Learner.vision(data, Architecture.RESNET18)) {
 *     learner.fineTune(3);
 *     System.out.println(learner.evaluate(Path.of("test")).accuracyLine("Test"));
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one thread trains. Every batch runs in its own {@link NDManager} scope that is
 * closed even when a step fails, so native memory stays flat across epochs.
 */
public final class Learner implements AutoCloseable {
    /** Parameter groups: early body, late body, head. */
    public static final int GROUPS = 3;

    private DataLoaders data;
    private DataLoaders resized; // loaders this learner made itself (resize), closed with it
    private final Network network;
    private final PretrainedWeights weights;
    private final NDManager manager;
    private final FastAdam optimizer;
    private final List<FastAdam.Slot> slots = new ArrayList<>();
    private final List<Callback> callbacks;
    private final List<EpochRecord> history = new ArrayList<>();
    private final List<BatchRecord> steps = new ArrayList<>();
    private final double labelSmoothing;
    private final Loss loss;
    private int stepEpoch; // where the current training step is, for callbacks' draws
    private int stepBatch;
    private final long seed;
    private final HeadSpec head;
    private final FreezeMode freezeMode;
    private int epochsSeen;
    private long iterations;
    private volatile boolean stopRequested;
    private int frozenGroups;
    private SmoothLoss smoothing; // the current fit's smoothed loss, for checkpoints

    private Learner(Builder builder) {
        this.data = builder.data;
        this.weights = builder.weights;
        this.labelSmoothing = builder.labelSmoothing;
        this.loss = Loss.labelSmoothing(builder.labelSmoothing);
        this.seed = builder.seed;
        this.head = builder.head;
        this.freezeMode = builder.freezeMode;
        this.callbacks = new ArrayList<>(builder.callbacks);
        if (builder.console != null) {
            callbacks.add(0, new ConsoleReporter(builder.console, builder.terminal));
        }
        this.manager = NDManager.newBaseManager();
        try {
            Architecture arch = builder.architecture;
            boolean tfSame = weights != null && weights.tfSamePadding();
            this.network = Network.transfer(arch, head, data.classes().size(), tfSame, manager, seed);
            this.optimizer = new FastAdam(manager, builder.optimizer);
            for (Map.Entry<String, Parameter> e : network.parameters().entrySet()) {
                String name = e.getKey();
                if (name.endsWith(".running_mean") || name.endsWith(".running_var")) {
                    continue;
                }
                boolean decay = !network.isBatchNorm(name) && !name.endsWith(".bias");
                slots.add(new FastAdam.Slot(name, e.getValue(), network.group(name), decay));
            }
            if (weights != null) {
                loadPretrained(builder);
                freeze();
            }
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private void loadPretrained(Builder builder) {
        if (!data.spec().normalization().equals(weights.normalization())) {
            throw TunaException.usage("The weights '" + weights.name() + "' expect inputs normalised with "
                    + weights.normalization() + " but the data uses " + data.spec().normalization()
                    + ". Build the data with .normalize(" + "weights.normalization()).");
        }
        Path file = builder.weightsFile != null ? builder.weightsFile
                : builder.catalog.resolve(weights);
        network.load(WeightFiles.read(file), LoadMode.BODY);
        if (weights.foldedBatchNorm()) {
            recalibrate(builder.recalibrationImages);
        }
    }

    /** Measures batch-norm statistics on training images (evaluation mode, no augmentation). */
    private void recalibrate(int images) {
        DataLoader train = data.train();
        try (BatchNormRecalibration recalibration = BatchNormRecalibration.start(network);
             BatchIterator batches = train.iterate(manager, -1)) {
            int seen = 0;
            while (seen < images && batches.hasNext()) {
                try (Batch batch = batches.next()) {
                    recalibration.measure(batch.images());
                    seen += batch.size();
                }
            }
            recalibration.finish();
        }
    }

    /**
     * Starts building a learner for image classification on {@code data}.
     *
     * @param data the data
     * @return a builder
     */
    public static Builder builder(DataLoaders data) {
        return new Builder(data);
    }

    /**
     * fast.ai's {@code vision_learner(dls, arch)}: the architecture's default ImageNet weights (from the
     * cache, downloaded when missing), fast.ai's head, the body frozen, progress printed to stdout.
     *
     * @param data the data (normalised as the weights expect)
     * @param architecture the architecture
     * @return the learner
     */
    public static Learner vision(DataLoaders data, Architecture architecture) {
        return builder(data).architecture(architecture).build();
    }

    // ------------------------------------------------------------------ policies

    /** fast.ai's {@code freeze()}: only the last group and every batch norm's affine parameters train. */
    public void freeze() {
        freezeTo(GROUPS - 1);
    }

    /** fast.ai's {@code unfreeze()}: every parameter trains. */
    public void unfreeze() {
        freezeTo(0);
    }

    /**
     * Freezes the first {@code groups} parameter groups (batch-norm parameters keep training, as
     * fast.ai's {@code train_bn}) and clears the optimizer state.
     *
     * @param groups how many groups to freeze, 0 to {@link #GROUPS} − 1
     */
    public void freezeTo(int groups) {
        if (groups < 0 || groups >= GROUPS) {
            throw TunaException.usage("freezeTo takes 0 to " + (GROUPS - 1) + " groups; found " + groups + ".");
        }
        for (FastAdam.Slot slot : slots) {
            boolean trains = slot.group() >= groups
                    || (freezeMode == FreezeMode.TRAIN_BN && network.isBatchNorm(slot.name()));
            slot.parameter().freeze(!trains);
        }
        frozenGroups = groups;
        optimizer.clearState();
    }

    /**
     * Returns the number of frozen parameter groups.
     *
     * @return 0 when unfrozen, 2 when frozen
     */
    public int frozenGroups() {
        return frozenGroups;
    }

    /**
     * Returns the names of the parameters that currently train.
     *
     * @return names in network order
     */
    public List<String> trainableParameters() {
        return slots.stream().filter(s -> s.parameter().requiresGradient()).map(FastAdam.Slot::name).toList();
    }

    /**
     * fast.ai's {@code fine_tune(epochs)} with its defaults (base learning rate 2e-3, one frozen epoch).
     *
     * @param epochs unfrozen epochs
     */
    public void fineTune(int epochs) {
        fineTune(epochs, FineTune.DEFAULT);
    }

    /**
     * fast.ai's {@code fine_tune}.
     *
     * @param epochs unfrozen epochs
     * @param settings the schedule settings
     */
    public void fineTune(int epochs, FineTune settings) {
        fineTune(epochs, settings, Resume.START);
    }

    /**
     * fast.ai's {@code fine_tune} that can survive being killed: after every epoch the whole training
     * state is written to {@code checkpoint} (see {@link Checkpoint}), atomically. With {@code resume},
     * the run continues from the checkpoint's last complete epoch — in either phase or between them —
     * and ends as the uninterrupted run would; the checkpoint must come from the same data and
     * settings. Without {@code resume}, a checkpoint already in the folder is replaced. When the run
     * ends, the checkpoint is marked complete (resuming it again trains nothing); delete it with
     * {@link Checkpoint#delete(Path)} once the model is exported.
     *
     * <pre>{@code
     * Path folder = Checkpoint.defaultFolder(Path.of("flowers.tuna"));
     * learner.fineTune(3, FineTune.DEFAULT, folder, Checkpoint.exists(folder));
     * learner.export(Path.of("flowers.tuna"), false);
     * Checkpoint.delete(folder);
     * }</pre>
     *
     * @param epochs unfrozen epochs
     * @param settings the schedule settings
     * @param checkpoint the checkpoint folder (created if needed)
     * @param resume whether to continue from the checkpoint in that folder
     * @throws TunaException ({@code USAGE}) when resuming without a checkpoint or from another run's;
     *     ({@code BAD_MODEL_FILE}) when the checkpoint is damaged
     */
    public void fineTune(int epochs, FineTune settings, Path checkpoint, boolean resume) {
        Resume from = resume ? Checkpoint.restore(this, checkpoint, epochs, settings) : Checkpoint.start(checkpoint);
        Checkpoint.Writer writer = new Checkpoint.Writer(checkpoint, Checkpoint.runOf(this, epochs, settings));
        addCallback(writer);
        try {
            fineTune(epochs, settings, from);
        } finally {
            removeCallback(writer);
        }
        writer.complete(this);
    }

    /** {@code fine_tune} from a position: the start, or an epoch boundary restored from a checkpoint. */
    private void fineTune(int epochs, FineTune settings, Resume from) {
        if (from.complete()) {
            return;
        }
        if (from.phase() == Resume.FROZEN) {
            freeze();
            if (from.epoch() < settings.freezeEpochs()) {
                fitOneCycle(Phase.FROZEN, settings.freezeEpochs(), LearningRates.slice(settings.baseLr(), GROUPS),
                        OneCycle.DEFAULT.withPctStart(0.99), from);
            }
            if (stopRequested) {
                return;
            }
            from = Resume.START_UNFROZEN;
        }
        double base = settings.baseLr() / 2;
        unfreeze();
        if (from.epoch() < epochs) {
            fitOneCycle(Phase.UNFROZEN, epochs, LearningRates.slice(base / settings.lrMult(), base, GROUPS),
                    OneCycle.DEFAULT.withPctStart(settings.pctStart()).withDiv(settings.div()), from);
        }
    }

    /**
     * fast.ai's {@code fit_one_cycle} with its default settings.
     *
     * @param epochs epochs
     * @param lrMax peak learning rate of each group (see {@link LearningRates})
     */
    public void fitOneCycle(int epochs, double[] lrMax) {
        fitOneCycle(Phase.FIT, epochs, lrMax, OneCycle.DEFAULT, Resume.START);
    }

    /**
     * fast.ai's {@code fit_one_cycle}.
     *
     * @param epochs epochs
     * @param lrMax peak learning rate of each group
     * @param cycle the one-cycle settings
     */
    public void fitOneCycle(int epochs, double[] lrMax, OneCycle cycle) {
        fitOneCycle(Phase.FIT, epochs, lrMax, cycle, Resume.START);
    }

    private void fitOneCycle(Phase phase, int epochs, double[] lrMax, OneCycle cycle, Resume from) {
        checkRates(lrMax);
        Schedule[] lrs = new Schedule[GROUPS];
        for (int g = 0; g < GROUPS; g++) {
            lrs[g] = cycle.learningRate(lrMax[g]);
        }
        fit(phase, epochs, lrs, cycle.momentum(), from);
    }

    /**
     * fast.ai's {@code fit}: constant learning rates and momentum 0.9.
     *
     * @param epochs epochs
     * @param lr learning rate of each group
     */
    public void fit(int epochs, double[] lr) {
        checkRates(lr);
        Schedule[] lrs = new Schedule[GROUPS];
        for (int g = 0; g < GROUPS; g++) {
            lrs[g] = Schedule.constant(lr[g]);
        }
        fit(Phase.FIT, epochs, lrs, Schedule.constant(0.9), Resume.START);
    }

    private static void checkRates(double[] rates) {
        if (rates.length != GROUPS) {
            throw TunaException.usage("Need one learning rate per parameter group (" + GROUPS + "); found "
                    + rates.length + ". Use LearningRates.slice(...) to spread one rate.");
        }
    }

    /** The one training loop, from epoch {@code from.epoch()} of this fit. */
    private void fit(Phase phase, int epochs, Schedule[] lrs, Schedule momentum, Resume from) {
        if (epochs < 1) {
            throw TunaException.usage("The number of epochs must be at least 1; found " + epochs + ".");
        }
        DataLoader train = data.train();
        int perEpoch = train.batchCount();
        if (perEpoch == 0) {
            throw TunaException.badData("There are no training images to fit on (the training split is empty).");
        }
        dev.tuna.internal.nn.Numerics.current().checkTraining();
        stopRequested = false;
        long total = (long) epochs * perEpoch;
        long done = (long) from.epoch() * perEpoch;
        SmoothLoss smooth = from.smoothLoss();
        smoothing = smooth;
        from.restoreOptimizer(optimizer, slots);
        callbacks.forEach(c -> c.onFitStart(this, phase, epochs, perEpoch));
        boolean cacheFeatures = bodyFixed() && !train.augments()
                && callbacks.stream().noneMatch(Callback::changesInputs);
        FrozenFeatures features = null;
        try {
            for (int epoch = from.epoch(); epoch < epochs && !stopRequested; epoch++) {
                long start = System.nanoTime();
                if (cacheFeatures && features == null) {
                    features = FrozenFeatures.compute(network, manager, train.forEvaluation(), data.valid());
                }
                TorchRandom.seed(Resume.epochSeed(seed, epochsSeen)); // dropout masks: reproducible, resumable
                int images = 0;
                try (BatchIterator batches = train.iterate(manager, epochsSeen)) {
                    for (int b = 0; batches.hasNext() && !stopRequested; b++) {
                        double pos = (double) done / total;
                        double[] rates = new double[GROUPS];
                        for (int g = 0; g < GROUPS; g++) {
                            rates[g] = lrs[g].at(pos);
                        }
                        double beta1 = momentum.at(pos);
                        double loss;
                        try (Batch batch = batches.next()) {
                            stepEpoch = epochsSeen;
                            stepBatch = b;
                            loss = trainStep(batch, features, rates, beta1);
                            images += batch.size();
                        }
                        smooth.add(loss);
                        BatchRecord record = new BatchRecord(iterations++, loss, smooth.value(), rates[GROUPS - 1], beta1);
                        steps.add(record);
                        done++;
                        double rate = images / ((System.nanoTime() - start) / 1e9);
                        int index = b;
                        callbacks.forEach(c -> c.onBatchEnd(this, index, perEpoch, record, rate));
                    }
                }
                if (stopRequested && done % perEpoch != 0) {
                    break; // an interrupted epoch is not validated or recorded
                }
                double trainSeconds = (System.nanoTime() - start) / 1e9;
                FrozenFeatures cached = features;
                Predictions valid = data.valid().size() == 0 ? null
                        : cached != null ? predict(data.valid(), batch -> network.head(
                                cached.valid(batch), false).softmax(1))
                        : predict(data.valid(), false);
                double seconds = (System.nanoTime() - start) / 1e9;
                EpochRecord record = new EpochRecord(epoch, phase, smooth.value(),
                        valid == null ? Double.NaN : valid.meanLoss(), valid == null ? Double.NaN : valid.errorRate(),
                        seconds, images / trainSeconds, seconds - trainSeconds, ProcessMemory.residentBytes());
                history.add(record);
                epochsSeen++;
                callbacks.forEach(c -> c.onEpochEnd(this, record));
            }
        } finally {
            callbacks.forEach(c -> c.onFitEnd(this));
        }
    }

    /**
     * Whether the body is fixed as a function: Keras-style freezing with the whole body frozen, so it
     * runs in evaluation mode and only the head trains.
     */
    private boolean bodyFixed() {
        return freezeMode == FreezeMode.FROZEN_BN && frozenGroups == GROUPS - 1;
    }

    /** Forward, loss, backward and optimizer step for one batch; returns the loss. */
    private double trainStep(Batch batch, FrozenFeatures features, double[] rates, double beta1) {
        double value = features != null
                ? trainStepUnchecked(() -> network.head(features.train(batch), true),
                        batch.labels().oneHot(network.classes()), rates, beta1)
                : trainStepUnchecked(batch, rates, beta1);
        if (!Double.isFinite(value)) {
            throw new TunaException(TunaException.Kind.RUNTIME, "The training loss became " + value
                    + "; the learning rate is probably too high. Lower it (try lrFind()).");
        }
        return value;
    }

    private double trainStepUnchecked(Batch batch, double[] rates, double beta1) {
        StepInput input = new StepInput(batch.images(), batch.labels().oneHot(network.classes()), null);
        for (Callback callback : callbacks) {
            input = callback.beforeStep(this, stepEpoch, stepBatch, input);
        }
        NDArray images = input.images();
        return trainStepUnchecked(() -> bodyFixed() ? network.forwardFrozenBody(images, true)
                : network.forward(images, true), input.targets(), rates, beta1);
    }

    private double trainStepUnchecked(java.util.function.Supplier<NDArray> forward, NDArray targets, double[] rates,
            double beta1) {
        NDArray loss;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray logits = forward.get();
            loss = this.loss.of(logits, targets);
            collector.backward(loss);
        }
        double value = loss.getFloat();
        if (Double.isFinite(value)) {
            optimizer.step(slots, rates, beta1);
        } else {
            for (FastAdam.Slot slot : slots) { // do not carry a non-finite gradient into the next step
                if (slot.parameter().requiresGradient()) {
                    FastAdam.zero(slot.parameter().getArray().getGradient());
                }
            }
        }
        return value;
    }

    /**
     * fast.ai's {@code lr_find()}: trains for up to 100 batches with the learning rate rising
     * exponentially from 1e-7 to 10, stops early once the smoothed loss exceeds 4× its best, then
     * puts the weights and the optimizer state back as they were.
     *
     * @return the loss curve and the suggested learning rate
     */
    public LrFind lrFind() {
        return lrFind(1e-7, 10, 100);
    }

    /**
     * The learning-rate finder with explicit bounds.
     *
     * @param start the first learning rate
     * @param end the last learning rate
     * @param iterations how many batches at most
     * @return the loss curve and the suggested learning rate
     */
    public LrFind lrFind(double start, double end, int iterations) {
        if (!(start > 0 && end > start) || iterations < 2) {
            throw TunaException.usage("lrFind needs 0 < start < end and at least 2 iterations; found " + start
                    + ", " + end + ", " + iterations + ".");
        }
        DataLoader train = data.train();
        if (train.batchCount() == 0) {
            throw TunaException.badData("There are no training images for the learning-rate finder.");
        }
        dev.tuna.internal.nn.Numerics.current().checkTraining();
        Map<String, float[]> weightsBefore = new java.util.HashMap<>();
        Map<String, ai.djl.ndarray.types.Shape> shapes = new java.util.HashMap<>();
        network.parameters().forEach((name, p) -> {
            weightsBefore.put(name, p.getArray().toFloatArray());
            shapes.put(name, p.getArray().getShape());
        });
        FastAdam.Snapshot optimizerBefore = optimizer.snapshot();
        List<Double> lrs = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        SmoothLoss smooth = new SmoothLoss(0.98);
        double best = Double.POSITIVE_INFINITY;
        int epoch = 0;
        TorchRandom.seed(Resume.epochSeed(seed, -1)); // the same dropout masks, so the same suggestion
        try {
            outer:
            while (lrs.size() < iterations) {
                try (BatchIterator batches = train.iterate(manager, 1_000_000 + epoch++)) {
                    while (batches.hasNext() && lrs.size() < iterations) {
                        double lr = start * Math.pow(end / start, (double) lrs.size() / iterations);
                        double loss;
                        try (Batch batch = batches.next()) {
                            stepEpoch = -epoch; // the finder's own draws, apart from training's
                            stepBatch = lrs.size();
                            loss = trainStepUnchecked(batch, LearningRates.uniform(lr, GROUPS), 0.9);
                        }
                        smooth.add(loss);
                        double value = smooth.value();
                        lrs.add(lr);
                        losses.add(value);
                        best = Math.min(best, value);
                        if (!Double.isFinite(value) || value > 4 * best) {
                            break outer;
                        }
                    }
                }
            }
        } finally {
            network.parameters().forEach((name, p) ->
                    dev.tuna.internal.nn.Arrays2.copyInto(p.getArray(), weightsBefore.get(name)));
            optimizer.restore(optimizerBefore, shapes);
            network.parameters().values().forEach(p -> {
                if (p.requiresGradient() && p.getArray().hasGradient()) {
                    FastAdam.zero(p.getArray().getGradient());
                }
            });
        }
        double[] lr = lrs.stream().mapToDouble(Double::doubleValue).toArray();
        double[] loss = losses.stream().mapToDouble(Double::doubleValue).toArray();
        return new LrFind(lr, loss, LrFind.valley(lr, loss, iterations));
    }

    /** Ends the current fit after the current batch; the interrupted epoch is not recorded. */
    public void stop() {
        stopRequested = true;
    }

    /**
     * Whether {@link #stop()} was called during the last fit.
     *
     * @return true when training was stopped early
     */
    public boolean stopped() {
        return stopRequested;
    }

    // ------------------------------------------------------------------ evaluation

    /**
     * Predicts every item of a loader in evaluation mode.
     *
     * @param loader the loader (its transforms are deterministic unless it is a training loader)
     * @param tta test-time augmentation as fast.ai does it ({@link #tta()})
     * @return the predictions
     */
    public Predictions predict(DataLoader loader, boolean tta) {
        java.util.function.Function<Batch, NDArray> softmax = batch -> network.forward(batch.images(), false)
                .softmax(1);
        Predictions plain = predict(loader, softmax);
        if (!tta) {
            return plain;
        }
        Tta policy = tta();
        float[][][] passes = new float[policy.passes()][][];
        for (int pass = 0; pass < passes.length; pass++) {
            passes[pass] = predict(loader.withTta(policy, pass), softmax).probabilities();
        }
        return Predictions.of(plain.classes(), plain.items(), policy.blend(plain.probabilities(), passes),
                plain.targets());
    }

    /**
     * Returns this learner's test-time augmentation: fast.ai's 4 passes under the training transforms
     * (random flips when training had none), blended 0.75 / 0.25 with the plain prediction.
     *
     * @return the policy
     */
    public Tta tta() {
        AugTransforms transforms = data.train().augmentations();
        return Tta.fastai(transforms != null ? transforms : Tta.FLIPS);
    }

    private Predictions predict(DataLoader loader, java.util.function.Function<Batch, NDArray> probabilitiesOf) {
        int n = loader.size();
        int classes = network.classes();
        float[][] probabilities = new float[n][];
        int[] targets = new int[n];
        int[] predicted = new int[n];
        float[] losses = new float[n];
        List<ImageItem> items = loader.items();
        int[] order = new int[n];
        int k = 0;
        try (BatchIterator batches = loader.iterate(manager, 0)) {
            while (batches.hasNext()) {
                try (Batch batch = batches.next()) {
                    float[] values = probabilitiesOf.apply(batch).toFloatArray();
                    long[] labels = batch.labels().toLongArray();
                    int[] positions = batch.items();
                    for (int i = 0; i < positions.length; i++, k++) {
                        float[] row = Arrays.copyOfRange(values, i * classes, (i + 1) * classes);
                        probabilities[k] = row;
                        targets[k] = (int) labels[i];
                        int best = 0;
                        for (int c = 1; c < classes; c++) {
                            if (row[c] > row[best]) {
                                best = c;
                            }
                        }
                        predicted[k] = best;
                        losses[k] = (float) -Math.log(Math.max(row[targets[k]], 1e-12f));
                        order[k] = positions[i];
                    }
                }
            }
        }
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            paths.add(items.get(order[i]).path());
        }
        return new Predictions(data.classes(), paths, Arrays.copyOf(probabilities, k), Arrays.copyOf(targets, k),
                Arrays.copyOf(predicted, k), Arrays.copyOf(losses, k));
    }

    /**
     * Predicts a labelled folder laid out like the training data ({@code <folder>/<class>/<image>}),
     * with the same size, resize method and normalisation, and this learner's classes.
     *
     * @param folder the folder
     * @return the predictions
     */
    public Predictions evaluate(Path folder) {
        return evaluate(folder, false);
    }

    /**
     * Like {@link #evaluate(Path)}, optionally with test-time augmentation.
     *
     * @param folder the folder
     * @param tta test-time augmentation as fast.ai does it ({@link #tta()})
     * @return the predictions
     */
    public Predictions evaluate(Path folder, boolean tta) {
        // exactly what the exported model does: tuna evaluate's pipeline, on this network in memory
        try (Classifier view = Classifier.view(network, metadata(new com.google.gson.JsonObject()),
                ClassifierOptions.DEFAULTS.withBatchSize(data.spec().batchSize()))) {
            return Evaluation.run(view, folder, ProgressListener.NONE, tta).predictions();
        }
    }

    // ------------------------------------------------------------------ export

    /**
     * Writes the trained model as a versioned artifact folder ({@code model.json} +
     * {@code weights.safetensors}) that {@link dev.tuna.inference.Classifier#load(Path)} reads without
     * any training code. Written atomically; an existing artifact is replaced only when
     * {@code overwrite} is set.
     *
     * @param directory the artifact folder
     * @param overwrite whether to replace an existing artifact
     * @return the artifact
     */
    public dev.tuna.inference.ModelArtifact export(Path directory, boolean overwrite) {
        com.google.gson.JsonObject training = new com.google.gson.JsonObject();
        training.addProperty("weights", weights == null ? "none (random initialisation)" : weights.name());
        training.addProperty("labelSmoothing", labelSmoothing);
        training.addProperty("trainImages", data.train().size());
        training.addProperty("validImages", data.valid().size());
        training.addProperty("batchSize", data.spec().batchSize());
        training.addProperty("dataSeed", data.spec().seed());
        training.addProperty("flip", data.spec().flip());
        for (Callback callback : callbacks) {
            if (callback instanceof BatchMix mix) {
                training.addProperty(mix.id(), mix.alpha());
            }
        }
        training.addProperty("freezeMode", freezeMode.id());
        com.google.gson.JsonArray rows = new com.google.gson.JsonArray();
        for (EpochRecord r : history) {
            com.google.gson.JsonObject row = new com.google.gson.JsonObject();
            row.addProperty("phase", r.phase().id());
            row.addProperty("epoch", r.epoch());
            row.addProperty("trainLoss", r.trainLoss());
            if (Double.isFinite(r.validLoss())) {
                row.addProperty("validLoss", r.validLoss());
                row.addProperty("errorRate", r.errorRate());
            }
            row.addProperty("seconds", r.seconds());
            rows.add(row);
        }
        training.add("history", rows);
        List<String> numerics = dev.tuna.internal.nn.Numerics.current().notes();
        if (!numerics.isEmpty()) { // a kernel of the training machine was wrong, and what was done instead
            com.google.gson.JsonArray notes = new com.google.gson.JsonArray();
            numerics.forEach(notes::add);
            training.add("numerics", notes);
        }
        return dev.tuna.inference.ModelArtifact.write(directory, network, metadata(training), overwrite);
    }

    /** What an export records about this model, with the given training record (augmentations added). */
    private ArtifactMetadata metadata(com.google.gson.JsonObject training) {
        if (data.spec().augment() != null) {
            training.add("augmentations", data.spec().augment().toJson()); // test-time augmentation reads it
        }
        return ArtifactMetadata.of(network.architecture(), data.classes(), data.spec().size(),
                data.spec().resizeMethod(), data.spec().padMode(), data.spec().normalization(),
                weights != null && weights.tfSamePadding(), head, seed, training);
    }

    // ------------------------------------------------------------------ accessors

    /**
     * Returns the epoch table so far.
     *
     * @return one record per completed epoch
     */
    public List<EpochRecord> history() {
        return List.copyOf(history);
    }

    /**
     * Returns every training step so far (loss, smoothed loss, learning rate, momentum).
     *
     * @return the steps
     */
    public List<BatchRecord> steps() {
        return List.copyOf(steps);
    }

    /**
     * Returns the network.
     *
     * @return the network
     */
    public Network network() {
        return network;
    }

    /**
     * Returns the data.
     *
     * @return the data loaders
     */
    public DataLoaders data() {
        return data;
    }

    /**
     * Returns the pretrained weights used, or null for a randomly initialised body.
     *
     * @return the catalogue entry
     */
    public PretrainedWeights weights() {
        return weights;
    }

    /**
     * Returns the head's shape.
     *
     * @return the head
     */
    public HeadSpec head() {
        return head;
    }

    /**
     * Returns what {@link #freeze()} freezes.
     *
     * @return the freeze mode
     */
    public FreezeMode freezeMode() {
        return freezeMode;
    }

    /**
     * Returns the seed of the head's initialisation.
     *
     * @return the seed
     */
    public long seed() {
        return seed;
    }

    FastAdam optimizer() {
        return optimizer;
    }

    // ---- for Checkpoint: the counters and records a resumed run continues from

    int epochsSeen() {
        return epochsSeen;
    }

    long iterations() {
        return iterations;
    }

    SmoothLoss smoothing() {
        return smoothing;
    }

    void restoreProgress(int epochs, long steps, List<EpochRecord> epochRecords, List<BatchRecord> stepRecords) {
        epochsSeen = epochs;
        iterations = steps;
        history.clear();
        history.addAll(epochRecords);
        this.steps.clear();
        this.steps.addAll(stepRecords);
    }

    List<FastAdam.Slot> slots() {
        return slots;
    }

    NDManager manager() {
        return manager;
    }

    /**
     * Adds a callback.
     *
     * @param callback the callback
     * @return this learner
     */
    public Learner addCallback(Callback callback) {
        callbacks.add(Objects.requireNonNull(callback));
        return this;
    }

    /** The callbacks, in order (for checkpoints' record of the run). */
    List<Callback> callbacks() {
        return java.util.Collections.unmodifiableList(callbacks);
    }

    /**
     * Removes a callback.
     *
     * @param callback the callback
     */
    public void removeCallback(Callback callback) {
        callbacks.remove(callback);
    }

    /**
     * Continues on the same images at another size: fast.ai's progressive resizing ("train small, then
     * big"). The same split, classes, augmentation and seed; the images are decoded again at the new
     * size. Networks pool globally, so the weights carry over; the next {@link #fineTune} or
     * {@link #fitOneCycle} trains at the new size.
     *
     * @param size the new image side in pixels
     */
    public void resize(int size) {
        if (size == data.spec().size()) {
            return;
        }
        DataLoaders next = data.spec().resize(size, data.spec().resizeMethod()).dataloaders();
        if (resized != null) {
            resized.close();
        }
        resized = next;
        data = next;
    }

    /** Frees the network and the optimizer state (not the data the caller passed in, which it owns). */
    @Override
    public void close() {
        optimizer.close();
        network.close();
        manager.close();
        if (resized != null) {
            resized.close();
        }
    }

    /** Exponentially weighted mean with bias correction (fast.ai's {@code AvgSmoothLoss}). */
    static final class SmoothLoss {
        private final double beta;
        private double value;
        private int count;

        SmoothLoss(double beta) {
            this.beta = beta;
        }

        SmoothLoss(double beta, double raw, int count) {
            this.beta = beta;
            this.value = raw;
            this.count = count;
        }

        double raw() {
            return value;
        }

        int count() {
            return count;
        }

        void add(double x) {
            count++;
            value = beta * value + (1 - beta) * x;
        }

        double value() {
            return count == 0 ? Double.NaN : value / (1 - Math.pow(beta, count));
        }
    }

    /** Builds a {@link Learner}. */
    public static final class Builder {
        private final DataLoaders data;
        private Architecture architecture = Architecture.RESNET18;
        private PretrainedWeights weights;
        private boolean weightsSet;
        private Path weightsFile;
        private HeadSpec head = HeadSpec.DEFAULT;
        private long seed = 42;
        private double labelSmoothing;
        private FastAdam.Settings optimizer = FastAdam.Settings.FASTAI;
        private final List<Callback> callbacks = new ArrayList<>();
        private PrintStream console = System.out;
        private boolean terminal = System.console() != null;
        private WeightCatalog catalog;
        private int recalibrationImages = 256;
        private FreezeMode freezeMode = FreezeMode.TRAIN_BN;

        private Builder(DataLoaders data) {
            this.data = Objects.requireNonNull(data, "data");
        }

        /**
         * Sets the architecture (default ResNet-18); also selects its default weights unless
         * {@link #weights} is set.
         *
         * @param architecture the architecture
         * @return this builder
         */
        public Builder architecture(Architecture architecture) {
            this.architecture = Objects.requireNonNull(architecture);
            return this;
        }

        /**
         * Sets the pretrained weights (a catalogue entry), or null for a randomly initialised body.
         *
         * @param weights the entry
         * @return this builder
         */
        public Builder weights(PretrainedWeights weights) {
            this.weights = weights;
            this.weightsSet = true;
            if (weights != null) {
                this.architecture = weights.architecture();
            }
            return this;
        }

        /**
         * Uses this file for the weights instead of the catalogue's cache (the entry's metadata still applies).
         *
         * @param file a .pth or .safetensors file with torchvision names
         * @return this builder
         */
        public Builder weightsFile(Path file) {
            this.weightsFile = file;
            return this;
        }

        /**
         * Sets the head's shape.
         *
         * @param head the head
         * @return this builder
         */
        public Builder head(HeadSpec head) {
            this.head = Objects.requireNonNull(head);
            return this;
        }

        /**
         * Sets the seed of the head's initialisation.
         *
         * @param seed the seed
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Uses label-smoothing cross-entropy (fast.ai's {@code LabelSmoothingCrossEntropy}).
         *
         * @param epsilon the smoothing, e.g. 0.1; 0 for plain cross-entropy
         * @return this builder
         */
        public Builder labelSmoothing(double epsilon) {
            if (!(epsilon >= 0 && epsilon < 1)) {
                throw TunaException.usage("Label smoothing must be in [0, 1); found " + epsilon + ".");
            }
            this.labelSmoothing = epsilon;
            return this;
        }

        /**
         * Sets the optimizer's weight decay, beta2 and epsilon.
         *
         * @param weightDecay decoupled weight decay (0.01)
         * @param beta2 second-moment decay (0.99)
         * @param eps epsilon (1e-5)
         * @return this builder
         */
        public Builder optimizer(double weightDecay, double beta2, double eps) {
            this.optimizer = new FastAdam.Settings(weightDecay, beta2, eps);
            return this;
        }

        /**
         * Adds a callback.
         *
         * @param callback the callback
         * @return this builder
         */
        public Builder callback(Callback callback) {
            callbacks.add(Objects.requireNonNull(callback));
            return this;
        }

        /**
         * Prints the progress bar and epoch table to {@code out} (stdout by default), or nothing when null.
         *
         * @param out the stream, or null for silence
         * @param terminal whether {@code out} is a terminal (progress bar redrawn in place)
         * @return this builder
         */
        public Builder console(PrintStream out, boolean terminal) {
            this.console = out;
            this.terminal = terminal;
            return this;
        }

        /**
         * Sets where catalogue weights are found or downloaded to (default {@code $TUNA_HOME}).
         *
         * @param catalog the catalogue
         * @return this builder
         */
        public Builder catalog(WeightCatalog catalog) {
            this.catalog = catalog;
            return this;
        }

        /**
         * Sets what {@link Learner#freeze()} freezes: fast.ai's {@link FreezeMode#TRAIN_BN} (default) or
         * Keras-style {@link FreezeMode#FROZEN_BN}, whose frozen epochs train the head on body features
         * computed once.
         *
         * @param mode the mode
         * @return this builder
         */
        public Builder freezeMode(FreezeMode mode) {
            this.freezeMode = Objects.requireNonNull(mode);
            return this;
        }

        /**
         * Sets how many training images measure batch-norm statistics for weights with folded batch norm.
         *
         * @param images the number of images (256 by default)
         * @return this builder
         */
        public Builder recalibrationImages(int images) {
            this.recalibrationImages = images;
            return this;
        }

        /**
         * Builds the learner: creates the network, loads and prepares the pretrained body, freezes it.
         *
         * @return the learner
         */
        public Learner build() {
            if (!weightsSet) {
                weights = PretrainedWeights.defaultFor(architecture);
            }
            if (catalog == null) {
                catalog = WeightCatalog.standard(ProgressListener.NONE);
            }
            return new Learner(this);
        }
    }
}
