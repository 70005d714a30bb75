package dev.tuna.learn;

import ai.djl.ndarray.NDArray;

/**
 * What one training step feeds the network and the loss, as {@link Callback#beforeStep} may change it.
 *
 * @param images the batch's images (N, C, H, W)
 * @param targets the target distributions (N, classes), rows summing to 1
 * @param weights for mixed batches, each image's weight of its own target (λ); null otherwise
 */
public record StepInput(NDArray images, NDArray targets, float[] weights) {}
