package dev.tuna.learn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.tuna.data.DataLoader;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.data.ImageItem;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.ClassifierOptions;
import dev.tuna.inference.Predictions;
import dev.tuna.internal.train.FastAdam;
import dev.tuna.model.Architecture;
import dev.tuna.testing.Datasets;
import dev.tuna.transform.AugTransforms;
import dev.tuna.transform.ResizeMethod;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearnerTest {
    @TempDir
    Path dir;

    private DataLoaders tinyData() {
        Datasets.folder(dir.resolve("data"), Map.of("a", 10, "b", 10));
        return ImageFolder.from(dir.resolve("data")).resize(32, ResizeMethod.SQUISH).batchSize(4).dataloaders();
    }

    private static Learner randomResnet(DataLoaders data) {
        return Learner.builder(data).architecture(Architecture.RESNET18).weights(null).console(null, false).build();
    }

    /** README's "stronger recipe, piece by piece" example, on a tiny folder: it runs, and resizes. */
    @Test
    void theReadmeRecipeRunsSmallThenBigWithAugmentationMixupAndTta() {
        Datasets.folder(dir.resolve("data"), Map.of("a", 10, "b", 10));
        ImageFolder spec = ImageFolder.from(dir.resolve("data")).resize(16, ResizeMethod.SQUISH).batchSize(4)
                .augment(AugTransforms.FASTAI);
        try (DataLoaders data = spec.dataloaders();
             Learner learner = Learner.builder(data).architecture(Architecture.RESNET18).weights(null)
                     .labelSmoothing(0.1).console(null, false).build()) {
            learner.addCallback(BatchMix.mixup(0.4));
            learner.fineTune(1);
            learner.resize(24);
            assertThat(learner.data().train().imageSize()).isEqualTo(24);
            assertThat(data.train().imageSize()).isEqualTo(16); // the caller's loaders are left as they were
            learner.fineTune(1);
            assertThat(learner.history()).hasSize(4);
            Predictions test = learner.evaluate(dir.resolve("data"), true);
            assertThat(test.total()).isEqualTo(20);
            Predictions plain = learner.evaluate(dir.resolve("data"), false);
            assertThat(test.probabilities()[0]).isNotEqualTo(plain.probabilities()[0]);
        }
    }

    /** A custom plan runs on the same loop: every step's rates are the stage's schedules at its progress. */
    @Test
    void aCustomPlanRunsItsSchedulesStepByStep() {
        Schedule warmThenDecay = Schedule.combine(0.25, Schedule.linear(1e-4, 1e-3), Schedule.cosine(1e-3, 1e-5));
        Schedule[] groups = {pos -> 1e-5, pos -> 2e-5, warmThenDecay};
        Schedule momentum = Schedule.linear(0.95, 0.85);
        try (DataLoaders data = tinyData(); Learner learner = randomResnet(data)) {
            int perEpoch = data.train().batchCount();
            learner.fit(Plan.of(new Stage(Phase.FIT, 2, 0, groups, momentum, Stage.KEEP),
                    Stage.of(1, Schedule.constant(3e-4), Schedule.constant(0.9)).withFreezeTo(1)));
            assertThat(learner.frozenGroups()).isEqualTo(1);
            List<BatchRecord> steps = learner.steps();
            assertThat(steps).hasSize(3 * perEpoch);
            for (int i = 0; i < 2 * perEpoch; i++) {
                double pos = (double) i / (2 * perEpoch);
                assertThat(steps.get(i).learningRate()).isEqualTo(warmThenDecay.at(pos)); // the head's group
                assertThat(steps.get(i).momentum()).isEqualTo(momentum.at(pos));
            }
            assertThat(steps.subList(2 * perEpoch, 3 * perEpoch)).extracting(BatchRecord::learningRate)
                    .containsOnly(3e-4);
            assertThat(learner.history()).extracting(EpochRecord::phase).containsExactly(Phase.FIT, Phase.FIT,
                    Phase.FIT);
            assertThat(learner.history()).extracting(EpochRecord::epoch).containsExactly(0, 1, 0);
        }
    }

    @Test
    void aPlanIsCheckedWhenItIsMade() {
        assertThatThrownBy(() -> Stage.constant(1, new double[] {1e-3})).hasMessageContaining(
                "one learning rate per parameter group (3); found 1");
        assertThatThrownBy(() -> Stage.of(-1, Schedule.constant(1e-3), Schedule.constant(0.9)))
                .hasMessageContaining("at least 1; found -1");
        assertThatThrownBy(() -> Stage.of(1, Schedule.constant(1e-3), Schedule.constant(0.9)).withFreezeTo(3))
                .hasMessageContaining("freezeTo takes 0 to 2 groups; found 3");
        assertThatThrownBy(Plan::of).hasMessageContaining("at least one stage");
        assertThat(FineTune.DEFAULT.plan(3).describe()).isEqualTo(
                "frozen 1 epoch (2 groups frozen), then unfrozen 3 epochs (0 groups frozen)");
        assertThat(FineTune.DEFAULT.plan(2).then(FineTune.DEFAULT.plan(3)).epochs()).isEqualTo(7);
    }

    @Test
    void adamStepMatchesAHandComputation() {
        try (NDManager manager = NDManager.newBaseManager(); FastAdam adam = new FastAdam(manager, FastAdam.Settings.FASTAI)) {
            Parameter w = Parameter.builder().setName("w").setType(Parameter.Type.WEIGHT).build();
            w.setArray(manager.create(new float[] {1f, -2f}));
            w.getArray().setRequiresGradient(true);
            List<FastAdam.Slot> slots = List.of(new FastAdam.Slot("w", w, 0, true));
            double[] expected = {1, -2};
            double[] m = new double[2];
            double[] v = new double[2];
            double[] grads = {0.5, -1.5};
            double[] betas = {0.9, 0.8};
            double lr = 0.1;
            for (int step = 1; step <= 2; step++) {
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = w.getArray().mul(manager.create(new float[] {0.5f, -1.5f})).sum();
                    collector.backward(loss);
                }
                adam.step(slots, new double[] {lr}, betas[step - 1]);
                for (int i = 0; i < 2; i++) {
                    expected[i] *= 1 - lr * 0.01;
                    m[i] = betas[step - 1] * m[i] + (1 - betas[step - 1]) * grads[i];
                    v[i] = 0.99 * v[i] + 0.01 * grads[i] * grads[i];
                    double mHat = m[i] / (1 - Math.pow(betas[step - 1], step));
                    double vHat = v[i] / (1 - Math.pow(0.99, step));
                    expected[i] -= lr * mHat / (Math.sqrt(vHat) + 1e-5);
                }
                float[] actual = w.getArray().toFloatArray();
                assertThat(actual[0]).isCloseTo((float) expected[0], within(1e-6f));
                assertThat(actual[1]).isCloseTo((float) expected[1], within(1e-6f));
            }
            assertThat(adam.steps("w")).isEqualTo(2);
            assertThat(expected[0]).isCloseTo(0.820327, within(1e-5)); // worked by hand in the commit notes
            adam.clearState();
            assertThat(adam.steps("w")).isZero();
        }
    }

    @Test
    void freezeTrainsOnlyTheHeadAndBatchNormAndClearsState() {
        try (DataLoaders data = tinyData(); Learner learner = randomResnet(data)) {
            learner.freeze();
            List<String> frozenTrainable = learner.trainableParameters();
            assertThat(frozenTrainable).contains("head.fc0.weight", "head.fc1.weight", "head.bn0.weight",
                    "bn1.weight", "bn1.bias", "layer1.0.bn1.weight", "layer4.1.bn2.bias");
            assertThat(frozenTrainable).noneMatch(n -> n.contains("conv") || n.contains("downsample.0"));
            learner.fitOneCycle(1, LearningRates.slice(1e-3, Learner.GROUPS));
            assertThat(learner.optimizer().steps("head.fc1.weight")).isEqualTo(4); // 16 training images / 4
            assertThat(learner.optimizer().steps("layer1.0.conv1.weight")).isZero();
            learner.unfreeze();
            assertThat(learner.optimizer().steps("head.fc1.weight")).isZero();
            assertThat(learner.trainableParameters()).contains("conv1.weight", "layer4.1.conv2.weight");
            assertThat(learner.trainableParameters()).noneMatch(n -> n.endsWith("running_mean"));
        }
    }

    @Test
    void frozenBnTrainsOnlyTheHeadOnCachedFeaturesAndLeavesTheBodyAlone() {
        try (DataLoaders data = tinyData(); Learner learner = Learner.builder(data).architecture(Architecture.RESNET18)
                .weights(null).freezeMode(FreezeMode.FROZEN_BN).console(null, false).build()) {
            learner.freeze();
            assertThat(learner.trainableParameters()).isNotEmpty().allMatch(n -> n.startsWith("head."));
            Map<String, float[]> before = values(learner);
            learner.fitOneCycle(2, LearningRates.slice(1e-2, Learner.GROUPS));
            Map<String, float[]> after = values(learner);
            before.forEach((name, v) -> {
                if (name.startsWith("head.fc")) {
                    assertThat(after.get(name)).as(name).isNotEqualTo(v);
                } else if (!name.startsWith("head.")) {
                    assertThat(after.get(name)).as(name).isEqualTo(v); // weights and running statistics
                }
            });
            // the validation row came from cached features; the network itself must agree with it
            EpochRecord last = learner.history().get(learner.history().size() - 1);
            assertThat(learner.predict(data.valid(), false).meanLoss()).isCloseTo(last.validLoss(), within(1e-5));
            assertThat(last.validSeconds()).isPositive();
            assertThat(last.residentBytes()).isPositive();
            learner.unfreeze();
            assertThat(learner.trainableParameters()).contains("conv1.weight", "bn1.weight");
        }
    }

    /**
     * libtorch picks kernels by batch shape (a lone image's MobileNetV2 features differed from a batch's by
     * 2.2e-5 on an AVX-512 Xeon): body features are computed on full, padded batches, so an image's row is
     * the same whatever shared its batch, in the learner's cached phase and in Classifier.featuresEach.
     */
    @Test
    void bodyFeaturesDoNotDependOnWhatSharesTheBatch() throws IOException {
        Datasets.folder(dir.resolve("data"), Map.of("a", 8, "b", 8));
        try (DataLoaders data = ImageFolder.from(dir.resolve("data")).resize(32, ResizeMethod.SQUISH).batchSize(4)
                .dataloaders(); Learner learner = randomResnet(data)) {
            DataLoader train = data.train();
            assertThat(train.size() % 4).as("a last batch of one image").isOne();
            float[][] rows = learner.pooledFeatures(train);
            Path model = dir.resolve("model");
            learner.export(model, false);
            List<byte[]> bytes = new ArrayList<>();
            for (ImageItem item : train.items()) {
                bytes.add(Files.readAllBytes(item.path()));
            }
            try (Classifier classifier = Classifier.load(model, ClassifierOptions.DEFAULTS.withBatchSize(4))) {
                List<Classifier.Outcome<float[]>> inOrder = classifier.featuresEach(bytes);
                List<byte[]> reversed = new ArrayList<>(bytes);
                Collections.reverse(reversed);
                List<Classifier.Outcome<float[]>> backwards = classifier.featuresEach(reversed);
                for (int i = 0; i < rows.length; i++) {
                    float[] alone = classifier.featuresEach(List.of(bytes.get(i))).get(0).value();
                    assertThat(alone).as("image %d alone", i).containsExactly(rows[i]);
                    assertThat(inOrder.get(i).value()).as("image %d in order", i).containsExactly(rows[i]);
                    assertThat(backwards.get(rows.length - 1 - i).value()).as("image %d reversed", i)
                            .containsExactly(rows[i]);
                }
            }
        }
    }

    private static Map<String, float[]> values(Learner learner) {
        Map<String, float[]> out = new java.util.TreeMap<>();
        learner.network().parameters().forEach((name, p) -> out.put(name, p.getArray().toFloatArray()));
        return out;
    }

    @Test
    void batchNormAndBiasSkipWeightDecay() {
        try (DataLoaders data = tinyData(); Learner learner = randomResnet(data)) {
            Map<String, Boolean> decay = new java.util.HashMap<>();
            learner.slots().forEach(s -> decay.put(s.name(), s.decay()));
            assertThat(decay).containsEntry("conv1.weight", true).containsEntry("head.fc0.weight", true)
                    .containsEntry("bn1.weight", false).containsEntry("head.bn1.bias", false);
            assertThat(learner.slots()).filteredOn(s -> s.name().equals("layer3.0.conv1.weight"))
                    .extracting(FastAdam.Slot::group).containsExactly(1);
        }
    }

    @Test
    void fineTuneRecordsTwoPhasesAndTheSmoothedLoss() {
        try (DataLoaders data = tinyData(); Learner learner = randomResnet(data)) {
            learner.fineTune(2, FineTune.DEFAULT);
            assertThat(learner.history()).extracting(EpochRecord::phase).containsExactly(Phase.FROZEN, Phase.UNFROZEN, Phase.UNFROZEN);
            assertThat(learner.history()).allSatisfy(r -> {
                assertThat(r.trainLoss()).isFinite();
                assertThat(r.errorRate()).isBetween(0.0, 1.0);
            });
            assertThat(learner.steps()).hasSize(3 * 4);
            BatchRecord first = learner.steps().get(0);
            assertThat(first.smoothLoss()).isCloseTo(first.loss(), within(1e-9)); // debiased: first value is the loss
            assertThat(first.learningRate()).isCloseTo(2e-3 / 25, within(1e-12));
            assertThat(learner.steps().get(4).learningRate()).isCloseTo(1e-3 / 5, within(1e-12));
        }
    }

    @Test
    void stopIsACallAndEndsTheFit() {
        try (DataLoaders data = tinyData(); Learner learner = randomResnet(data)) {
            learner.addCallback(new Callback() {
                @Override
                public void onBatchEnd(Learner l, int batch, int batches, BatchRecord record, double rate) {
                    if (batch == 1) {
                        l.stop();
                    }
                }
            });
            learner.fitOneCycle(3, LearningRates.uniform(1e-3, Learner.GROUPS));
            assertThat(learner.stopped()).isTrue();
            assertThat(learner.steps()).hasSize(2);
            assertThat(learner.history()).isEmpty();
        }
    }

    @Test
    void lrFindSweepsExponentiallyAndRestoresTheModel() {
        try (DataLoaders data = tinyData(); Learner learner = randomResnet(data)) {
            float[] before = learner.network().parameters().get("head.fc1.weight").getArray().toFloatArray();
            float[] stats = learner.network().parameters().get("bn1.running_mean").getArray().toFloatArray();
            LrFind result = learner.lrFind(1e-5, 1, 10);
            assertThat(result.learningRates()).hasSizeBetween(2, 10);
            assertThat(result.learningRates()[0]).isCloseTo(1e-5, within(1e-12));
            assertThat(result.learningRates()[1]).isCloseTo(1e-5 * Math.pow(1e5, 0.1), within(1e-10));
            // the suggestion is fast.ai's valley rule (checked on known curves below) applied to this sweep's curve
            assertThat(result.suggestion()).isEqualTo(LrFind.valley(result.learningRates(), result.losses(), 10));
            assertThat(learner.network().parameters().get("head.fc1.weight").getArray().toFloatArray()).isEqualTo(before);
            assertThat(learner.network().parameters().get("bn1.running_mean").getArray().toFloatArray()).isEqualTo(stats);
            assertThat(learner.optimizer().steps("head.fc1.weight")).isZero();
            assertThat(learner.history()).isEmpty();
            Path png = dev.tuna.report.Plots.write(dev.tuna.report.Plots.lrFinder(result, 600, 400), dir.resolve("lr.png"));
            assertThat(png).isNotEmptyFile();
        }
    }

    @Test
    void valleyPicksThePointPartWayDownTheLongestDescent() {
        double[] lrs = new double[30];
        double[] losses = new double[30];
        for (int i = 0; i < 30; i++) {
            lrs[i] = Math.pow(10, -7 + i * 0.25);
            losses[i] = i < 20 ? 3 - i * 0.1 : 1 + (i - 20) * 0.5; // falls until 20, then rises
        }
        // fast.ai skips 10% (3 points) and the last 5, leaving global 3..24 as local 0..21. The longest
        // descent is local 0..17 (global 3..20), 18 long: maxEnd 17, maxStart = 17 - 18 = -1,
        // sections = 18 / 3 = 6, index = -1 + 6 + 3 = 8 locally, i.e. global 11.
        double suggestion = LrFind.valley(lrs, losses, 30);
        assertThat(suggestion).isEqualTo(lrs[11]);
    }

    /** A noisy curve: the longest decreasing run skips the bumps (2.31, 2.27, 2.15, 1.75, 1.30). */
    @Test
    void valleyFollowsTheLongestDecreasingSubsequenceThroughNoise() {
        double[] losses = {2.30, 2.31, 2.29, 2.30, 2.25, 2.27, 2.10, 2.15, 1.90, 1.70, 1.75, 1.40, 1.20, 1.30, 1.50,
            2.0, 3.0, 5.0, 9.0, 20.0};
        double[] lrs = new double[losses.length];
        for (int i = 0; i < lrs.length; i++) {
            lrs[i] = 1e-6 * Math.pow(10, i * 0.3);
        }
        // points 2..14 are kept (20 iterations: 2 skipped at the start, 5 at the end). Their longest decreasing
        // subsequence, 2.29 2.25 2.10 1.90 1.70 1.40 1.20, ends at kept point 10 with length 7, so it starts
        // at 10 - 7 = 3; sections = 7 / 3; index 3 + 2 + 1 = 6 of the kept points, i.e. point 8 (loss 1.90).
        // fast.ai's valley() gives the same index on this curve.
        assertThat(LrFind.valley(lrs, losses, 20)).isEqualTo(lrs[8]);
    }

    /** Red against blue, with noise: a random ResNet-18 learns it in a fine-tune of two epochs. */
    @Test
    void fineTuneLowersLossAndErrorOnALearnableProblem() throws IOException {
        Random random = new Random(3);
        for (String split : List.of("data", "test")) {
            for (int i = 0; i < (split.equals("data") ? 16 : 8); i++) {
                colouredNoise(dir.resolve(split + "/red/" + i + ".png"), 0xB00000, random);
                colouredNoise(dir.resolve(split + "/blue/" + i + ".png"), 0x0000B0, random);
            }
        }
        try (DataLoaders data = ImageFolder.from(dir.resolve("data")).resize(32, ResizeMethod.SQUISH).batchSize(4)
                .dataloaders(); Learner learner = randomResnet(data)) {
            Predictions before = learner.evaluate(dir.resolve("test"));
            learner.fineTune(1);
            Predictions after = learner.evaluate(dir.resolve("test"));
            // here: loss 0.76 -> 0.50, error 0.5 -> 0
            assertThat(after.meanLoss()).as("test loss before %s", before.meanLoss()).isLessThan(0.7 * before.meanLoss());
            assertThat(after.errorRate()).as("test error before %s", before.errorRate()).isLessThan(before.errorRate());
            List<EpochRecord> history = learner.history();
            assertThat(history.get(history.size() - 1).validLoss()).isLessThan(history.get(0).validLoss());
        }
    }

    /**
     * Test-time augmentation without training transforms is fast.ai's flips: each of the 4 views is the image
     * or its mirror, blended 0.75/0.25 with the plain prediction. So for a flip-sensitive model (random
     * ResNet-18) the TTA probabilities are (1 - a) * plain + a * mirrored with a in {0, 3, 6, 9, 12}/16, and
     * for the same model made flip-invariant (every kernel averaged with its mirror, on 33 px inputs whose
     * stride-2 grids are symmetric) TTA changes nothing.
     */
    @Test
    void ttaAveragesMirrorViewsForAFlipSensitiveModelAndChangesNothingForAFlipInvariantOne() throws IOException {
        Random random = new Random(5);
        for (String label : List.of("a", "b")) {
            for (int i = 0; i < 4; i++) {
                BufferedImage image = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
                BufferedImage mirror = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 20; y++) {
                    for (int x = 0; x < 20; x++) {
                        int rgb = random.nextInt(0x1000000);
                        image.setRGB(x, y, rgb);
                        mirror.setRGB(19 - x, y, rgb);
                    }
                }
                for (Map.Entry<String, BufferedImage> e : Map.of("plain", image, "mirror", mirror).entrySet()) {
                    Path file = dir.resolve(e.getKey() + "/" + label + "/" + i + ".png");
                    Files.createDirectories(file.getParent());
                    ImageIO.write(e.getValue(), "png", file.toFile());
                }
            }
        }
        try (DataLoaders data = ImageFolder.from(dir.resolve("plain")).resize(33, ResizeMethod.SQUISH).batchSize(4)
                .dataloaders(); Learner learner = randomResnet(data)) {
            Predictions plain = learner.evaluate(dir.resolve("plain"), false);
            Predictions tta = learner.evaluate(dir.resolve("plain"), true);
            Predictions mirrored = learner.evaluate(dir.resolve("mirror"), false);
            int withMirrorViews = 0;
            for (int i = 0; i < plain.total(); i++) {
                assertThat(mirrored.items().get(i).getFileName()).isEqualTo(plain.items().get(i).getFileName());
                float[] p = plain.probabilities()[i];
                float[] m = mirrored.probabilities()[i];
                float[] t = tta.probabilities()[i];
                double best = Double.MAX_VALUE;
                int flips = -1;
                for (int k = 0; k <= 4; k++) {
                    double a = 0.75 * k / 4;
                    double error = 0;
                    for (int c = 0; c < p.length; c++) {
                        error = Math.max(error, Math.abs(t[c] - ((1 - a) * p[c] + a * m[c])));
                    }
                    if (error < best) {
                        best = error;
                        flips = k;
                    }
                }
                assertThat(best).as("image %d: TTA = blend of plain and mirrored (%d mirror views)", i, flips)
                        .isLessThan(1e-5);
                withMirrorViews += flips > 0 ? 1 : 0;
            }
            assertThat(withMirrorViews).as("images with at least one mirrored view").isGreaterThan(plain.total() / 2);
            assertThat(maxDifference(tta, plain)).as("flip-sensitive: TTA differs from plain").isGreaterThan(1e-3);

            try (NDManager scope = NDManager.newBaseManager()) {
                for (Parameter parameter : learner.network().parameters().values()) {
                    NDArray w = parameter.getArray();
                    if (w.getShape().dimension() == 4) {
                        NDArray symmetric = w.add(w.flip(3)).div(2);
                        symmetric.attach(scope);
                        w.set(symmetric.toFloatArray());
                    }
                }
            }
            Predictions invariantPlain = learner.evaluate(dir.resolve("plain"), false);
            assertThat(maxDifference(learner.evaluate(dir.resolve("mirror"), false), invariantPlain))
                    .as("the symmetrised model is flip-invariant").isLessThan(1e-5);
            assertThat(maxDifference(learner.evaluate(dir.resolve("plain"), true), invariantPlain))
                    .as("flip-invariant: TTA equals plain").isLessThan(1e-5);
        }
    }

    private static double maxDifference(Predictions a, Predictions b) {
        double worst = 0;
        for (int i = 0; i < a.total(); i++) {
            for (int c = 0; c < a.probabilities()[i].length; c++) {
                worst = Math.max(worst, Math.abs(a.probabilities()[i][c] - b.probabilities()[i][c]));
            }
        }
        return worst;
    }

    private static void colouredNoise(Path file, int base, Random random) throws IOException {
        BufferedImage image = new BufferedImage(24, 24,
                BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 24; y++) {
            for (int x = 0; x < 24; x++) {
                image.setRGB(x, y, base + random.nextInt(0x40) * 0x010101);
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(image, "png", file.toFile());
    }

    @Test
    void weightsMustMatchTheDataNormalisation() {
        try (DataLoaders data = tinyData()) {
            assertThatThrownBy(() -> Learner.builder(data).weights(dev.tuna.model.PretrainedWeights.MOBILENET_V2_TFLITE)
                    .console(null, false).build())
                    .hasMessageContaining("expect inputs normalised with")
                    .hasMessageContaining(".normalize(");
        }
    }
}
