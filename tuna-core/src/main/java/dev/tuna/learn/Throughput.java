package dev.tuna.learn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.tuna.ProgressListener;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.internal.train.FastAdam;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.model.Network;
import java.util.Arrays;
import java.util.List;

/**
 * This machine's measured speed for one architecture and batch size: seconds per image of a training
 * step (forward, backward, optimizer) and of an evaluation forward pass at two image sizes, and of
 * decoding an image. Costs at other sizes are interpolated linearly in the number of pixels.
 *
 * @param batchSize the batch size measured
 * @param sizes the two measured image sides, smaller first
 * @param trainSeconds seconds per image of a training step at each size
 * @param evalSeconds seconds per image of an evaluation pass at each size
 * @param decodeSeconds seconds per image of decoding and resizing (all threads together)
 * @param frozenFraction a frozen training step's time (fast.ai's freeze: body convolutions fixed, batch norm
 *     and head training) over an unfrozen one's, measured at the smaller size; 1 when not measured
 */
public record Throughput(int batchSize, int[] sizes, double[] trainSeconds, double[] evalSeconds, double decodeSeconds,
        double frozenFraction) {
    /** The sides the probe measures. */
    static final int[] PROBE_SIZES = {128, 224};

    /**
     * Validates.
     *
     * @param batchSize the batch size measured
     * @param sizes the two measured image sides, smaller first
     * @param trainSeconds seconds per image of a training step at each size
     * @param evalSeconds seconds per image of an evaluation pass at each size
     * @param decodeSeconds seconds per image of decoding and resizing (all threads together)
     * @param frozenFraction a frozen step's time over an unfrozen one's
     */
    public Throughput {
        if (sizes.length != 2 || trainSeconds.length != 2 || evalSeconds.length != 2 || !(sizes[0] < sizes[1])
                || Arrays.stream(trainSeconds).anyMatch(s -> !(s > 0)) || Arrays.stream(evalSeconds).anyMatch(s -> !(s > 0))
                || !(decodeSeconds >= 0) || !(frozenFraction > 0 && frozenFraction <= 2)) {
            throw new IllegalArgumentException("invalid throughput: sizes " + Arrays.toString(sizes) + ", train "
                    + Arrays.toString(trainSeconds) + ", eval " + Arrays.toString(evalSeconds) + ", decode "
                    + decodeSeconds + ", frozen fraction " + frozenFraction);
        }
        sizes = sizes.clone();
        trainSeconds = trainSeconds.clone();
        evalSeconds = evalSeconds.clone();
    }

    /**
     * A measurement without the frozen step (taken as costing the same as an unfrozen one).
     *
     * @param batchSize the batch size measured
     * @param sizes the two measured image sides, smaller first
     * @param trainSeconds seconds per image of a training step at each size
     * @param evalSeconds seconds per image of an evaluation pass at each size
     * @param decodeSeconds seconds per image of decoding and resizing (all threads together)
     */
    public Throughput(int batchSize, int[] sizes, double[] trainSeconds, double[] evalSeconds, double decodeSeconds) {
        this(batchSize, sizes, trainSeconds, evalSeconds, decodeSeconds, 1);
    }

    /**
     * Seconds per image of a training step at a size, frozen (fast.ai's freeze) or not.
     *
     * @param size the image side
     * @param frozen whether the body's convolutions are frozen
     * @return seconds
     */
    public double train(int size, boolean frozen) {
        return train(size) * (frozen ? frozenFraction : 1);
    }

    /**
     * Seconds per image of a training step at a size.
     *
     * @param size the image side
     * @return seconds
     */
    public double train(int size) {
        return at(trainSeconds, size);
    }

    /**
     * Seconds per image of an evaluation pass at a size.
     *
     * @param size the image side
     * @return seconds
     */
    public double eval(int size) {
        return at(evalSeconds, size);
    }

    private double at(double[] seconds, int size) {
        double p0 = (double) sizes[0] * sizes[0];
        double p1 = (double) sizes[1] * sizes[1];
        double slope = Math.max(0, (seconds[1] - seconds[0]) / (p1 - p0));
        double value = seconds[0] + slope * ((double) size * size - p0);
        return Math.max(value, seconds[0] * 0.5); // never extrapolate below half the small size's cost
    }

    /**
     * Measures this machine: a network of the architecture with random weights trains and evaluates a
     * few batches of random images at each probe size (after one warm-up batch, which also pays for
     * the kernel checks), and a few images per class of {@code spec} are decoded. Nothing of the user's
     * model is touched. Takes about 10–20 s on 2 cores for MobileNetV2.
     *
     * @param spec the data (only a sample is decoded)
     * @param architecture the architecture
     * @param tfSamePadding whether the weights use TensorFlow padding
     * @param classes the number of classes
     * @return the measurement
     */
    public static Throughput measure(ImageFolder spec, Architecture architecture, boolean tfSamePadding, int classes) {
        int batchSize = spec.batchSize();
        double[] train = new double[2];
        double[] eval = new double[2];
        double frozen;
        try (NDManager manager = NDManager.newBaseManager();
             Network network = Network.transfer(architecture, HeadSpec.DEFAULT, classes, tfSamePadding, manager, 0);
             FastAdam optimizer = new FastAdam(manager, FastAdam.Settings.FASTAI)) {
            List<FastAdam.Slot> slots = FastAdam.slots(network.parameters(), network::group, network::isNorm);
            for (int i = 0; i < PROBE_SIZES.length; i++) {
                int size = PROBE_SIZES[i];
                train[i] = seconds(3, () -> trainStep(network, optimizer, slots, manager, batchSize, size)) / batchSize;
                eval[i] = seconds(3, () -> evalStep(network, manager, batchSize, size)) / batchSize;
            }
            // fast.ai's frozen phase: the body's weights fixed, its batch norm and the head training
            for (FastAdam.Slot slot : slots) {
                slot.parameter().freeze(slot.group() < Learner.GROUPS - 1 && !network.isNorm(slot.name()));
            }
            int small = PROBE_SIZES[0];
            double frozenStep = seconds(3, () -> trainStep(network, optimizer, slots, manager, batchSize, small))
                    / batchSize;
            frozen = Math.min(1.5, Math.max(0.2, frozenStep / train[0]));
        }
        return new Throughput(batchSize, PROBE_SIZES, train, eval, decodeSeconds(spec), frozen);
    }

    /**
     * Seconds per call of {@code step}: the fastest of {@code runs} after one warm-up call (the fastest is
     * the least disturbed by anything else on the machine; a whole epoch runs close to it).
     */
    private static double seconds(int runs, Runnable step) {
        step.run();
        double best = Double.POSITIVE_INFINITY;
        for (int r = 0; r < runs; r++) {
            long start = System.nanoTime();
            step.run();
            best = Math.min(best, (System.nanoTime() - start) / 1e9);
        }
        return best;
    }

    /**
     * Describes the measurement for people.
     *
     * @return e.g. "training 40 / 26 images/s at 128 / 224 px (frozen 48 at 128 px), evaluation 208 / 90,
     *     decoding 300"
     */
    public String describe() {
        return String.format(java.util.Locale.ROOT, "training %.0f / %.0f images/s at %d / %d px (frozen %.0f at %d"
                + " px), evaluation %.0f / %.0f, decoding %.0f", 1 / trainSeconds[0], 1 / trainSeconds[1], sizes[0],
                sizes[1], 1 / (trainSeconds[0] * frozenFraction), sizes[0], 1 / evalSeconds[0], 1 / evalSeconds[1],
                decodeSeconds > 0 ? 1 / decodeSeconds : Double.POSITIVE_INFINITY);
    }

    private static NDArray images(NDManager manager, int batchSize, int size) {
        return manager.randomNormal(new Shape(batchSize, size, size, 3)).transpose(0, 3, 1, 2); // as batches are laid out
    }

    private static void trainStep(Network network, FastAdam optimizer, List<FastAdam.Slot> slots, NDManager parent,
            int batchSize, int size) {
        try (NDManager manager = parent.newSubManager()) {
            NDArray x = images(manager, batchSize, size);
            NDArray targets = manager.zeros(new Shape(batchSize, network.classes())).add(1.0f / network.classes());
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(Loss.labelSmoothing(0).of(network.forward(x, true), targets));
            }
            double[] rates = new double[Learner.GROUPS];
            Arrays.fill(rates, 1e-9);
            optimizer.step(slots, rates, 0.9);
        }
    }

    private static void evalStep(Network network, NDManager parent, int batchSize, int size) {
        try (NDManager manager = parent.newSubManager()) {
            network.forward(images(manager, batchSize, size), false).softmax(1).toFloatArray();
        }
    }

    /**
     * Decodes a few images of each class, then a few more (all threads): seconds per image from the
     * difference, so the thread pool's start is not counted per image.
     */
    private static double decodeSeconds(ImageFolder spec) {
        double[] seconds = new double[2];
        int[] images = new int[2];
        int[] perClass = {4, 20};
        for (int i = 0; i < 2; i++) {
            ImageFolder sample = spec.limitPerClass(perClass[i]).resize(PROBE_SIZES[1], spec.resizeMethod())
                    .progress(ProgressListener.NONE);
            long start = System.nanoTime();
            try (DataLoaders loaders = sample.dataloaders()) {
                images[i] = loaders.train().size() + loaders.valid().size();
            }
            seconds[i] = (System.nanoTime() - start) / 1e9;
        }
        if (images[1] <= images[0]) { // few images per class: all were decoded both times
            return seconds[1] / Math.max(1, images[1]);
        }
        return Math.max(0, seconds[1] - seconds[0]) / (images[1] - images[0]);
    }
}
