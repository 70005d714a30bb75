package dev.tuna.learn;

import ai.djl.ndarray.types.Shape;
import dev.tuna.internal.train.FastAdam;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where {@code fineTune} starts: at the beginning, or at an epoch boundary restored from a
 * {@link Checkpoint} together with the state that belongs to that point of the loop.
 *
 * @param phase {@link #FROZEN} or {@link #UNFROZEN}
 * @param epoch epochs of that phase already done
 * @param smoothRaw the smoothed loss's running (biased) mean within the phase
 * @param smoothCount how many losses the smoothed loss has seen within the phase
 * @param optimizer the optimizer state to continue with, or null to start afresh
 * @param complete whether the run had already ended (nothing is left to train)
 */
record Resume(int phase, int epoch, double smoothRaw, int smoothCount, FastAdam.Snapshot optimizer, boolean complete) {
    static final int FROZEN = 0;
    static final int UNFROZEN = 1;
    static final double SMOOTHING = 0.98;
    static final Resume START = new Resume(FROZEN, 0, 0, 0, null, false);
    static final Resume START_UNFROZEN = new Resume(UNFROZEN, 0, 0, 0, null, false);

    /** The smoothed loss as it was at this point. */
    Learner.SmoothLoss smoothLoss() {
        return new Learner.SmoothLoss(SMOOTHING, smoothRaw, smoothCount);
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
