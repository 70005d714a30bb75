package dev.tuna.learn;

import ai.djl.ndarray.types.Shape;
import dev.tuna.TunaException;
import dev.tuna.internal.nn.Arrays2;
import dev.tuna.internal.train.FastAdam;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * fast.ai's learning-rate finder as what it is there, a scheduler callback on the one loop: the plan
 * raises the learning rate exponentially batch by batch; this callback records the smoothed loss at
 * each rate, stops once it has the planned number of points or the loss exceeds 4× its best, and puts
 * the weights and the optimizer state back as they were before.
 */
final class LrFinder implements Callback {
    private final int iterations;
    private final List<Double> rates = new ArrayList<>();
    private final List<Double> losses = new ArrayList<>();
    private final Map<String, float[]> weights = new HashMap<>();
    private final Map<String, Shape> shapes = new HashMap<>();
    private FastAdam.Snapshot optimizer;
    private double best = Double.POSITIVE_INFINITY;

    LrFinder(int iterations) {
        this.iterations = iterations;
    }

    /**
     * The stage that sweeps the rate from {@code start} to {@code end} over {@code iterations} batches,
     * for a loader of {@code perEpoch} batches: enough epochs to hold them, the rate a function of the
     * batch index, momentum 0.9.
     */
    static Stage stage(double start, double end, int iterations, int perEpoch) {
        int epochs = Math.max(1, (iterations + perEpoch - 1) / perEpoch);
        double scale = (double) epochs * perEpoch / iterations; // stage progress → sweep progress
        Schedule sweep = Schedule.exponential(start, end);
        return Stage.of(epochs, pos -> sweep.at(pos * scale), Schedule.constant(0.9));
    }

    /** Runs the sweep on the learner's loop with this callback and the callbacks that change inputs. */
    static LrFind run(Learner learner, TrainingLoop loop, double start, double end, int iterations) {
        if (!(start > 0 && end > start) || iterations < 2) {
            throw TunaException.usage("lrFind needs 0 < start < end and at least 2 iterations; found " + start
                    + ", " + end + ", " + iterations + ".");
        }
        int perEpoch = learner.data().train().batchCount();
        if (perEpoch == 0) {
            throw TunaException.badData("There are no training images for the learning-rate finder.");
        }
        LrFinder finder = new LrFinder(iterations);
        List<Callback> hooks = new ArrayList<>(learner.callbacks().stream().filter(Callback::changesInputs).toList());
        hooks.add(finder);
        loop.run(stage(start, end, iterations, perEpoch), 0, new SmoothedLoss(), hooks, true);
        return finder.result();
    }

    @Override
    public void onFitStart(Learner learner, Phase phase, int epochs, int batchesPerEpoch) {
        learner.network().parameters().forEach((name, p) -> {
            weights.put(name, p.getArray().toFloatArray());
            shapes.put(name, p.getArray().getShape());
        });
        optimizer = learner.optimizer().snapshot();
    }

    @Override
    public void onBatchEnd(Learner learner, int batch, int batches, BatchRecord record, double imagesPerSecond) {
        double value = record.smoothLoss();
        rates.add(record.learningRate());
        losses.add(value);
        best = Math.min(best, value);
        if (!Double.isFinite(value) || value > 4 * best || rates.size() >= iterations) {
            learner.stop();
        }
    }

    @Override
    public void onFitEnd(Learner learner) {
        learner.network().parameters().forEach((name, p) -> Arrays2.copyInto(p.getArray(), weights.get(name)));
        learner.optimizer().restore(optimizer, shapes);
        learner.network().parameters().values().forEach(p -> {
            if (p.requiresGradient() && p.getArray().hasGradient()) {
                FastAdam.zero(p.getArray().getGradient());
            }
        });
    }

    /** The curve and fast.ai's valley suggestion. */
    LrFind result() {
        double[] lr = rates.stream().mapToDouble(Double::doubleValue).toArray();
        double[] loss = losses.stream().mapToDouble(Double::doubleValue).toArray();
        return new LrFind(lr, loss, LrFind.valley(lr, loss, iterations));
    }
}
