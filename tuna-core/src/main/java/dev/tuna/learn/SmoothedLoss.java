package dev.tuna.learn;

/**
 * The training loss as the epoch table reports it: an exponentially weighted mean with bias
 * correction (fast.ai's {@code AvgSmoothLoss}, β = 0.98), started afresh by every stage.
 */
public final class SmoothedLoss {
    /** fast.ai's β. */
    public static final double BETA = 0.98;

    private final double beta;
    private double raw;
    private int count;

    /** An empty mean with fast.ai's β. */
    public SmoothedLoss() {
        this(BETA, 0, 0);
    }

    /**
     * A mean in a given state (as a checkpoint saved it).
     *
     * @param beta the weight of the past, in [0, 1)
     * @param raw the running biased mean
     * @param count how many values it has seen
     */
    public SmoothedLoss(double beta, double raw, int count) {
        if (!(beta >= 0 && beta < 1) || count < 0) {
            throw new IllegalArgumentException("beta must be in [0, 1) and count at least 0; found " + beta + ", "
                    + count);
        }
        this.beta = beta;
        this.raw = raw;
        this.count = count;
    }

    /**
     * Adds a value.
     *
     * @param x the batch's loss
     */
    public void add(double x) {
        count++;
        raw = beta * raw + (1 - beta) * x;
    }

    /**
     * Returns the debiased mean.
     *
     * @return the mean, NaN before the first value
     */
    public double value() {
        return count == 0 ? Double.NaN : raw / (1 - Math.pow(beta, count));
    }

    /**
     * Returns the running biased mean (what a checkpoint saves).
     *
     * @return the raw mean
     */
    public double raw() {
        return raw;
    }

    /**
     * Returns how many values were added.
     *
     * @return the count
     */
    public int count() {
        return count;
    }

    /**
     * Returns a copy.
     *
     * @return an independent mean in the same state
     */
    public SmoothedLoss copy() {
        return new SmoothedLoss(beta, raw, count);
    }
}
