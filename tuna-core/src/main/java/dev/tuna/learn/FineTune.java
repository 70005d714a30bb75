package dev.tuna.learn;

/**
 * fast.ai's {@code fine_tune} settings: train the head (body frozen) for {@code freezeEpochs} with
 * {@code fitOneCycle(freezeEpochs, slice(baseLr), pctStart = 0.99)}, halve {@code baseLr}, unfreeze,
 * then {@code fitOneCycle(epochs, slice(baseLr / lrMult, baseLr), pctStart, div)}.
 *
 * @param baseLr the base learning rate (fast.ai: 2e-3)
 * @param freezeEpochs epochs with the body frozen (fast.ai: 1)
 * @param lrMult ratio of the head's to the first group's rate once unfrozen (fast.ai: 100)
 * @param pctStart warm-up fraction of the unfrozen cycle (fast.ai: 0.3)
 * @param div initial divisor of the unfrozen cycle (fast.ai: 5)
 */
public record FineTune(double baseLr, int freezeEpochs, double lrMult, double pctStart, double div) {
    /** fast.ai's defaults. */
    public static final FineTune DEFAULT = new FineTune(2e-3, 1, 100, 0.3, 5);

    /**
     * Returns a copy with another base learning rate.
     *
     * @param lr the rate
     * @return the settings
     */
    public FineTune withBaseLr(double lr) {
        return new FineTune(lr, freezeEpochs, lrMult, pctStart, div);
    }

    /**
     * Returns a copy with another number of frozen epochs.
     *
     * @param epochs the epochs
     * @return the settings
     */
    public FineTune withFreezeEpochs(int epochs) {
        return new FineTune(baseLr, epochs, lrMult, pctStart, div);
    }
}
