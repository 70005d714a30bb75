package dev.tuna.learn;

import ai.djl.ndarray.types.Shape;
import dev.tuna.internal.train.FastAdam;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where a plan starts: at the beginning, or at an epoch boundary restored from a {@link Checkpoint}
 * together with the state that belongs to that point of the loop.
 *
 * @param stage the plan's stage to continue
 * @param epoch epochs of that stage already done
 * @param smoothing the stage's smoothed loss so far
 * @param optimizer the optimizer state to continue with, or null to start afresh
 * @param complete whether the run had already ended (nothing is left to train)
 */
record Resume(int stage, int epoch, SmoothedLoss smoothing, FastAdam.Snapshot optimizer, boolean complete) {
    static final Resume START = new Resume(0, 0, null, null, false);

    /** The smoothed loss to continue in stage {@code index}: the saved one in the resumed stage, else a new one. */
    SmoothedLoss smoothingFor(int index) {
        return index == stage && smoothing != null ? smoothing.copy() : new SmoothedLoss();
    }

    /** Puts the optimizer state back (after freezing cleared it), if there is one. */
    void restoreOptimizer(FastAdam target, List<FastAdam.Slot> slots) {
        if (optimizer == null) {
            return;
        }
        Map<String, Shape> shapes = new HashMap<>();
        for (FastAdam.Slot slot : slots) {
            shapes.put(slot.name(), slot.parameter().getArray().getShape());
        }
        target.restore(optimizer, shapes);
    }

    /**
     * The seed of libtorch's generator (dropout) for an epoch: a function of the learner's seed and
     * the number of epochs trained before, so a resumed run draws the same masks.
     */
    static long epochSeed(long seed, int epochsSeen) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epochsSeen).nextLong();
    }
}
