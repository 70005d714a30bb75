package dev.tuna.learn;

import dev.tuna.TunaException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

    /**
     * The plan {@code fine_tune(epochs)} runs: a {@link Phase#FROZEN} stage of {@code freezeEpochs}
     * with the body frozen, then an {@link Phase#UNFROZEN} stage of {@code epochs}.
     *
     * @param epochs unfrozen epochs, at least 1
     * @return the plan
     */
    public Plan plan(int epochs) {
        if (epochs < 1) {
            throw TunaException.usage("The number of epochs must be at least 1; found " + epochs + ".");
        }
        if (freezeEpochs < 0) {
            throw TunaException.usage("The number of frozen epochs must be at least 0; found " + freezeEpochs + ".");
        }
        Stage frozen = Stage.oneCycle(freezeEpochs, LearningRates.slice(baseLr, Learner.GROUPS),
                OneCycle.DEFAULT.withPctStart(0.99)).withPhase(Phase.FROZEN).withFreezeTo(Learner.GROUPS - 1);
        double base = baseLr / 2;
        Stage unfrozen = Stage.oneCycle(epochs, LearningRates.slice(base / lrMult, base, Learner.GROUPS),
                OneCycle.DEFAULT.withPctStart(pctStart).withDiv(div)).withPhase(Phase.UNFROZEN).withFreezeTo(0);
        Map<String, String> settings = new LinkedHashMap<>(); // as checkpoints have always recorded them
        settings.put("epochs", Integer.toString(epochs));
        settings.put("freezeEpochs", Integer.toString(freezeEpochs));
        settings.put("baseLr", Double.toString(baseLr));
        settings.put("lrMult", Double.toString(lrMult));
        settings.put("pctStart", Double.toString(pctStart));
        settings.put("div", Double.toString(div));
        return new Plan(List.of(frozen, unfrozen), settings);
    }
}
