package dev.tuna.learn;

import ai.djl.ndarray.NDManager;
import dev.tuna.ProgressListener;
import dev.tuna.TunaException;
import dev.tuna.data.DataLoader;
import dev.tuna.data.DataLoaders;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.ClassifierOptions;
import dev.tuna.inference.Evaluation;
import dev.tuna.inference.ModelArtifact;
import dev.tuna.inference.Predictions;
import dev.tuna.internal.train.FastAdam;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.model.Network;
import dev.tuna.model.PretrainedWeights;
import dev.tuna.transform.AugTransforms;
import dev.tuna.transform.Tta;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Owns a network, its optimizer and its data, and trains it with fast.ai's policies:
 * {@link #freeze()}/{@link #unfreeze()}, discriminative learning rates, {@link #fitOneCycle},
 * {@link #fineTune(int)} and the learning-rate finder — each a {@link Plan} run by the one training
 * loop, as is any plan built by hand ({@link #fit(Plan)}).
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
    private final double labelSmoothing;
    private final Loss loss;
    private final long seed;
    private final HeadSpec head;
    private final FreezeMode freezeMode;
    private final TrainingLoop.Progress progress = new TrainingLoop.Progress();
    private final TrainingLoop loop = new TrainingLoop(this, progress);
    private volatile boolean stopRequested;
    private int frozenGroups;
    Recipe recipe; // the recipe the learner was built for, recorded in exports (null when none)
    Plan lastPlan; // the last plan run, recorded in exports

    Learner(DataLoaders data, Network network, PretrainedWeights weights, NDManager manager, FastAdam optimizer,
            List<Callback> callbacks, double labelSmoothing, long seed, HeadSpec head, FreezeMode freezeMode) {
        this.data = data;
        this.network = network;
        this.weights = weights;
        this.manager = manager;
        this.optimizer = optimizer;
        this.callbacks = new ArrayList<>(callbacks);
        this.labelSmoothing = labelSmoothing;
        this.loss = Loss.labelSmoothing(labelSmoothing);
        this.seed = seed;
        this.head = head;
        this.freezeMode = freezeMode;
        slots.addAll(FastAdam.slots(network.parameters(), network::group, network::isNorm));
        if (weights != null) {
            freeze();
        }
    }

    /**
     * Starts building a learner for image classification on {@code data}.
     *
     * @param data the data
     * @return a builder
     */
    public static LearnerBuilder builder(DataLoaders data) {
        return new LearnerBuilder(data);
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

    // ------------------------------------------------------------------ freezing

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
                    || (freezeMode == FreezeMode.TRAIN_BN && network.isNorm(slot.name()));
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

    // ------------------------------------------------------------------ plans

    /**
     * fast.ai's {@code fine_tune(epochs)} with its defaults (base rate 2e-3, one frozen epoch).
     *
     * @param epochs unfrozen epochs
     */
    public void fineTune(int epochs) {
        fineTune(epochs, FineTune.DEFAULT);
    }

    /**
     * fast.ai's {@code fine_tune}: the plan {@link FineTune#plan(int)}.
     *
     * @param epochs unfrozen epochs
     * @param settings the schedule settings
     */
    public void fineTune(int epochs, FineTune settings) {
        fit(settings.plan(epochs));
    }

    /**
     * fast.ai's {@code fine_tune} that can survive being killed; see {@link #fit(Plan, Path, boolean)}.
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
     */
    public void fineTune(int epochs, FineTune settings, Path checkpoint, boolean resume) {
        fit(settings.plan(epochs), checkpoint, resume);
    }

    /**
     * fast.ai's {@code fit_one_cycle} with its default settings.
     * @param epochs epochs
     * @param lrMax peak learning rate of each group (see {@link LearningRates})
     */
    public void fitOneCycle(int epochs, double[] lrMax) {
        fitOneCycle(epochs, lrMax, OneCycle.DEFAULT);
    }

    /**
     * fast.ai's {@code fit_one_cycle}.
     *
     * @param epochs epochs
     * @param lrMax peak learning rate of each group
     * @param cycle the one-cycle settings
     */
    public void fitOneCycle(int epochs, double[] lrMax, OneCycle cycle) {
        fit(Plan.of(Stage.oneCycle(positive(epochs), lrMax, cycle)));
    }

    /**
     * fast.ai's {@code fit}: constant learning rates and momentum 0.9.
     *
     * @param epochs epochs
     * @param lr learning rate of each group
     */
    public void fit(int epochs, double[] lr) {
        fit(Plan.of(Stage.constant(positive(epochs), lr)));
    }

    /**
     * Runs a plan: each stage freezes and resizes as it says, then trains its epochs with its
     * schedules. {@link #stop()} ends the plan after the current batch.
     *
     * @param plan the plan
     */
    public void fit(Plan plan) {
        stopRequested = false;
        lastPlan = plan;
        loop.run(plan, Resume.START, callbacks);
    }

    /**
     * Runs a plan that can survive being killed: after every epoch the whole training state is written
     * to {@code checkpoint} (see {@link Checkpoint}), atomically. With {@code resume}, the run continues
     * from the checkpoint's last complete epoch — in any stage or between them — and ends as the
     * uninterrupted run would; the checkpoint must come from the same data, settings and plan. Without
     * {@code resume}, a checkpoint already in the folder is replaced. When the run ends, the checkpoint
     * is marked complete (resuming it again trains nothing); delete it with {@link Checkpoint#delete}
     * once the model is exported.
     *
     * @param plan the plan
     * @param checkpoint the checkpoint folder (created if needed)
     * @param resume whether to continue from the checkpoint in that folder
     * @throws TunaException ({@code USAGE}) when resuming without a checkpoint or from another run's;
     *     ({@code BAD_MODEL_FILE}) when the checkpoint is damaged
     */
    public void fit(Plan plan, Path checkpoint, boolean resume) {
        Resume from = resume ? Checkpoint.restore(this, checkpoint, plan) : Checkpoint.start(checkpoint);
        Checkpoint.Writer writer = new Checkpoint.Writer(checkpoint, plan, RunFingerprint.of(this, plan));
        List<Callback> all = new ArrayList<>(callbacks);
        all.add(writer);
        stopRequested = false;
        lastPlan = plan;
        loop.run(plan, from, all);
        writer.complete();
    }

    private static int positive(int epochs) {
        if (epochs < 1) {
            throw TunaException.usage("The number of epochs must be at least 1; found " + epochs + ".");
        }
        return epochs;
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
     * The learning-rate finder with explicit bounds: a plan of one exponential sweep, run by the
     * training loop with fast.ai's finder callback (nothing recorded in the history).
     *
     * @param start the first learning rate
     * @param end the last learning rate
     * @param iterations how many batches at most
     * @return the loss curve and the suggested learning rate
     */
    public LrFind lrFind(double start, double end, int iterations) {
        stopRequested = false;
        try {
            return LrFinder.run(this, loop, start, end, iterations);
        } finally {
            stopRequested = false;
        }
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
        return LoaderPredictions.of(this, loader, tta);
    }

    /**
     * The pooled body features of a loader's items (the body in evaluation mode, then the head's
     * concat pooling): what a Keras-style frozen phase ({@link FreezeMode#FROZEN_BN}) trains the head on.
     *
     * @param loader the loader; a training loader is read in evaluation order, without augmentation
     * @return one row of {@code 2 × body channels} floats per item, by position in {@link DataLoader#items()}
     */
    public float[][] pooledFeatures(DataLoader loader) {
        return FrozenFeatures.rows(network, manager, loader.forEvaluation());
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
        try (Classifier view = Classifier.view(network, ArtifactRecord.metadata(this, false),
                ClassifierOptions.DEFAULTS.withBatchSize(data.spec().batchSize()))) {
            return Evaluation.run(view, folder, ProgressListener.NONE, tta).predictions();
        }
    }

    /**
     * Writes the trained model as a versioned artifact folder ({@code model.json} +
     * {@code weights.safetensors}) that {@link Classifier#load(Path)} reads without any training code.
     * Written atomically; an existing artifact is replaced only when {@code overwrite} is set.
     *
     * @param directory the artifact folder
     * @param overwrite whether to replace an existing artifact
     * @return the artifact
     */
    public ModelArtifact export(Path directory, boolean overwrite) {
        return ModelArtifact.write(directory, network, ArtifactRecord.metadata(this, true), overwrite);
    }

    // ------------------------------------------------------------------ accessors

    /**
     * Returns the epoch table so far.
     *
     * @return one record per completed epoch
     */
    public List<EpochRecord> history() {
        return List.copyOf(progress.history);
    }

    /**
     * Returns every training step so far (loss, smoothed loss, learning rate, momentum).
     *
     * @return the steps
     */
    public List<BatchRecord> steps() {
        return List.copyOf(progress.steps);
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

    /**
     * Returns the label smoothing of the loss.
     *
     * @return epsilon, 0 for plain cross-entropy
     */
    public double labelSmoothing() {
        return labelSmoothing;
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

    /**
     * Removes a callback.
     *
     * @param callback the callback
     */
    public void removeCallback(Callback callback) {
        callbacks.remove(callback);
    }

    /**
     * Returns the callbacks, in order.
     *
     * @return an unmodifiable view
     */
    public List<Callback> callbacks() {
        return Collections.unmodifiableList(callbacks);
    }

    /**
     * Continues on the same images at another size: fast.ai's progressive resizing ("train small, then
     * big"). The same split, classes, augmentation and seed; the images are decoded again at the new
     * size. Networks pool globally, so the weights carry over; the next plan trains at the new size
     * (a {@link Stage} can also resize by itself: {@link Plan#atSize(int)}).
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

    // ------------------------------------------------------------------ for the loop and checkpoints

    /** Keras-style freezing with the whole body frozen: the body runs in evaluation mode, only the head trains. */
    boolean bodyFixed() {
        return freezeMode == FreezeMode.FROZEN_BN && frozenGroups == GROUPS - 1;
    }

    Loss loss() {
        return loss;
    }

    FastAdam optimizer() {
        return optimizer;
    }

    List<FastAdam.Slot> slots() {
        return slots;
    }

    NDManager manager() {
        return manager;
    }

    /** A snapshot of the training state for a checkpoint. */
    TrainingState state() {
        return new TrainingState(progress.stage, progress.epochsSeen, progress.iterations, frozenGroups, progress.smoothing.copy(),
                progress.history, progress.steps, optimizer.snapshot());
    }

    /** Continues from a checkpoint's counters and records (weights and optimizer are restored apart). */
    void restore(TrainingState state) {
        progress.epochsSeen = state.epochsSeen();
        progress.iterations = state.iterations();
        progress.history.clear();
        progress.history.addAll(state.history());
        progress.steps.clear();
        progress.steps.addAll(state.steps());
    }
}
