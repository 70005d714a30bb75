package dev.tuna.learn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.tuna.TunaException;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.model.Architecture;
import dev.tuna.testing.Datasets;
import dev.tuna.transform.AugTransforms;
import dev.tuna.transform.ResizeMethod;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BudgetTest {
    /** A 2-core machine like the reference one: MobileNetV2 at 39 / 26 images/s (128 / 224 px) training. */
    static final Throughput TWO_CORES = new Throughput(64, new int[] {128, 224}, new double[] {1 / 39.8, 1 / 25.7},
            new double[] {1 / 208.0, 1 / 90.0}, 1 / 300.0);
    /** The flowers folder: 3,254 training and 813 validation images, 250 test images. */
    static final Budget.Workload FLOWERS = new Budget.Workload(3254, 813, 250, 64);

    @TempDir
    Path dir;

    @Test
    void durationsAreReadAsPeopleWriteThem() {
        assertThat(Budget.parse("15m")).isEqualTo(Duration.ofMinutes(15));
        assertThat(Budget.parse("900s")).isEqualTo(Duration.ofSeconds(900));
        assertThat(Budget.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Budget.parse(" 2.5min ")).isEqualTo(Duration.ofSeconds(150));
        assertThat(Budget.parse("600")).isEqualTo(Duration.ofSeconds(600));
        for (String bad : new String[] {"fast", "15 minutes", "-5m", "0m", ""}) {
            assertThatThrownBy(() -> Budget.start(Budget.parse(bad))).isInstanceOf(TunaException.class)
                    .hasMessageContaining("budget");
        }
    }

    @Test
    void theChosenRecipeFitsTheTimeAndGrowsWithIt() {
        Recipe previous = null;
        for (int minutes : new int[] {5, 10, 15, 30, 60}) {
            double seconds = minutes * 60;
            Recipe recipe = Budget.choose(seconds, seconds, FLOWERS, TWO_CORES);
            assertThat(recipe.estimatedSeconds()).as("%d min", minutes).isLessThanOrEqualTo(seconds);
            assertThat(recipe.augment()).isEqualTo(AugTransforms.FASTAI);
            assertThat(recipe.labelSmoothing()).isEqualTo(0.1);
            assertThat(recipe.totalEpochs()).isGreaterThanOrEqualTo(minutes >= 10 ? Budget.MIN_EPOCHS : 2);
            if (previous != null) { // more time never buys a smaller image or fewer epochs
                assertThat(recipe.size()).isGreaterThanOrEqualTo(previous.size());
                assertThat(recipe.size() > previous.size() || recipe.totalEpochs() >= previous.totalEpochs()).isTrue();
            }
            previous = recipe;
        }
        Recipe fifteen = Budget.choose(900, 900, FLOWERS, TWO_CORES);
        assertThat(fifteen.size()).isEqualTo(192); // the step target (11 epochs) does not fit at 224 px
        assertThat(fifteen.totalEpochs()).isEqualTo(7);
        assertThat(fifteen.progressive()).isTrue(); // progressive resizing buys epochs from 6 on
        assertThat(fifteen.smallSize()).isEqualTo(128);
        Recipe half = Budget.choose(1800, 1800, FLOWERS, TWO_CORES);
        assertThat(half.size()).isEqualTo(224); // it does in 30 minutes
        assertThat(half.totalEpochs()).isEqualTo(11);
        assertThat(fifteen.tta()).isTrue(); // 250 test images × 5 passes: well under 10% of 15 min
        assertThat(fifteen.mixup()).isZero(); // MixUp needs 20 epochs or more
        Recipe hour = Budget.choose(3600, 3600, FLOWERS, TWO_CORES);
        assertThat(hour.totalEpochs()).isEqualTo(1 + (int) Math.ceil(500.0 / (3254 / 64))); // BiT's 500 steps
    }

    @Test
    void smallDatasetsGetMoreEpochsButNoMixup() {
        Budget.Workload small = new Budget.Workload(240, 60, 0, 64); // 3 steps per epoch
        Recipe recipe = Budget.choose(900, 900, small, TWO_CORES);
        assertThat(recipe.totalEpochs()).isEqualTo(Budget.MAX_EPOCHS);
        assertThat(recipe.mixup()).isZero(); // BiT: no MixUp under 20,000 images
        assertThat(recipe.tta()).isTrue(); // no test folder: recommended for predictions, costs nothing here
        Budget.Workload large = new Budget.Workload(40_000, 10_000, 0, 64);
        Recipe longRun = Budget.choose(40 * 3600, 40 * 3600, large, TWO_CORES);
        assertThat(longRun.totalEpochs()).isEqualTo(1 + (int) Math.ceil(10_000.0 / (40_000 / 64))); // 10k steps
        assertThat(longRun.mixup()).isEqualTo(0.4);
    }

    @Test
    void aBudgetTooSmallIsRefusedWithTheSmallestThatWorks() {
        assertThatThrownBy(() -> Budget.choose(60, 60, FLOWERS, TWO_CORES)).isInstanceOf(TunaException.class)
                .hasMessageContaining("A budget of 60 s is too small")
                .hasMessageContaining("3254 training and 813 validation images")
                .hasMessageContaining("Give at least --budget 4m");
        Recipe smallest = Budget.choose(240, 240, FLOWERS, TWO_CORES); // what the message asked for works
        assertThat(smallest.size()).isEqualTo(128);
        assertThat(smallest.estimatedSeconds()).isLessThanOrEqualTo(240);
        assertThatThrownBy(() -> Budget.choose(200, 200, FLOWERS, TWO_CORES)).hasMessageContaining("4m");
    }

    @Test
    void testTimeAugmentationOnlyWhenItIsCheap() {
        Budget.Workload bigTest = new Budget.Workload(3254, 813, 20_000, 64);
        Recipe recipe = Budget.choose(1800, 1800, bigTest, TWO_CORES);
        assertThat(recipe.tta()).isFalse(); // 20,000 × 5 passes would take over 10% of the budget
        assertThat(recipe.estimatedSeconds()).isLessThanOrEqualTo(1800);
    }

    @Test
    void aRecipeIsAPlanWithItsSizesAndALineForPeople() {
        Recipe recipe = new Recipe(224, 160, 2, 5, AugTransforms.FASTAI, 0.1, 0, true, 840);
        Plan plan = recipe.plan(FineTune.DEFAULT);
        assertThat(plan.stages()).extracting(Stage::phase).containsExactly(Phase.FROZEN, Phase.UNFROZEN,
                Phase.UNFROZEN);
        assertThat(plan.stages()).extracting(Stage::size).containsExactly(160, 160, 224);
        assertThat(plan.stages()).extracting(Stage::epochs).containsExactly(1, 2, 5);
        assertThat(recipe.describe()).isEqualTo(
                "plan: 160→224 px, 1+7 epochs (3 at 160 px), aug_transforms, label smoothing 0.1, TTA; estimated 14 min");
        assertThat(recipe.toJson().get("size").getAsInt()).isEqualTo(224);
        ImageFolder spec = recipe.data(ImageFolder.from(dir).resize(192, ResizeMethod.SQUISH));
        assertThat(spec.size()).isEqualTo(160);
        assertThat(spec.augment()).isEqualTo(AugTransforms.FASTAI);
    }

    @Test
    void theGuardStopsTrainingThatWouldOverrunTheBudget() {
        Datasets.folder(dir.resolve("data"), Map.of("a", 8, "b", 8));
        Budget budget = Budget.start(Duration.ofMillis(1)); // already over: any epoch left is too many
        Recipe recipe = new Recipe(32, 0, 0, 3, null, 0, 0, false, 1);
        try (DataLoaders data = ImageFolder.from(dir.resolve("data")).resize(32, ResizeMethod.SQUISH).batchSize(4)
                .dataloaders();
             Learner learner = Learner.builder(data).architecture(Architecture.MOBILENET_V2).weights(null)
                     .console(null, false).build()) {
            Budget.Guard guard = budget.guard(recipe, null);
            learner.addCallback(guard);
            learner.fit(recipe.plan(FineTune.DEFAULT));
            assertThat(guard.stopped()).isTrue();
            assertThat(learner.history()).hasSize(1);
        }
    }

    @Test
    void theFullSizeStageIsReplannedForTheTimeLeftAtThePaceTheSmallEpochsRan() {
        Recipe planned = Budget.choose(900, 900, FLOWERS, TWO_CORES);
        assertThat(planned.progressive()).isTrue();
        // the least time left in which the planned full-size epochs, the test and the tail fit at the probe's pace
        double needed = 10;
        while (Budget.largeEpochs(needed, 1.0, planned, FLOWERS, TWO_CORES) < planned.epochs() && needed < 5000) {
            needed += 1;
        }
        assertThat(Budget.largeEpochs(needed, 1.0, planned, FLOWERS, TWO_CORES)).isEqualTo(planned.epochs());
        // the small epochs ran 25% faster than the probe said: more full-size epochs in the same time
        assertThat(Budget.largeEpochs(needed, 0.75, planned, FLOWERS, TWO_CORES)).isGreaterThan(planned.epochs());
        // 25% slower: fewer; never fewer than one, never more than the step target allows
        assertThat(Budget.largeEpochs(needed, 1.25, planned, FLOWERS, TWO_CORES)).isLessThan(planned.epochs());
        assertThat(Budget.largeEpochs(0, 1.0, planned, FLOWERS, TWO_CORES)).isEqualTo(1);
        int most = Budget.targetEpochs(FLOWERS) - 1 - planned.smallEpochs();
        assertThat(Budget.largeEpochs(1e6, 1.0, planned, FLOWERS, TWO_CORES)).isEqualTo(Math.max(most, planned.epochs()));
    }

    /** What a guarded fit did: the guard, the announcements, the epochs' phases, the plan and recipe recorded. */
    private record Guarded(Budget.Guard guard, java.util.List<String> said, java.util.List<Phase> phases,
            String plan, Recipe recorded) {
    }

    /**
     * Trains {@code recipe} on a tiny folder under a guard of a one-hour budget whose probe claimed far slower
     * epochs than these run, for a workload whose step target is 4 epochs in all.
     */
    private Guarded guardedFit(Recipe recipe) {
        return guardedFit(recipe, Duration.ofHours(1));
    }

    private Guarded guardedFit(Recipe recipe, Duration limit) {
        Path folder = dir.resolve("data");
        if (!java.nio.file.Files.exists(folder)) {
            Datasets.folder(folder, Map.of("a", 8, "b", 8));
        }
        Budget budget = Budget.start(limit);
        budget.measured(new Budget.Workload(16_000, 4, 0, 4), TWO_CORES);
        java.util.List<String> said = new java.util.ArrayList<>();
        try (DataLoaders data = recipe.data(ImageFolder.from(folder).resize(32, ResizeMethod.SQUISH).batchSize(4))
                .dataloaders();
             Learner learner = Learner.builder(data).architecture(Architecture.MOBILENET_V2).weights(null)
                     .recipe(recipe).console(null, false).build()) {
            Budget.Guard guard = budget.guard(recipe, said::add);
            learner.addCallback(guard);
            learner.fit(recipe.plan(FineTune.DEFAULT));
            return new Guarded(guard, said, learner.history().stream().map(EpochRecord::phase).toList(),
                    learner.lastPlan.describe(), learner.recipe);
        }
    }

    @Test
    void theGuardReplansTheFullSizeStageWhenItStartsAndRecordsWhatRan() {
        // progressive: the full-size stage grows from the planned 1 epoch to the 2 the step target allows
        Recipe recipe = new Recipe(32, 16, 1, 1, null, 0, 0, false, 60);
        Guarded run = guardedFit(recipe);
        assertThat(run.guard().stopped()).isFalse();
        assertThat(run.phases()).containsExactly(Phase.FROZEN, Phase.UNFROZEN, Phase.UNFROZEN, Phase.UNFROZEN);
        assertThat(run.guard().recipe().epochs()).isEqualTo(2);
        assertThat(run.guard().recipe().smallEpochs()).isEqualTo(1);
        assertThat(run.said()).singleElement().asString().startsWith("re-planned at ").contains("1+3 epochs (2 at 16 px)");
        Plan planned = recipe.plan(FineTune.DEFAULT);
        assertThat(run.plan()).isEqualTo(planned.withStage(2, planned.stages().get(2).withEpochs(2)).describe());
        assertThat(run.recorded()).isSameAs(run.guard().recipe());

        // without progressive resizing, the unfrozen stage is re-planned after the frozen epoch: 1+1 → 1+3
        Guarded plain = guardedFit(new Recipe(32, 0, 0, 1, null, 0, 0, false, 60));
        assertThat(plain.phases()).containsExactly(Phase.FROZEN, Phase.UNFROZEN, Phase.UNFROZEN, Phase.UNFROZEN);
        assertThat(plain.guard().recipe().epochs()).isEqualTo(3);
        assertThat(plain.said()).singleElement().asString().contains("32 px, 1+3 epochs");
    }

    /**
     * A budget already spent: the guard does not stop before the full-size stage (its re-planning cuts it to
     * one epoch instead), so the model always trains unfrozen. It once stopped after the frozen epoch,
     * projecting every epoch left at the full size.
     */
    @Test
    void theGuardLeavesAnOverrunToTheReplanningUntilTheFullSizeStage() {
        Guarded run = guardedFit(new Recipe(32, 16, 1, 2, null, 0, 0, false, 60), Duration.ofMillis(1));
        assertThat(run.phases()).containsExactly(Phase.FROZEN, Phase.UNFROZEN, Phase.UNFROZEN);
        assertThat(run.guard().recipe().epochs()).isEqualTo(1);
        assertThat(run.guard().stopped()).isFalse();
    }

    @Test
    void theEpochsLeftAreCountedAtTheirOwnSizes() {
        Recipe progressive = new Recipe(192, 128, 3, 6, AugTransforms.FASTAI, 0.1, 0, true, 840);
        double all = Budget.epochsSeconds(progressive, 0, FLOWERS, TWO_CORES);
        double afterFrozen = Budget.epochsSeconds(progressive, 1, FLOWERS, TWO_CORES);
        double largeOnly = Budget.epochsSeconds(progressive, 4, FLOWERS, TWO_CORES);
        Recipe sixLarge = new Recipe(192, 0, 0, 6, AugTransforms.FASTAI, 0.1, 0, true, 840);
        double sixAt192 = Budget.epochsSeconds(sixLarge, 1, FLOWERS, TWO_CORES);
        // the 6 full-size epochs are what is left after the 3 small ones
        assertThat(largeOnly).isCloseTo(sixAt192, within(1e-9));
        // and the 3 small ones at 128 px cost less than 3 at 192 px would
        assertThat(afterFrozen - largeOnly).isLessThan(0.75 * 3 * sixAt192 / 6);
        assertThat(all).isGreaterThan(afterFrozen);
    }
}
