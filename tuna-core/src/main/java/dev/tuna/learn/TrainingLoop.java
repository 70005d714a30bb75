package dev.tuna.learn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import dev.tuna.TunaException;
import dev.tuna.data.Batch;
import dev.tuna.data.BatchIterator;
import dev.tuna.data.DataLoader;
import dev.tuna.inference.Predictions;
import dev.tuna.internal.engine.ProcessMemory;
import dev.tuna.internal.engine.TorchRandom;
import dev.tuna.internal.nn.Numerics;
import dev.tuna.internal.train.FastAdam;
import dev.tuna.model.Network;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The one training loop: runs a {@link Stage} batch by batch — schedules evaluated at each step's
 * progress, the step (forward, loss, backward, optimizer), the hooks — then validates each epoch.
 * Every plan ({@code fit}, {@code fitOneCycle}, {@code fineTune}, the learning-rate finder) runs here.
 */
final class TrainingLoop {
    /** Where the learning-rate finder's data epochs are numbered from, apart from training's. */
    private static final int EXPLORE_EPOCHS = 1_000_000;

    private final Learner learner;
    private final Progress progress;

    TrainingLoop(Learner learner, Progress progress) {
        this.learner = learner;
        this.progress = progress;
    }

    /** Runs a plan from a position: each stage resizes and freezes as it says, then trains. */
    void run(Plan plan, Resume from, List<Callback> hooks) {
        if (from.complete()) {
            return;
        }
        List<Stage> stages = plan.stages();
        for (int i = from.stage(); i < stages.size() && !learner.stopped(); i++) {
            Stage stage = stages.get(i);
            progress.stage = i;
            if (stage.size() != Stage.KEEP) {
                learner.resize(stage.size());
            }
            if (stage.freezeTo() != Stage.KEEP) {
                learner.freezeTo(stage.freezeTo());
            }
            int epoch = i == from.stage() ? from.epoch() : 0;
            if (epoch == 0) {
                Stage planned = stage;
                for (Callback hook : hooks) {
                    stage = Objects.requireNonNull(hook.beforeStage(learner, i, stage), "beforeStage's stage");
                }
                if (stage != planned && learner.lastPlan != null) {
                    learner.lastPlan = learner.lastPlan.withStage(i, stage); // what ran is what exports record
                }
            }
            if (epoch < stage.epochs()) {
                if (i == from.stage()) {
                    from.restoreOptimizer(learner.optimizer(), learner.slots());
                }
                run(stage, epoch, from.smoothingFor(i), hooks, false);
            }
        }
    }

    /**
     * Runs one stage from epoch {@code fromEpoch}.
     *
     * @param stage the stage
     * @param fromEpoch epochs of the stage already done (a resumed run)
     * @param smooth the smoothed loss to continue
     * @param callbacks the hooks
     * @param explore true for the learning-rate finder: no validation, nothing recorded, its own draws
     */
    void run(Stage stage, int fromEpoch, SmoothedLoss smooth, List<Callback> callbacks, boolean explore) {
        DataLoader train = learner.data().train();
        int perEpoch = train.batchCount();
        if (perEpoch == 0) {
            throw TunaException.badData("There are no training images to fit on (the training split is empty).");
        }
        Numerics.current().checkTraining();
        Schedule[] lrs = stage.learningRates();
        Network network = learner.network();
        long total = (long) stage.epochs() * perEpoch;
        long done = (long) fromEpoch * perEpoch;
        if (!explore) {
            progress.smoothing = smooth;
        }
        callbacks.forEach(c -> c.onFitStart(learner, stage.phase(), stage.epochs(), perEpoch));
        boolean cacheFeatures = !explore && learner.bodyFixed() && !train.augments()
                && callbacks.stream().noneMatch(Callback::changesInputs);
        FrozenFeatures features = null;
        try {
            for (int epoch = fromEpoch; epoch < stage.epochs() && !learner.stopped(); epoch++) {
                long start = System.nanoTime();
                if (cacheFeatures && features == null) {
                    features = FrozenFeatures.compute(network, learner.manager(), train.forEvaluation(),
                            learner.data().valid());
                }
                // data order, augmentation, dropout and batch mixing: functions of the seed and the epoch
                int key = explore ? EXPLORE_EPOCHS + epoch : progress.epochsSeen;
                long epochSeed = Resume.epochSeed(learner.seed(), explore ? -1 - epoch : key);
                TorchRandom.seed(epochSeed);
                network.seedStochasticDepth(epochSeed);
                int images = 0;
                try (BatchIterator batches = train.iterate(learner.manager(), key)) {
                    for (int b = 0; batches.hasNext() && !learner.stopped(); b++) {
                        double pos = (double) done / total;
                        double[] rates = new double[lrs.length];
                        for (int g = 0; g < rates.length; g++) {
                            rates[g] = lrs[g].at(pos);
                        }
                        double beta1 = stage.momentum().at(pos);
                        double loss;
                        try (Batch batch = batches.next()) {
                            loss = step(batch, features, rates, beta1, callbacks, explore ? -1 - epoch : key, b, explore);
                            images += batch.size();
                        }
                        smooth.add(loss);
                        BatchRecord record = new BatchRecord(explore ? done : progress.iterations++, loss,
                                smooth.value(), rates[rates.length - 1], beta1);
                        if (!explore) {
                            progress.steps.add(record);
                        }
                        done++;
                        double rate = images / ((System.nanoTime() - start) / 1e9);
                        int index = b;
                        callbacks.forEach(c -> c.onBatchEnd(learner, index, perEpoch, record, rate));
                    }
                }
                if (explore || learner.stopped() && done % perEpoch != 0) {
                    continue; // an interrupted epoch is not validated or recorded
                }
                endEpoch(stage, epoch, start, images, smooth, features, callbacks);
            }
        } finally {
            callbacks.forEach(c -> c.onFitEnd(learner));
        }
    }

    /** Validates, records the epoch's row and tells the callbacks. */
    private void endEpoch(Stage stage, int epoch, long start, int images, SmoothedLoss smooth,
            FrozenFeatures features, List<Callback> callbacks) {
        double trainSeconds = (System.nanoTime() - start) / 1e9;
        DataLoader valid = learner.data().valid();
        Network network = learner.network();
        Predictions predictions = valid.size() == 0 ? null
                : features != null ? LoaderPredictions.of(learner, valid,
                        batch -> network.head(features.valid(batch), false).softmax(1))
                : learner.predict(valid, false);
        double seconds = (System.nanoTime() - start) / 1e9;
        EpochRecord record = new EpochRecord(epoch, stage.phase(), smooth.value(),
                predictions == null ? Double.NaN : predictions.meanLoss(),
                predictions == null ? Double.NaN : predictions.errorRate(),
                seconds, images / trainSeconds, seconds - trainSeconds, ProcessMemory.residentBytes());
        progress.history.add(record);
        progress.epochsSeen++;
        callbacks.forEach(c -> c.onEpochEnd(learner, record));
    }

    /** Forward, loss, backward and optimizer step for one batch; returns the loss. */
    private double step(Batch batch, FrozenFeatures features, double[] rates, double beta1, List<Callback> callbacks,
            int epoch, int index, boolean explore) {
        Network network = learner.network();
        NDArray targets = batch.labels().oneHot(network.classes());
        double value;
        if (features != null) {
            value = step(() -> network.head(features.train(batch), true), targets, rates, beta1);
        } else {
            StepInput input = new StepInput(batch.images(), targets, null);
            for (Callback callback : callbacks) {
                input = callback.beforeStep(learner, epoch, index, input);
            }
            NDArray images = input.images();
            boolean fixed = learner.bodyFixed();
            value = step(() -> fixed ? network.forwardFrozenBody(images, true) : network.forward(images, true),
                    input.targets(), rates, beta1);
        }
        if (!Double.isFinite(value) && !explore) { // the finder stops by itself when the loss diverges
            throw new TunaException(TunaException.Kind.RUNTIME, "The training loss became " + value
                    + "; the learning rate is probably too high. Lower it (try lrFind()).");
        }
        return value;
    }

    private double step(Supplier<NDArray> forward, NDArray targets, double[] rates, double beta1) {
        return step(forward, targets, learner.loss(), learner.optimizer(), learner.slots(), rates, beta1);
    }

    /**
     * One optimizer step: forward, loss, backward, then Adam on the trainable parameters (a non-finite
     * loss zeroes the gradients instead); returns the loss.
     */
    static double step(Supplier<NDArray> forward, NDArray targets, Loss lossFunction, FastAdam optimizer,
            List<FastAdam.Slot> slots, double[] rates, double beta1) {
        NDArray loss;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray logits = forward.get();
            loss = lossFunction.of(logits, targets);
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

    /** The loop's counters and records over the learner's life: what epoch tables and checkpoints show. */
    static final class Progress {
        int stage;
        int epochsSeen;
        long iterations;
        final List<EpochRecord> history = new ArrayList<>();
        final List<BatchRecord> steps = new ArrayList<>();
        SmoothedLoss smoothing = new SmoothedLoss();
    }
}
