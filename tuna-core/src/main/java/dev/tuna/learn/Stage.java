package dev.tuna.learn;

import dev.tuna.TunaException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * One part of a training {@link Plan}: a number of epochs with a learning-rate schedule per parameter
 * group and a momentum (Adam's beta1) schedule, each a pure function of progress through the stage,
 * optionally after freezing some groups and changing the image size. fast.ai's {@code fit} and
 * {@code fit_one_cycle} are one stage each; {@code fine_tune} is two.
 *
 * <pre>{@code
 * // a custom schedule: 2 epochs, linear warm-up over 10% then cosine decay, every group at 1e-3
 * Schedule lr = Schedule.combine(0.1, Schedule.linear(1e-5, 1e-3), Schedule.cosine(1e-3, 1e-6));
 * learner.fit(Plan.of(Stage.of(2, lr, Schedule.constant(0.9))));
 * }</pre>
 *
 * @param phase what the stage is called in the epoch table and checkpoints
 * @param epochs epochs, at least 0 (a stage of 0 epochs only freezes and resizes)
 * @param freezeTo groups to freeze before the stage (see {@link Learner#freezeTo}), or {@link #KEEP}
 * @param learningRates one learning-rate schedule per parameter group ({@link Learner#GROUPS})
 * @param momentum the momentum schedule
 * @param size the image side to train at (see {@link Learner#resize}), or {@link #KEEP} for the current one
 */
public record Stage(Phase phase, int epochs, int freezeTo, Schedule[] learningRates, Schedule momentum, int size) {
    /** Leaves the freezing or the size as it is. */
    public static final int KEEP = -1;

    /**
     * Validates the stage.
     *
     * @param phase what the stage is called in the epoch table and checkpoints
     * @param epochs epochs, at least 0 (a stage of 0 epochs only freezes and resizes)
     * @param freezeTo groups to freeze before the stage (see {@link Learner#freezeTo}), or {@link #KEEP}
     * @param learningRates one learning-rate schedule per parameter group ({@link Learner#GROUPS})
     * @param momentum the momentum schedule
     * @param size the image side to train at (see {@link Learner#resize}), or {@link #KEEP} for the current one
     */
    public Stage {
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(momentum, "momentum");
        if (epochs < 0) {
            throw TunaException.usage("The number of epochs must be at least 1; found " + epochs + ".");
        }
        if (learningRates.length != Learner.GROUPS) {
            throw TunaException.usage("Need one learning rate per parameter group (" + Learner.GROUPS + "); found "
                    + learningRates.length + ". Use LearningRates.slice(...) to spread one rate.");
        }
        for (Schedule schedule : learningRates) {
            Objects.requireNonNull(schedule, "learning-rate schedule");
        }
        if (freezeTo != KEEP && (freezeTo < 0 || freezeTo >= Learner.GROUPS)) {
            throw TunaException.usage("freezeTo takes 0 to " + (Learner.GROUPS - 1) + " groups; found " + freezeTo + ".");
        }
        if (size != KEEP && size < 8) {
            throw TunaException.usage("A stage's image size must be at least 8 px; found " + size + ".");
        }
        learningRates = learningRates.clone();
    }

    /**
     * A stage with the same schedule for every parameter group, the freezing and size as they are.
     *
     * @param epochs epochs
     * @param learningRate the learning-rate schedule
     * @param momentum the momentum schedule
     * @return the stage
     */
    public static Stage of(int epochs, Schedule learningRate, Schedule momentum) {
        Schedule[] rates = new Schedule[Learner.GROUPS];
        Arrays.fill(rates, learningRate);
        return new Stage(Phase.FIT, epochs, KEEP, rates, momentum, KEEP);
    }

    /**
     * fast.ai's {@code fit}: constant learning rates and momentum 0.9.
     *
     * @param epochs epochs
     * @param learningRates the learning rate of each group
     * @return the stage
     */
    public static Stage constant(int epochs, double[] learningRates) {
        Schedule[] rates = new Schedule[checked(learningRates).length];
        for (int g = 0; g < rates.length; g++) {
            rates[g] = Schedule.constant(learningRates[g]);
        }
        return new Stage(Phase.FIT, epochs, KEEP, rates, Schedule.constant(0.9), KEEP);
    }

    /**
     * fast.ai's {@code fit_one_cycle}.
     *
     * @param epochs epochs
     * @param lrMax the peak learning rate of each group
     * @param cycle the one-cycle settings
     * @return the stage
     */
    public static Stage oneCycle(int epochs, double[] lrMax, OneCycle cycle) {
        Schedule[] rates = new Schedule[checked(lrMax).length];
        for (int g = 0; g < rates.length; g++) {
            rates[g] = cycle.learningRate(lrMax[g]);
        }
        return new Stage(Phase.FIT, epochs, KEEP, rates, cycle.momentum(), KEEP);
    }

    /**
     * Returns this stage under another name.
     *
     * @param value the phase
     * @return the stage
     */
    public Stage withPhase(Phase value) {
        return new Stage(value, epochs, freezeTo, learningRates, momentum, size);
    }

    /**
     * Returns this stage, freezing the first {@code groups} groups before it starts.
     *
     * @param groups groups to freeze: 0 (unfreeze) to {@link Learner#GROUPS} − 1 (freeze)
     * @return the stage
     */
    public Stage withFreezeTo(int groups) {
        return new Stage(phase, epochs, groups, learningRates, momentum, size);
    }

    /**
     * Returns this stage with another number of epochs: its schedules are functions of the position in
     * the stage, so they stretch or shrink with it.
     *
     * @param count epochs, at least 0
     * @return the stage
     */
    public Stage withEpochs(int count) {
        return new Stage(phase, count, freezeTo, learningRates, momentum, size);
    }

    /**
     * Returns this stage at another image size.
     *
     * @param side the image side in pixels
     * @return the stage
     */
    public Stage withSize(int side) {
        return new Stage(phase, epochs, freezeTo, learningRates, momentum, side);
    }

    /**
     * Returns the learning-rate schedules. They are functions, so the array is copied, never exposed.
     *
     * @return one schedule per parameter group
     */
    @Override
    public Schedule[] learningRates() {
        return learningRates.clone();
    }

    /**
     * Describes the stage for people and for checkpoints, e.g. {@code "unfrozen 3 epochs at 224 px"}.
     *
     * @return the description
     */
    public String describe() {
        return String.format(Locale.ROOT, "%s %d epoch%s%s%s", phase, epochs, epochs == 1 ? "" : "s",
                freezeTo == KEEP ? "" : " (" + freezeTo + " groups frozen)", size == KEEP ? "" : " at " + size + " px");
    }

    private static double[] checked(double[] rates) {
        if (rates.length != Learner.GROUPS) {
            throw TunaException.usage("Need one learning rate per parameter group (" + Learner.GROUPS + "); found "
                    + rates.length + ". Use LearningRates.slice(...) to spread one rate.");
        }
        return rates;
    }
}
