package dev.tuna.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import dev.tuna.TunaException;
import dev.tuna.internal.nn.Chain;
import dev.tuna.internal.nn.NamedParameters;
import dev.tuna.internal.nn.ObservedBatchNorm;
import dev.tuna.internal.nn.StochasticDepth;
import dev.tuna.internal.nn.Torchvision;
import dev.tuna.model.weights.Tensor;
import dev.tuna.model.weights.WeightFile;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * A convolutional network built as torchvision builds it, as DJL blocks whose parameters carry
 * torchvision's {@code state_dict} names: either torchvision's complete ImageNet classifier (body, then
 * torchvision's classifier), or a pretrained body with fast.ai's head for transfer learning. What the
 * body, classifier, cut and parameter groups are comes from the {@link Architecture}.
 *
 * <p>Owns the native memory of its parameters; close it when done.
 */
public final class Network implements AutoCloseable {
    private final Architecture architecture;
    private final SequentialBlock block;
    private final NamedParameters names;
    private final NDManager manager;
    private final ParameterStore store;
    private final StochasticDepth.Draws draws;
    private final int classes;
    private final boolean transfer;
    /** The head's parameter-free pooling and flattening layers, before its first batch norm. */
    private static final int HEAD_POOLING_LAYERS = 2;

    private Network(Architecture architecture, SequentialBlock block, NamedParameters names,
            StochasticDepth.Draws draws, int classes, boolean transfer, NDManager parent, int imageSize, long seed) {
        this.architecture = architecture;
        this.block = block;
        this.names = names;
        this.draws = draws;
        this.classes = classes;
        this.transfer = transfer;
        this.manager = parent.newSubManager();
        this.store = new ParameterStore(manager, false);
        block.initialize(manager, DataType.FLOAT32, new Shape(1, 3, imageSize, imageSize));
        // torchvision's initialisation for the body, fast.ai's for the head; seeded, so reproducible
        names.initialize(new SplittableRandom(seed));
    }

    /**
     * Builds torchvision's complete classifier ({@code resnet18()}, {@code mobilenet_v2()}, ...), with
     * torchvision's stochastic depth ({@link Architecture#stochasticDepth()}).
     *
     * @param architecture the architecture
     * @param classes classifier outputs (1000 for ImageNet weights)
     * @param tfSamePadding TensorFlow "SAME" padding on strided convolutions (weights converted from TF)
     * @param manager the parent manager
     * @param seed seed of the random initialisation and of the stochastic-depth draws
     * @return the network
     */
    public static Network torchvision(Architecture architecture, int classes, boolean tfSamePadding,
            NDManager manager, long seed) {
        return torchvision(architecture, classes, tfSamePadding, architecture.stochasticDepth(), manager, seed);
    }

    /**
     * Builds torchvision's complete classifier with a stochastic-depth rate of the caller's choice.
     *
     * @param architecture the architecture
     * @param classes classifier outputs (1000 for ImageNet weights)
     * @param tfSamePadding TensorFlow "SAME" padding on strided convolutions (weights converted from TF)
     * @param stochasticDepth the drop probability of the last residual block in training mode (0: none)
     * @param manager the parent manager
     * @param seed seed of the random initialisation and of the stochastic-depth draws
     * @return the network
     * @throws TunaException when the rate is outside [0, 1), or not 0 for an architecture without
     *     stochastic depth
     */
    public static Network torchvision(Architecture architecture, int classes, boolean tfSamePadding,
            double stochasticDepth, NDManager manager, long seed) {
        checkStochasticDepth(architecture, stochasticDepth);
        NamedParameters names = new NamedParameters();
        StochasticDepth.Draws draws = new StochasticDepth.Draws(drawsSeed(seed));
        Torchvision builder = new Torchvision(names, tfSamePadding, draws);
        SequentialBlock block = new Chain();
        block.add(architecture.body(builder, stochasticDepth));
        block.add(architecture.classifier(builder, classes));
        return new Network(architecture, block, names, draws, classes, false, manager, 64, seed);
    }

    /**
     * Builds a body with fast.ai's head for {@code classes} classes, with torchvision's stochastic depth
     * ({@link Architecture#stochasticDepth()}).
     *
     * @param architecture the body's architecture
     * @param head the head's shape
     * @param classes number of classes
     * @param tfSamePadding TensorFlow "SAME" padding on strided convolutions (weights converted from TF)
     * @param manager the parent manager
     * @param seed seed of the head's (and body's) random initialisation and of the stochastic-depth draws
     * @return the network
     */
    public static Network transfer(Architecture architecture, HeadSpec head, int classes, boolean tfSamePadding,
            NDManager manager, long seed) {
        return transfer(architecture, head, classes, tfSamePadding, architecture.stochasticDepth(), manager, seed);
    }

    /**
     * Builds a body with fast.ai's head for {@code classes} classes, with a stochastic-depth rate of the
     * caller's choice.
     *
     * @param architecture the body's architecture
     * @param head the head's shape
     * @param classes number of classes
     * @param tfSamePadding TensorFlow "SAME" padding on strided convolutions (weights converted from TF)
     * @param stochasticDepth the drop probability of the last residual block in training mode (0: none)
     * @param manager the parent manager
     * @param seed seed of the head's (and body's) random initialisation and of the stochastic-depth draws
     * @return the network
     * @throws TunaException when there are fewer than 2 classes, or the rate is outside [0, 1), or not 0
     *     for an architecture without stochastic depth
     */
    public static Network transfer(Architecture architecture, HeadSpec head, int classes, boolean tfSamePadding,
            double stochasticDepth, NDManager manager, long seed) {
        if (classes < 2) {
            throw TunaException.usage("A classifier needs at least 2 classes; found " + classes + ".");
        }
        checkStochasticDepth(architecture, stochasticDepth);
        NamedParameters names = new NamedParameters();
        StochasticDepth.Draws draws = new StochasticDepth.Draws(drawsSeed(seed));
        Torchvision builder = new Torchvision(names, tfSamePadding, draws);
        SequentialBlock block = new Chain();
        block.add(architecture.body(builder, stochasticDepth));
        block.add(builder.head(head.hidden(), head.dropouts(), classes));
        return new Network(architecture, block, names, draws, classes, true, manager, 64, seed);
    }

    private static void checkStochasticDepth(Architecture architecture, double rate) {
        if (!(rate >= 0 && rate < 1)) {
            throw TunaException.usage("The stochastic-depth rate must be in [0, 1); found " + rate + ".");
        }
        if (rate > 0 && architecture.stochasticDepth() == 0) {
            throw TunaException.usage(architecture.id() + " has no stochastic depth; found a rate of " + rate
                    + ". Pass 0, or choose an architecture that has it (e.g. convnext_tiny, efficientnet_b0).");
        }
    }

    /** The stochastic-depth draws' seed: the network's, kept apart from the initialisation's stream. */
    private static long drawsSeed(long seed) {
        return seed ^ 0x5D0C4A57E1D3B9F1L;
    }

    /**
     * Restarts the stochastic-depth draws from a seed. A training loop that reseeds its other random
     * draws per epoch (dropout) should call this beside them, so that a resumed run drops the same
     * residual branches as the uninterrupted one. No effect on architectures without stochastic depth.
     *
     * @param seed the seed
     */
    public void seedStochasticDepth(long seed) {
        draws.reseed(seed);
    }

    /**
     * Returns the architecture.
     *
     * @return the architecture
     */
    public Architecture architecture() {
        return architecture;
    }

    /**
     * Returns the number of outputs.
     *
     * @return classes
     */
    public int classes() {
        return classes;
    }

    /**
     * Whether this is a body with fast.ai's head (rather than torchvision's complete classifier).
     *
     * @return true for transfer networks
     */
    public boolean isTransfer() {
        return transfer;
    }

    /**
     * Returns the DJL block.
     *
     * @return the block
     */
    public SequentialBlock block() {
        return block;
    }

    /**
     * Returns every parameter (including batch-norm running statistics) by torchvision name.
     *
     * @return the parameters in network order
     */
    public Map<String, Parameter> parameters() {
        return names.all();
    }

    /**
     * Whether a parameter name belongs to a batch norm layer.
     *
     * @param name the parameter name
     * @return true for batch-norm weights, biases and running statistics
     * @see #isNorm(String)
     */
    public boolean isBatchNorm(String name) {
        return names.isBatchNorm(name);
    }

    /**
     * Whether a parameter name belongs to a normalisation layer, batch norm or layer norm: what fast.ai
     * excludes from weight decay and keeps training while the body is frozen ({@code train_bn}).
     *
     * @param name the parameter name
     * @return true for the weights, biases (and running statistics) of batch norms and layer norms
     */
    public boolean isNorm(String name) {
        return names.isNorm(name);
    }

    /**
     * Returns the parameter group of a parameter (0 and 1: body, 2: head).
     *
     * @param name the parameter name
     * @return the group
     */
    public int group(String name) {
        return architecture.group(name);
    }

    /**
     * Runs the network.
     *
     * @param input float32 {@code [n, 3, h, w]}
     * @param training training mode (batch statistics, dropout) or evaluation mode
     * @return logits {@code [n, classes]}
     */
    public NDArray forward(NDArray input, boolean training) {
        return block.forward(store, new NDList(input), training).singletonOrThrow();
    }

    /**
     * Runs the body in evaluation mode (batch norm with its running statistics, as in Keras-style
     * freezing) and the head in {@code headTraining} mode.
     *
     * @param input float32 {@code [n, 3, h, w]}
     * @param headTraining training mode for the head (batch statistics, dropout)
     * @return logits {@code [n, classes]}
     */
    public NDArray forwardFrozenBody(NDArray input, boolean headTraining) {
        return head(pooledFeatures(input), headTraining);
    }

    /**
     * Runs the body in evaluation mode followed by the head's pooling: the fixed features of an image
     * that a frozen body gives the head's trainable layers.
     *
     * @param input float32 {@code [n, 3, h, w]}
     * @return features {@code [n, 2 × body channels]}
     */
    public NDArray pooledFeatures(NDArray input) {
        requireTransfer();
        NDList x = new NDList(features(input));
        SequentialBlock head = (SequentialBlock) block.getChildren().get(1).getValue();
        for (int i = 0; i < HEAD_POOLING_LAYERS; i++) {
            x = head.getChildren().get(i).getValue().forward(store, x, false);
        }
        return x.singletonOrThrow();
    }

    /**
     * Runs the head's layers after its pooling on features from {@link #pooledFeatures}.
     *
     * @param pooled features {@code [n, 2 × body channels]}
     * @param training training mode (batch statistics, dropout)
     * @return logits {@code [n, classes]}
     */
    public NDArray head(NDArray pooled, boolean training) {
        requireTransfer();
        NDList x = new NDList(pooled);
        SequentialBlock head = (SequentialBlock) block.getChildren().get(1).getValue();
        for (int i = HEAD_POOLING_LAYERS; i < head.getChildren().size(); i++) {
            x = head.getChildren().get(i).getValue().forward(store, x, training);
        }
        return x.singletonOrThrow();
    }

    private void requireTransfer() {
        if (!transfer) {
            throw new IllegalStateException("only a transfer network (body + fast.ai head) has a separate head");
        }
    }

    /**
     * Runs only the body (everything before the global pool) in evaluation mode.
     *
     * @param input float32 {@code [n, 3, h, w]}
     * @return feature maps {@code [n, channels, h', w']}
     */
    public NDArray features(NDArray input) {
        return features(input, false);
    }

    /**
     * Runs only the body (everything before the global pool).
     *
     * @param input float32 {@code [n, 3, h, w]}
     * @param training training mode (batch statistics and their running update, stochastic depth) or
     *     evaluation mode
     * @return feature maps {@code [n, channels, h', w']}
     */
    public NDArray features(NDArray input, boolean training) {
        return block.getChildren().get(0).getValue().forward(store, new NDList(input), training).singletonOrThrow();
    }

    /**
     * Sets parameters from a weight file ({@code .pth} or safetensors, torchvision names).
     *
     * @param file the weights
     * @param mode how strictly names and shapes must match
     * @return what was loaded and what was not
     * @throws TunaException ({@link TunaException.Kind#BAD_MODEL_FILE}) listing every missing,
     *     unexpected and mismatched name at once when the mode's requirements are not met
     */
    public LoadReport load(WeightFile file, LoadMode mode) {
        Map<String, Tensor> tensors = new HashMap<>();
        for (Map.Entry<String, Tensor> e : file.tensors().entrySet()) {
            if (!e.getKey().endsWith(".num_batches_tracked")) {
                tensors.put(e.getKey(), e.getValue());
            }
        }
        List<String> loaded = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        Map<String, float[]> values = new HashMap<>();
        for (Map.Entry<String, Parameter> e : names.all().entrySet()) {
            String name = e.getKey();
            Tensor tensor = tensors.get(name);
            long[] expected = e.getValue().getArray().getShape().getShape();
            if (tensor == null) {
                missing.add(name);
            } else if (!Arrays.equals(tensor.shape(), expected)) {
                mismatched.add(name + ": file " + Arrays.toString(tensor.shape()) + " vs network "
                        + Arrays.toString(expected));
            } else if (!tensor.dtype().isFloatingPoint()) {
                mismatched.add(name + ": file has " + tensor.dtype() + ", expected floating point");
            } else {
                values.put(name, tensor.toFloats());
            }
        }
        List<String> unexpected = tensors.keySet().stream().filter(n -> !names.all().containsKey(n)).sorted()
                .collect(Collectors.toList());
        List<String> requiredMissing = missing;
        List<String> disallowedExtra = unexpected;
        if (mode == LoadMode.BODY) {
            requiredMissing = missing.stream().filter(n -> !n.startsWith("head.")).toList();
            disallowedExtra = unexpected.stream().filter(n -> !architecture.spec().isClassifier(n)).toList();
        }
        if (mode != LoadMode.PARTIAL && (!requiredMissing.isEmpty() || !disallowedExtra.isEmpty()
                || !mismatched.isEmpty())) {
            throw new TunaException(TunaException.Kind.BAD_MODEL_FILE, "The weights in " + file.path()
                    + " do not fit " + architecture.id() + (transfer ? " (body)" : "") + ": "
                    + list("missing", requiredMissing) + list("unexpected", disallowedExtra)
                    + list("shape mismatch", mismatched)
                    + "Check that the file is for " + architecture.id() + ", or load it partially.");
        }
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            dev.tuna.internal.nn.Arrays2.copyInto(names.all().get(e.getKey()).getArray(), e.getValue());
            loaded.add(e.getKey());
        }
        loaded.sort(null);
        return new LoadReport(loaded, missing, unexpected, mismatched);
    }

    private static String list(String what, List<String> items) {
        if (items.isEmpty()) {
            return "";
        }
        int shown = Math.min(items.size(), 12);
        return items.size() + " " + what + " (" + String.join(", ", items.subList(0, shown))
                + (items.size() > shown ? ", ... " + (items.size() - shown) + " more" : "") + "); ";
    }

    /**
     * Returns the observable batch-norm layers (for recalibration and diagnostics).
     *
     * @return the layers in network order
     */
    public List<ObservedBatchNorm> batchNormLayers() {
        return names.batchNormLayers();
    }

    /**
     * Creates a manager for temporary arrays whose lifetime the caller controls.
     *
     * @return a sub-manager of this network's manager
     */
    public NDManager newManager() {
        return manager.newSubManager();
    }

    @Override
    public void close() {
        manager.close();
    }
}
