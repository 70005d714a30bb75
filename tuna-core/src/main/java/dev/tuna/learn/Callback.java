package dev.tuna.learn;

/**
 * Hooks into the training loop. Every method has a default that does nothing; implement those you
 * need. To end training early, call {@link Learner#stop()} from any hook.
 */
public interface Callback {
    /**
     * A fit (one call of {@code fit} or {@code fitOneCycle}) starts.
     *
     * @param learner the learner
     * @param phase which part of training
     * @param epochs the number of epochs in this fit
     * @param batchesPerEpoch training batches per epoch
     */
    default void onFitStart(Learner learner, Phase phase, int epochs, int batchesPerEpoch) { }

    /**
     * A stage of a {@link Plan} is about to train (after its resizing and freezing, before its first
     * epoch; not for a stage a resumed run enters part-way). May return the stage changed, e.g. with fewer
     * or more epochs to fit a time budget ({@link Budget#guard}); the next callback sees what this one
     * returned.
     *
     * @param learner the learner
     * @param index the stage's position in the plan
     * @param stage the stage as planned
     * @return the stage to train: {@code stage} itself unless the callback changes it
     */
    default Stage beforeStage(Learner learner, int index, Stage stage) {
        return stage;
    }

    /**
     * A training batch is done.
     *
     * @param learner the learner
     * @param batch index within the epoch, from 0
     * @param batches batches in the epoch
     * @param record the step's loss and hyper-parameters
     * @param imagesPerSecond training throughput so far in this epoch
     */
    default void onBatchEnd(Learner learner, int batch, int batches, BatchRecord record, double imagesPerSecond) { }

    /**
     * An epoch (training and validation) is done.
     *
     * @param learner the learner
     * @param record the epoch's row
     */
    default void onEpochEnd(Learner learner, EpochRecord record) { }

    /**
     * A fit ended (normally or by {@link Learner#stop()}).
     *
     * @param learner the learner
     */
    default void onFitEnd(Learner learner) { }

    /**
     * Called before each training step's forward pass (not for cached frozen-body features); may return
     * changed images and targets, e.g. MixUp's.
     *
     * @param learner the learner
     * @param epoch epochs trained before this one, over the learner's life (as checkpoints count them)
     * @param batch the batch within the epoch
     * @param input the images and target distributions
     * @return what the step uses: {@code input} itself unless the callback changes inputs
     */
    default StepInput beforeStep(Learner learner, int epoch, int batch, StepInput input) {
        return input;
    }

    /**
     * Whether {@link #beforeStep} changes the images (then frozen-body features cannot be cached).
     *
     * @return false unless overridden
     */
    default boolean changesInputs() {
        return false;
    }
}
