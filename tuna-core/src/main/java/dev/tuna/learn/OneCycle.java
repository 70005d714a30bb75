package dev.tuna.learn;

import dev.tuna.TunaException;

/**
 * fast.ai's one-cycle policy settings ({@code fit_one_cycle}): the learning rate warms up by a
 * half-cosine from {@code lrMax / div} to {@code lrMax} over {@code pctStart} of the iterations, then
 * anneals by a half-cosine to {@code lrMax / divFinal}; momentum (Adam's beta1) does the mirror image,
 * {@code moms[0] → moms[1] → moms[2]}.
 *
 * @param div initial learning-rate divisor (fast.ai: 25)
 * @param divFinal final learning-rate divisor (fast.ai: 1e5)
 * @param pctStart fraction of iterations spent warming up (fast.ai: 0.25)
 * @param momStart beta1 at the start (0.95)
 * @param momMiddle beta1 at the peak learning rate (0.85)
 * @param momEnd beta1 at the end (0.95)
 */
public record OneCycle(double div, double divFinal, double pctStart, double momStart, double momMiddle, double momEnd) {
    /** fast.ai's defaults: div 25, divFinal 1e5, pctStart 0.25, moms (0.95, 0.85, 0.95). */
    public static final OneCycle DEFAULT = new OneCycle(25, 1e5, 0.25, 0.95, 0.85, 0.95);

    /**
     * Validates the settings.
     *
     * @param div initial learning-rate divisor (fast.ai: 25)
     * @param divFinal final learning-rate divisor (fast.ai: 1e5)
     * @param pctStart fraction of iterations spent warming up (fast.ai: 0.25)
     * @param momStart beta1 at the start (0.95)
     * @param momMiddle beta1 at the peak learning rate (0.85)
     * @param momEnd beta1 at the end (0.95)
     */
    public OneCycle {
        if (!(div > 0) || !(divFinal > 0)) {
            throw TunaException.usage("One-cycle divisors must be positive; found div " + div + ", divFinal " + divFinal + ".");
        }
        if (!(pctStart >= 0 && pctStart <= 1)) {
            throw TunaException.usage("pctStart must be in [0, 1]; found " + pctStart + ".");
        }
    }

    /**
     * Returns a copy with another warm-up fraction.
     *
     * @param pct the fraction
     * @return the settings
     */
    public OneCycle withPctStart(double pct) {
        return new OneCycle(div, divFinal, pct, momStart, momMiddle, momEnd);
    }

    /**
     * Returns a copy with another initial divisor.
     *
     * @param value the divisor
     * @return the settings
     */
    public OneCycle withDiv(double value) {
        return new OneCycle(value, divFinal, pctStart, momStart, momMiddle, momEnd);
    }

    /**
     * The learning-rate schedule for a group whose peak rate is {@code lrMax}.
     *
     * @param lrMax the peak learning rate
     * @return the schedule
     */
    public Schedule learningRate(double lrMax) {
        return Schedule.combinedCosine(pctStart, lrMax / div, lrMax, lrMax / divFinal);
    }

    /**
     * The momentum (beta1) schedule.
     *
     * @return the schedule
     */
    public Schedule momentum() {
        return Schedule.combinedCosine(pctStart, momStart, momMiddle, momEnd);
    }
}
