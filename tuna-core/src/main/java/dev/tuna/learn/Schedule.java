package dev.tuna.learn;

/**
 * A hyper-parameter as a pure function of training progress {@code pos} in [0, 1] (fast.ai's
 * {@code Scheduler}): 0 before the first batch of a fit, {@code i / n} before batch {@code i}.
 */
@FunctionalInterface
public interface Schedule {
    /**
     * Returns the value at a point of training.
     *
     * @param pos progress in [0, 1]
     * @return the value
     */
    double at(double pos);

    /**
     * A constant.
     *
     * @param value the value
     * @return the schedule
     */
    static Schedule constant(double value) {
        return pos -> value;
    }

    /**
     * Half a cosine from {@code start} to {@code end}: {@code start + (1 + cos(π(1 − pos)))(end − start)/2}.
     *
     * @param start the value at 0
     * @param end the value at 1
     * @return the schedule
     */
    static Schedule cosine(double start, double end) {
        return pos -> start + (1 + Math.cos(Math.PI * (1 - pos))) * (end - start) / 2;
    }

    /**
     * Linear from {@code start} to {@code end}.
     *
     * @param start the value at 0
     * @param end the value at 1
     * @return the schedule
     */
    static Schedule linear(double start, double end) {
        return pos -> start + pos * (end - start);
    }

    /**
     * Exponential from {@code start} to {@code end}: {@code start · (end/start)^pos}.
     *
     * @param start the value at 0
     * @param end the value at 1
     * @return the schedule
     */
    static Schedule exponential(double start, double end) {
        return pos -> start * Math.pow(end / start, pos);
    }

    /**
     * Two schedules joined at {@code split}: {@code first} over [0, split), {@code second} over
     * [split, 1], each seeing its own progress from 0 to 1 (fast.ai's {@code combine_scheds}).
     *
     * @param split where the second schedule starts, in [0, 1]
     * @param first the first schedule
     * @param second the second schedule
     * @return the schedule
     */
    static Schedule combine(double split, Schedule first, Schedule second) {
        return pos -> {
            if (pos >= 1) {
                return second.at(1);
            }
            if (pos < split) {
                return first.at(pos / split);
            }
            return second.at((pos - split) / (1 - split));
        };
    }

    /**
     * fast.ai's {@code combined_cos}: cosine from {@code start} to {@code middle} over the first
     * {@code pct} of training, then cosine from {@code middle} to {@code end}.
     *
     * @param pct the fraction of training spent going from start to middle
     * @param start value at 0
     * @param middle value at {@code pct}
     * @param end value at 1
     * @return the schedule
     */
    static Schedule combinedCosine(double pct, double start, double middle, double end) {
        return combine(pct, cosine(start, middle), cosine(middle, end));
    }
}
