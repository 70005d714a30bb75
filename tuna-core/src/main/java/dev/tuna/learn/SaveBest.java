package dev.tuna.learn;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps a copy of the weights of the epoch with the lowest validation loss and puts them back at
 * the end of the fit (fast.ai's {@code SaveModelCallback} with {@code at_end=False}), in memory.
 */
public final class SaveBest implements Callback {
    private final Map<String, float[]> best = new HashMap<>();
    private double bestLoss = Double.POSITIVE_INFINITY;
    private int bestEpoch = -1;

    @Override
    public void onFitStart(Learner learner, Phase phase, int epochs, int batchesPerEpoch) {
        best.clear();
        bestLoss = Double.POSITIVE_INFINITY;
        bestEpoch = -1;
    }

    @Override
    public void onEpochEnd(Learner learner, EpochRecord record) {
        if (record.validLoss() < bestLoss) {
            bestLoss = record.validLoss();
            bestEpoch = record.epoch();
            for (Map.Entry<String, Parameter> e : learner.network().parameters().entrySet()) {
                best.put(e.getKey(), e.getValue().getArray().toFloatArray());
            }
        }
    }

    @Override
    public void onFitEnd(Learner learner) {
        if (best.isEmpty()) {
            return;
        }
        for (Map.Entry<String, Parameter> e : learner.network().parameters().entrySet()) {
            NDArray array = e.getValue().getArray();
            dev.tuna.internal.nn.Arrays2.copyInto(array, best.get(e.getKey()));
        }
    }

    /**
     * Returns the epoch whose weights were kept.
     *
     * @return the epoch within the last fit, or -1 before any epoch ended
     */
    public int bestEpoch() {
        return bestEpoch;
    }

    /**
     * Returns the best validation loss.
     *
     * @return the loss
     */
    public double bestLoss() {
        return bestLoss;
    }
}
