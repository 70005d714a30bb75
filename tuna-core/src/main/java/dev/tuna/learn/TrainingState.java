package dev.tuna.learn;

import dev.tuna.internal.train.FastAdam;
import java.util.List;

/**
 * One snapshot of what a learner's training has done, as a {@link Checkpoint} saves and restores it
 * (the network's weights travel beside it, by name).
 *
 * @param stage the stage of the running plan (its index)
 * @param epochsSeen epochs trained over the learner's life
 * @param iterations training steps over the learner's life
 * @param frozenGroups groups frozen now
 * @param smoothing the current stage's smoothed loss
 * @param history the epoch table
 * @param steps every step's record
 * @param optimizer the optimizer's state
 */
record TrainingState(int stage, int epochsSeen, long iterations, int frozenGroups, SmoothedLoss smoothing,
        List<EpochRecord> history, List<BatchRecord> steps, FastAdam.Snapshot optimizer) {
    TrainingState {
        history = List.copyOf(history);
        steps = List.copyOf(steps);
    }
}
