package dev.tuna.learn;

/**
 * One row of the training table.
 *
 * @param epoch the epoch number within its fit, from 0 (as fast.ai prints it)
 * @param phase "frozen", "unfrozen" or "fit"
 * @param trainLoss the exponentially smoothed training loss at the end of the epoch (β = 0.98, debiased)
 * @param validLoss mean validation loss, weighted by batch size (NaN without validation data)
 * @param errorRate 1 − accuracy on the validation set (NaN without validation data)
 * @param seconds wall time of the epoch, training and validation
 * @param trainImagesPerSecond training throughput
 */
public record EpochRecord(int epoch, String phase, double trainLoss, double validLoss, double errorRate, double seconds,
        double trainImagesPerSecond) {
    /**
     * Returns the validation accuracy.
     *
     * @return 1 − error rate
     */
    public double accuracy() {
        return 1 - errorRate;
    }
}
