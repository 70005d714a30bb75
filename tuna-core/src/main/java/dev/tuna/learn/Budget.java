package dev.tuna.learn;

import dev.tuna.TunaException;
import dev.tuna.data.ImageFolder;
import dev.tuna.data.ImageList;
import dev.tuna.data.Split;
import dev.tuna.model.Architecture;
import java.nio.file.Path;
import dev.tuna.transform.AugTransforms;
import dev.tuna.transform.Tta;
import java.time.Duration;
import java.util.Locale;

/**
 * Chooses a {@link Recipe} for a wall-time budget from this machine's measured {@link Throughput} and the
 * size of the data — never from a test folder's contents (only its image count, to budget its
 * evaluation). The clock starts when the budget is made, so everything after counts: measuring,
 * decoding, training, validation, testing.
 *
 * <p>The rules (see BENCHMARKS.md, "Recipes for a time budget", for the measurements behind them):
 * <ol>
 *   <li>Always fast.ai's {@code aug_transforms} and label smoothing 0.1 (both help at every epoch count
 *       measured; Müller et al. 2019 for smoothing); MixUp (alpha 0.4, fast.ai's) only from 20,000
 *       training images on (BiT-HyperRule, Kolesnikov et al. 2020, uses it only for datasets of that size).</li>
 *   <li>Epochs: aim at BiT-HyperRule's schedule length in steps (500 under 20,000 images, 10,000 under
 *       500,000), counted at Tuna's batch size (BiT's batches are 8× larger), between
 *       {@value #MIN_EPOCHS} and {@value #MAX_EPOCHS} epochs in all (one frozen).</li>
 *   <li>Size: 224 px (ImageNet's resolution) only when the whole step target fits there; otherwise
 *       192 px, Tuna's default, with as many epochs as fit (measured: 4 epochs at 224 px were no better
 *       than 4 at 192 px, and more epochs at 192 px were better); 160 or 128 px only when not even
 *       {@value #MIN_EPOCHS} epochs fit at 192 px. From 6 epochs on, progressive resizing (the first third
 *       of the unfrozen epochs at about 0.7× the size) buys epochs.</li>
 *   <li>Test-time augmentation when testing with it costs at most 10% of the budget.</li>
 *   <li>A budget in which not even one frozen and one unfrozen epoch at 128 px fit is refused, with the
 *       smallest budget that would work.</li>
 * </ol>
 */
public final class Budget {
    /** The fewest epochs (frozen included) the size rule aims at: fast.ai's default 1 + 3. */
    public static final int MIN_EPOCHS = 4;
    /** The most epochs a budget plans. */
    public static final int MAX_EPOCHS = 40;
    /** BiT-HyperRule's schedule length: 500 steps under 20,000 images, 10,000 under 500,000, else 20,000. */
    static int targetSteps(int images) {
        return images < 20_000 ? 500 : images < 500_000 ? 10_000 : 20_000;
    }
    private static final int[] SIZES = {224, 192, 160, 128};  // the sizes a budget chooses from
    /** BiT-HyperRule uses MixUp only from 20,000 training images on. */
    static final int MIXUP_IMAGES = 20_000;
    /** Saving a checkpoint, recording the epoch: per epoch. */
    private static final double EPOCH_OVERHEAD_SECONDS = 1.5;
    /** Building the learner, exporting the artifact, writing the report. */
    private static final double FIXED_SECONDS = 8;
    /** The estimate is aimed this far below the budget, for the unmeasured. */
    private static final double MARGIN = 0.95;

    private final Duration limit;
    private final long start;
    private Workload work;
    private Throughput speed;

    private Budget(Duration limit, long start) {
        this.limit = limit;
        this.start = start;
    }

    /**
     * Starts the clock on a budget.
     *
     * @param limit the wall time the whole job may take
     * @return the budget
     */
    public static Budget start(Duration limit) {
        if (limit.isNegative() || limit.isZero()) {
            throw TunaException.usage("A time budget must be positive; found " + limit + ".");
        }
        return new Budget(limit, System.nanoTime());
    }

    /**
     * Parses a duration as people write it: {@code 15m}, {@code 900s}, {@code 1h30m}, {@code 90} (seconds).
     *
     * @param text the duration
     * @return the duration
     * @throws TunaException ({@code USAGE}) saying what is accepted
     */
    public static Duration parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.matches("\\d+(\\.\\d+)?")) {
            return Duration.ofMillis(Math.round(Double.parseDouble(t) * 1000));
        }
        if (t.matches("(\\d+(\\.\\d+)?(h|m|min|s))+")) {
            double seconds = 0;
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(h|min|m|s)").matcher(t);
            while (m.find()) {
                double value = Double.parseDouble(m.group(1));
                seconds += value * switch (m.group(2)) {
                    case "h" -> 3600;
                    case "m", "min" -> 60;
                    default -> 1;
                };
            }
            if (seconds > 0) {
                return Duration.ofMillis(Math.round(seconds * 1000));
            }
        }
        throw TunaException.usage("A time budget looks like 15m, 900s, 1h30m or 600 (seconds); found '" + text + "'.");
    }

    /**
     * Returns the budget.
     *
     * @return the limit
     */
    public Duration limit() {
        return limit;
    }

    /**
     * Returns the seconds since the clock started.
     *
     * @return elapsed seconds
     */
    public double elapsedSeconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * Returns the seconds left.
     *
     * @return the remaining seconds (negative when over)
     */
    public double remainingSeconds() {
        return limit.toMillis() / 1000.0 - elapsedSeconds();
    }

    /**
     * Measures this machine ({@link Throughput#measure}) and chooses the recipe for the time left: the
     * data is scanned and split as training will split it; of {@code test}, only the images are counted.
     *
     * @param spec the data
     * @param architecture the architecture
     * @param tfSamePadding whether the weights use TensorFlow padding
     * @param test the test folder evaluated after training, or null
     * @return the recipe
     * @throws TunaException ({@code USAGE}) when the budget is too small, with the smallest that would work
     */
    public Recipe choose(ImageFolder spec, Architecture architecture, boolean tfSamePadding, Path test) {
        ImageList list = spec.scan();
        Split split = spec.splitter().split(list.items());
        int testImages = test == null ? 0 : ImageFolder.from(test).scan().items().size();
        return choose(new Workload(split.train().length, split.valid().length, testImages, spec.batchSize()),
                Throughput.measure(spec, architecture, tfSamePadding, list.classes().size()));
    }

    /**
     * Returns the last measurement of {@link #choose(ImageFolder, Architecture, boolean, Path)}.
     *
     * @return the throughput, or null before measuring
     */
    public Throughput throughput() {
        return speed;
    }

    /**
     * Fits the chosen recipe to the time left after its data is decoded; see
     * {@link #refit(Recipe, Workload, Throughput)}.
     *
     * @param recipe the recipe chosen by {@link #choose(ImageFolder, Architecture, boolean, Path)}
     * @return the recipe to train
     */
    public Recipe refit(Recipe recipe) {
        if (work == null) {
            throw new IllegalStateException("refit(recipe) follows choose(spec, ...)");
        }
        return refit(recipe, work, speed);
    }

    /**
     * Chooses the recipe for the time left, and keeps the workload and measurement for {@link #refit(Recipe)}
     * and {@link #guard}.
     *
     * @param work what has to be done
     * @param speed this machine's speed
     * @return the recipe
     * @throws TunaException ({@code USAGE}) when the budget is too small, with the smallest that would work
     */
    public Recipe choose(Workload work, Throughput speed) {
        measured(work, speed);
        return choose(remainingSeconds(), limit.toMillis() / 1000.0, work, speed);
    }

    /** Keeps the workload and measurement that {@link #refit(Recipe)} and {@link #guard} work from. */
    void measured(Workload newWork, Throughput newSpeed) {
        this.work = newWork;
        this.speed = newSpeed;
    }

    /**
     * The rules above, as a pure function of the time available.
     *
     * @param seconds the seconds left for decoding, training and testing
     * @param budgetSeconds the whole budget (for the share test-time augmentation may take)
     * @param work what has to be done
     * @param speed this machine's speed
     * @return the recipe
     */
    static Recipe choose(double seconds, double budgetSeconds, Workload work, Throughput speed) {
        double available = seconds * MARGIN;
        int target = targetEpochs(work);
        // 224 px (ImageNet's resolution) only when the whole step target fits there; else the most epochs
        // at 192 px, Tuna's default size; smaller sizes only when not even the minimum fits at 192 px
        Recipe full = best(224, target, target, available, work, speed, budgetSeconds);
        if (full != null) {
            return full;
        }
        for (int size : new int[] {192, 160, 128}) {
            Recipe best = best(size, MIN_EPOCHS, target, available, work, speed, budgetSeconds);
            if (best != null) {
                return best;
            }
        }
        int smallest = SIZES[SIZES.length - 1];
        for (int epochs = MIN_EPOCHS - 1; epochs >= 2; epochs--) { // fewer epochs at the smallest size
            Recipe candidate = recipe(smallest, epochs, work, speed, budgetSeconds);
            if (candidate.estimatedSeconds() <= available) {
                return candidate;
            }
        }
        Recipe minimum = recipe(smallest, 2, work, speed, 0);
        double needed = minimum.estimatedSeconds() / MARGIN + (budgetSeconds - seconds);
        throw TunaException.usage(String.format(Locale.ROOT, "A budget of %s is too small for this data on this"
                + " machine: even 1 frozen and 1 unfrozen epoch at %d px would take about %s (%d training and %d"
                + " validation images at %.0f images/s). Give at least --budget %s.", Recipe.minutes(budgetSeconds),
                smallest, Recipe.minutes(needed), work.trainImages(), work.validImages(), 1 / speed.train(smallest),
                (long) Math.ceil(needed / 60) + "m"));
    }

    /**
     * Fits a chosen recipe to the time actually left once its data is decoded: the same sizes, as many
     * epochs as now fit (at least 2, at most the step target), so a slow decode shortens training instead
     * of overrunning the budget, and a fast one lengthens it.
     *
     * @param recipe the recipe chosen before decoding
     * @param work what has to be done
     * @param speed this machine's speed
     * @return the recipe to train
     */
    public Recipe refit(Recipe recipe, Workload work, Throughput speed) {
        double available = remainingSeconds() * MARGIN;
        double decoded = work.images() * speed.decodeSeconds(); // already paid
        Recipe best = null;
        int most = Math.max(recipe.totalEpochs(), targetEpochs(work));
        for (int total = 2; total <= most; total++) {
            Recipe candidate = recipe(recipe.size(), total, work, speed, recipe.tta() ? Double.MAX_VALUE : 0);
            if (candidate.progressive() != recipe.progressive()) {
                continue;
            }
            double seconds = candidate.estimatedSeconds() - decoded;
            if (seconds <= available || best == null) {
                best = new Recipe(candidate.size(), candidate.smallSize(), candidate.smallEpochs(), candidate.epochs(),
                        recipe.augment(), recipe.labelSmoothing(), recipe.mixup(), recipe.tta(),
                        elapsedSeconds() + seconds);
            }
        }
        return best != null ? best : recipe;
    }

    /**
     * A callback that keeps a running recipe within the budget. It re-plans the full-size unfrozen stage
     * when it starts: the probe measures a few batches and has been 20–25% off on a quiet machine, while
     * the epochs already run (the frozen one, timed against the probe's frozen step, and the small-size
     * ones with progressive resizing) are a full measurement, so the full-size epochs become as many as fit
     * in the time left at the pace those epochs ran relative to the probe (at least 1, at most the step
     * target of the rules). After each epoch it projects the time still needed (the epochs
     * left and the test, at the pace so far, so one slow epoch does not decide) and stops training when
     * that would end more than 8% over the budget — a last resort for a machine that became slower than
     * measured, since an interrupted schedule costs accuracy.
     *
     * @param recipe the recipe being trained
     * @param say where a re-planned recipe is announced (one line), or null
     * @return the guard; {@link Guard#stopped()} tells whether it stopped training, {@link Guard#recipe()}
     *     what it trained
     */
    public Guard guard(Recipe recipe, java.util.function.Consumer<String> say) {
        return new Guard(recipe, say);
    }

    /** See {@link #guard(Recipe, java.util.function.Consumer)}. */
    public final class Guard implements Callback {
        private final java.util.function.Consumer<String> say;
        private Recipe recipe;
        private int epochs;
        private double actual; // seconds of the epochs so far
        private double estimated; // what the measurement said they would take
        private double paceActual; // the same for the epochs that tell the pace (not those on cached features)
        private double paceEstimated;
        private boolean replanned;
        private boolean stopped;

        private Guard(Recipe recipe, java.util.function.Consumer<String> say) {
            this.recipe = recipe;
            this.say = say;
        }

        @Override
        public Stage beforeStage(Learner learner, int index, Stage stage) {
            if (speed == null || replanned || stage.phase() != Phase.UNFROZEN
                    || learner.data().spec().size() != recipe.size()) {
                return stage;
            }
            replanned = true; // once: the full-size unfrozen stage, after the frozen (and small) epochs
            if (!(paceEstimated > 0)) {
                return stage;
            }
            double pace = paceActual / paceEstimated;
            int fit = largeEpochs(remainingSeconds(), pace, recipe, work, speed);
            if (fit == stage.epochs()) {
                return stage;
            }
            double seconds = elapsedSeconds() + pace * (fit * epochSeconds(recipe.size(), work, speed, false)
                    + testSeconds(recipe, work, speed)) + FIXED_SECONDS / 2;
            recipe = new Recipe(recipe.size(), recipe.smallSize(), recipe.smallEpochs(), fit, recipe.augment(),
                    recipe.labelSmoothing(), recipe.mixup(), recipe.tta(), seconds);
            learner.recipe = recipe;
            if (say != null) {
                say.accept(String.format(Locale.ROOT, "re-planned at %.0f s (the epochs so far took %.2f× the"
                        + " measured time): %s", elapsedSeconds(), pace, recipe.describe()));
            }
            return stage.withEpochs(fit);
        }

        @Override
        public void onEpochEnd(Learner learner, EpochRecord record) {
            epochs++;
            boolean frozen = record.phase() == Phase.FROZEN;
            double expected = speed == null ? 0 : epochSeconds(learner.data().spec().size(), work, speed, frozen);
            // a frozen epoch on cached body features (Keras-style freezing) says nothing about a full step's pace
            if (speed != null && !(frozen && learner.freezeMode() == FreezeMode.FROZEN_BN)) {
                paceActual += record.seconds();
                paceEstimated += expected;
            }
            actual += record.seconds();
            estimated += expected;
            int left = recipe.totalEpochs() - epochs;
            // before the full-size stage, its re-planning fits it to the time left: stopping earlier would only
            // leave a model that never trained unfrozen
            if (left <= 0 || (speed != null && !replanned)) {
                return;
            }
            double projected = elapsedSeconds() + left * actual / epochs; // unmeasured: at the mean pace so far
            if (speed != null) { // the pace so far against the measurement, applied to the epochs left at their sizes
                double pace = paceEstimated > 0 ? paceActual / paceEstimated : actual / estimated;
                projected = elapsedSeconds() + pace * (epochsSeconds(recipe, epochs, work, speed)
                        + testSeconds(recipe, work, speed));
            }
            if (projected > 1.08 * limit.toMillis() / 1000.0) {
                stopped = true;
                learner.stop();
            }
        }

        /**
         * Whether the guard stopped training to stay within the budget.
         *
         * @return true when it did
         */
        public boolean stopped() {
            return stopped;
        }

        /**
         * The recipe as trained: the one given, or as re-planned when the full-size stage started.
         *
         * @return the recipe
         */
        public Recipe recipe() {
            return recipe;
        }
    }

    /**
     * The full-size epochs that fit in the time left when that stage starts (at least 1; at most the rules'
     * step target, or the epochs already planned if more).
     *
     * @param secondsLeft the budget's seconds left
     * @param pace the unfrozen epochs' actual time over the probe's estimate for them
     * @param recipe the recipe, re-planned at its full size
     * @param work what has to be done
     * @param speed the probe's measurement
     * @return unfrozen epochs at the full size
     */
    static int largeEpochs(double secondsLeft, double pace, Recipe recipe, Workload work, Throughput speed) {
        double perEpoch = pace * epochSeconds(recipe.size(), work, speed, false);
        double tail = pace * testSeconds(recipe, work, speed) + FIXED_SECONDS / 2; // test, export, report
        int fit = (int) Math.floor((secondsLeft * MARGIN - tail) / perEpoch);
        int most = Math.max(recipe.epochs(), targetEpochs(work) - 1 - recipe.smallEpochs());
        return Math.max(1, Math.min(most, fit));
    }

    /** The epochs of {@code recipe} from epoch {@code done} on, each at its size (the first one frozen). */
    static double epochsSeconds(Recipe recipe, int done, Workload work, Throughput speed) {
        double seconds = 0;
        for (int e = done; e < recipe.totalEpochs(); e++) {
            int size = e <= recipe.smallEpochs() ? recipe.firstSize() : recipe.size(); // small: 0 when not progressive
            seconds += epochSeconds(size, work, speed, e == 0);
        }
        return seconds;
    }

    /** Decoding and predicting the test images (with test-time augmentation's passes if used). */
    private static double testSeconds(Recipe recipe, Workload work, Throughput speed) {
        return work.testImages() * (speed.decodeSeconds()
                + speed.eval(recipe.size()) * (recipe.tta() ? 1 + Tta.FASTAI_PASSES : 1));
    }

    /** The recipe with the most epochs in [from, to] at {@code size} that fits, or null. */
    private static Recipe best(int size, int from, int to, double available, Workload work, Throughput speed,
            double budgetSeconds) {
        Recipe best = null;
        for (int epochs = from; epochs <= to; epochs++) { // not monotonic in time: progressive from 6 on
            Recipe candidate = recipe(size, epochs, work, speed, budgetSeconds);
            if (candidate.estimatedSeconds() <= available) {
                best = candidate;
            }
        }
        return best;
    }

    /** The epochs (frozen one included) of BiT-HyperRule's schedule length, within the bounds. */
    static int targetEpochs(Workload work) {
        return Math.max(MIN_EPOCHS, Math.min(MAX_EPOCHS,
                (int) Math.ceil((double) targetSteps(work.trainImages()) / Math.max(1, work.stepsPerEpoch())) + 1));
    }

    /** The recipe with {@code total} epochs (one frozen) at {@code size}, and its estimated wall time. */
    static Recipe recipe(int size, int total, Workload work, Throughput speed, double budgetSeconds) {
        int unfrozen = total - 1;
        boolean progressive = total >= 6;
        int small = progressive ? smallSize(size) : 0;
        int smallEpochs = progressive ? Math.max(1, unfrozen / 3) : 0;
        int large = unfrozen - smallEpochs;
        double seconds = FIXED_SECONDS + work.images() * speed.decodeSeconds() * (progressive ? 2 : 1);
        seconds += epochsSeconds(new Recipe(size, small, smallEpochs, large, null, 0, 0, false, 0), 0, work, speed);
        double test = work.testImages() * (speed.decodeSeconds() + speed.eval(size));
        double tta = work.testImages() * speed.eval(size) * Tta.FASTAI_PASSES;
        boolean useTta = budgetSeconds > 0 && tta <= 0.1 * budgetSeconds;
        seconds += test + (useTta ? tta : 0);
        double smoothing = 0.1;
        double mixup = work.trainImages() >= MIXUP_IMAGES ? 0.4 : 0;
        return new Recipe(size, small, smallEpochs, large, AugTransforms.FASTAI, smoothing, mixup, useTta || work.testImages() == 0,
                seconds);
    }

    private static double epochSeconds(int size, Workload work, Throughput speed, boolean frozen) {
        return work.stepsPerEpoch() * (double) work.batchSize() * speed.train(size, frozen)
                + work.validImages() * speed.eval(size) + EPOCH_OVERHEAD_SECONDS;
    }

    /** About 0.7× the size, a multiple of 16 px. */
    static int smallSize(int size) {
        return Math.max(64, (int) Math.round(size * 0.7 / 16) * 16);
    }

    /**
     * What a budgeted job has to do.
     *
     * @param trainImages training images
     * @param validImages validation images
     * @param testImages test images (0 without a test folder)
     * @param batchSize the batch size
     */
    public record Workload(int trainImages, int validImages, int testImages, int batchSize) {
        /** Training steps per epoch (the last partial batch is dropped). */
        int stepsPerEpoch() {
            return trainImages / batchSize;
        }

        /** Images decoded for training and validation. */
        int images() {
            return trainImages + validImages;
        }
    }
}
