package dev.tuna.learn;

import ai.djl.ndarray.NDManager;
import dev.tuna.ProgressListener;
import dev.tuna.TunaException;
import dev.tuna.data.Batch;
import dev.tuna.data.BatchIterator;
import dev.tuna.data.DataLoaders;
import dev.tuna.internal.train.FastAdam;
import dev.tuna.model.Architecture;
import dev.tuna.model.BatchNormRecalibration;
import dev.tuna.model.HeadSpec;
import dev.tuna.model.LoadMode;
import dev.tuna.model.Network;
import dev.tuna.model.PretrainedWeights;
import dev.tuna.model.WeightCatalog;
import dev.tuna.model.weights.WeightFiles;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds a {@link Learner}: the architecture, its pretrained weights, the head, the seed, the loss and
 * the optimizer settings, callbacks and console. Start with {@link Learner#builder(DataLoaders)}.
 */
public final class LearnerBuilder {
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
    private Recipe recipe;

    LearnerBuilder(DataLoaders data) {
        this.data = Objects.requireNonNull(data, "data");
    }

    /**
     * Sets the architecture (default ResNet-18); also selects its default weights unless
     * {@link #weights} is set.
     *
     * @param architecture the architecture
     * @return this builder
     */
    public LearnerBuilder architecture(Architecture architecture) {
        this.architecture = Objects.requireNonNull(architecture);
        return this;
    }

    /**
     * Sets the pretrained weights (a catalogue entry), or null for a randomly initialised body.
     *
     * @param weights the entry
     * @return this builder
     */
    public LearnerBuilder weights(PretrainedWeights weights) {
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
    public LearnerBuilder weightsFile(Path file) {
        this.weightsFile = file;
        return this;
    }

    /**
     * Sets the head's shape.
     *
     * @param head the head
     * @return this builder
     */
    public LearnerBuilder head(HeadSpec head) {
        this.head = Objects.requireNonNull(head);
        return this;
    }

    /**
     * Sets the seed of the head's initialisation.
     *
     * @param seed the seed
     * @return this builder
     */
    public LearnerBuilder seed(long seed) {
        this.seed = seed;
        return this;
    }

    /**
     * Uses label-smoothing cross-entropy (fast.ai's {@code LabelSmoothingCrossEntropy}).
     *
     * @param epsilon the smoothing, e.g. 0.1; 0 for plain cross-entropy
     * @return this builder
     */
    public LearnerBuilder labelSmoothing(double epsilon) {
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
    public LearnerBuilder optimizer(double weightDecay, double beta2, double eps) {
        this.optimizer = new FastAdam.Settings(weightDecay, beta2, eps);
        return this;
    }

    /**
     * Adds a callback.
     *
     * @param callback the callback
     * @return this builder
     */
    public LearnerBuilder callback(Callback callback) {
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
    public LearnerBuilder console(PrintStream out, boolean terminal) {
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
    public LearnerBuilder catalog(WeightCatalog catalog) {
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
    public LearnerBuilder freezeMode(FreezeMode mode) {
        this.freezeMode = Objects.requireNonNull(mode);
        return this;
    }

    /**
     * Builds the learner for a recipe: its label smoothing and callbacks (MixUp); the recipe is recorded
     * in exported models. The data must come from {@link Recipe#data}; train with {@link Recipe#plan}.
     *
     * @param recipe the recipe, e.g. from {@link Budget}
     * @return this builder
     */
    public LearnerBuilder recipe(Recipe recipe) {
        this.recipe = Objects.requireNonNull(recipe);
        labelSmoothing(recipe.labelSmoothing());
        recipe.callbacks().forEach(this::callback);
        return this;
    }

    /**
     * Sets how many training images measure batch-norm statistics for weights with folded batch norm.
     *
     * @param images the number of images (256 by default)
     * @return this builder
     */
    public LearnerBuilder recalibrationImages(int images) {
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
        NDManager manager = NDManager.newBaseManager();
        try {
            boolean tfSame = weights != null && weights.tfSamePadding();
            Network network = Network.transfer(architecture, head, data.classes().size(), tfSame, manager, seed);
            if (weights != null) {
                loadPretrained(network, manager);
            }
            List<Callback> all = new ArrayList<>(callbacks);
            if (console != null) {
                all.add(0, new ConsoleReporter(console, terminal));
            }
            Learner learner = new Learner(data, network, weights, manager, new FastAdam(manager, optimizer), all,
                    labelSmoothing, seed, head, freezeMode);
            learner.recipe = recipe;
            return learner;
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private void loadPretrained(Network network, NDManager manager) {
        if (!data.spec().normalization().equals(weights.normalization())) {
            throw TunaException.usage("The weights '" + weights.name() + "' expect inputs normalised with "
                    + weights.normalization() + " but the data uses " + data.spec().normalization()
                    + ". Build the data with .normalize(weights.normalization()).");
        }
        Path file = weightsFile != null ? weightsFile : catalog.resolve(weights);
        network.load(WeightFiles.read(file), LoadMode.BODY);
        if (weights.foldedBatchNorm()) {
            recalibrate(network, manager);
        }
    }

    /** Measures batch-norm statistics on training images (evaluation mode, no augmentation). */
    private void recalibrate(Network network, NDManager manager) {
        try (BatchNormRecalibration recalibration = BatchNormRecalibration.start(network);
             BatchIterator batches = data.train().iterate(manager, -1)) {
            int seen = 0;
            while (seen < recalibrationImages && batches.hasNext()) {
                try (Batch batch = batches.next()) {
                    recalibration.measure(batch.images());
                    seen += batch.size();
                }
            }
            recalibration.finish();
        }
    }
}
