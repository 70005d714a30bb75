package dev.tuna.learn;

/**
 * One row of the training table.
 *
 * @param epoch the epoch number within its fit, from 0 (as fast.ai prints it)
 * @param phase which part of training
 * @param trainLoss the exponentially smoothed training loss at the end of the epoch (β = 0.98, debiased)
 * @param validLoss mean validation loss, weighted by batch size (NaN without validation data)
 * @param errorRate 1 − accuracy on the validation set (NaN without validation data)
 * @param seconds wall time of the epoch, training and validation
 * @param trainImagesPerSecond training throughput
 * @param validSeconds wall time of the validation pass (NaN when not measured)
 * @param residentBytes the process's resident memory at the end of the epoch (0 when not measured)
 */
public record EpochRecord(int epoch, Phase phase, double trainLoss, double validLoss, double errorRate, double seconds,
        double trainImagesPerSecond, double validSeconds, long residentBytes) {
    /**
     * A row without the validation time and memory measurements.
     *
     * @param epoch the epoch number within its fit
     * @param phase the phase
     * @param trainLoss the smoothed training loss
     * @param validLoss mean validation loss
     * @param errorRate validation error rate
     * @param seconds wall time of the epoch
     * @param trainImagesPerSecond training throughput
     */
    public EpochRecord(int epoch, Phase phase, double trainLoss, double validLoss, double errorRate, double seconds,
            double trainImagesPerSecond) {
        this(epoch, phase, trainLoss, validLoss, errorRate, seconds, trainImagesPerSecond, Double.NaN, 0);
    }

    /**
     * Returns the validation accuracy.
     *
     * @return 1 − error rate
     */
    public double accuracy() {
        return 1 - errorRate;
    }
}
