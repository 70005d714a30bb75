package dev.tuna.learn;

/**
 * One training step, for loss and learning-rate curves.
 *
 * @param iteration the step number over the learner's life
 * @param loss the batch's loss
 * @param smoothLoss the smoothed loss after this batch
 * @param learningRate the last group's (head's) learning rate at this step
 * @param momentum beta1 at this step
 */
public record BatchRecord(long iteration, double loss, double smoothLoss, double learningRate, double momentum) {}
