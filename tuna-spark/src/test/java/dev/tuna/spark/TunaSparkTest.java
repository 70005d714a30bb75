package dev.tuna.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.tuna.ProgressListener;
import dev.tuna.data.DataLoader;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.data.ImageItem;
import dev.tuna.data.Splitter;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.Evaluation;
import dev.tuna.inference.Prediction;
import dev.tuna.inference.Predictions;
import dev.tuna.learn.EpochRecord;
import dev.tuna.learn.FeatureHead;
import dev.tuna.learn.FeatureRow;
import dev.tuna.learn.FineTune;
import dev.tuna.learn.FreezeMode;
import dev.tuna.learn.Learner;
import dev.tuna.learn.Plan;
import dev.tuna.model.PretrainedWeights;
import dev.tuna.model.WeightCatalog;
import dev.tuna.transform.ResizeMethod;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tuna on one shared local Spark session ({@code local[2]}) against the single-JVM paths, on real photos:
 * the first 10 images of every class of ../shared/datasets/flowers-test train (80/20 split, seed 42), the
 * next 10 of every class are held out. MobileNetV2 from ../shared/pretrained at 128 px, Keras-style
 * frozen batch norm.
 */
class TunaSparkTest {
    private static final int SIZE = 128;
    private static final int BATCH = 8;
    private static final int HEAD_EPOCHS = 4;
    private static final double HEAD_LR = 1e-2;

    @TempDir
    static Path tmp;

    static SparkSession spark;
    static Path train;
    static Path holdout;
    static Path junk;
    static Path base;       // the pretrained body (batch norm recalibrated on the training images), head untrained
    static Path single;     // base + the head trained in one JVM by frozen-bn's cached phase
    static Map<String, float[]> singleFeatures = new HashMap<>(); // by file name
    static List<EpochRecord> singleHistory;

    @BeforeAll
    static void prepare() throws IOException {
        Path flowers = SharedSpark.shared("datasets/flowers-test");
        Path weights = SharedSpark.shared("pretrained/mobilenet_v2");
        Assumptions.assumeTrue(flowers != null && weights != null, "../shared data not present");
        train = tmp.resolve("train");
        holdout = tmp.resolve("holdout");
        junk = tmp.resolve("junk");
        try (Stream<Path> classes = Files.list(flowers)) {
            for (Path dir : classes.sorted().toList()) {
                List<Path> images;
                try (Stream<Path> files = Files.list(dir)) {
                    images = files.sorted().toList();
                }
                for (int i = 0; i < 20; i++) {
                    Path to = (i < 10 ? train : holdout).resolve(dir.getFileName().toString())
                            .resolve(images.get(i).getFileName().toString());
                    Files.createDirectories(to.getParent());
                    Files.copy(images.get(i), to);
                }
            }
        }
        Files.createDirectories(junk.resolve("mixed"));
        Path aJpeg = firstImage(train.resolve("daisy"));
        Files.copy(aJpeg, junk.resolve("mixed/good.jpg"));
        Files.copy(firstImage(train.resolve("rose")), junk.resolve("mixed/also-good.jpg"));
        Files.writeString(junk.resolve("mixed/notes.txt"), "not an image\n");
        Files.write(junk.resolve("mixed/truncated.jpg"), java.util.Arrays.copyOf(Files.readAllBytes(aJpeg), 200));
        Files.write(junk.resolve("mixed/empty.jpg"), new byte[0]);
        Files.write(junk.resolve("mixed/empty too.jpg"), new byte[0]); // spaces: the path as Spark writes it
        Files.copy(aJpeg, junk.resolve("mixed/good too.jpg"));

        PretrainedWeights mobilenet = PretrainedWeights.MOBILENET_V2_TFLITE;
        base = tmp.resolve("base.tuna");
        single = tmp.resolve("single.tuna");
        try (DataLoaders data = ImageFolder.from(train).split(Splitter.random(0.2, 42))
                .resize(SIZE, ResizeMethod.SQUISH).normalize(mobilenet.normalization()).batchSize(BATCH).dataloaders();
             Learner learner = Learner.builder(data).weights(mobilenet).freezeMode(FreezeMode.FROZEN_BN)
                     .catalog(WeightCatalog.at(weights.getParent().getParent(), ProgressListener.NONE))
                     .console(null, false).build()) {
            learner.export(base, false);
            for (DataLoader loader : List.of(data.train(), data.valid())) {
                float[][] rows = learner.pooledFeatures(loader);
                List<ImageItem> items = loader.items();
                for (int i = 0; i < rows.length; i++) {
                    singleFeatures.put(items.get(i).path().getFileName().toString(), rows[i]);
                }
            }
            learner.fit(Plan.of(headStage()));
            singleHistory = learner.history();
            learner.export(single, false);
        }
        spark = SharedSpark.session();
    }

    @AfterAll
    static void release() {
        singleFeatures.clear();
    }

    /** fine_tune's frozen stage, as FeatureHead runs it with the same settings. */
    private static dev.tuna.learn.Stage headStage() {
        return FineTune.DEFAULT.withBaseLr(HEAD_LR).withFreezeEpochs(HEAD_EPOCHS).plan(1).stages().get(0);
    }

    private static FeatureHead.Settings headSettings() {
        return FeatureHead.Settings.DEFAULTS.withEpochs(HEAD_EPOCHS).withBaseLr(HEAD_LR).withBatchSize(BATCH);
    }

    private static Path firstImage(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.sorted().findFirst().orElseThrow();
        }
    }

    private static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    @Test
    void sparkPredictionsEqualTheClassifierImageForImage() throws IOException {
        Dataset<Row> predicted = TunaSpark.predict(TunaSpark.readImages(spark, train.toUri().toString()), single, 3, 2);
        List<Row> rows = predicted.collectAsList();
        assertThat(rows).hasSize(50);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(train)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        Map<String, Prediction> expected = new HashMap<>();
        try (Classifier classifier = Classifier.load(single)) {
            List<Prediction> batch = classifier.predictBatch(files);
            for (int i = 0; i < files.size(); i++) {
                expected.put(files.get(i).getFileName().toString(), batch.get(i));
            }
        }
        for (Row row : rows) {
            Prediction p = expected.get(name(row.getString(0)));
            assertThat(row.isNullAt(4)).as(row.getString(0)).isTrue();
            assertThat(row.getString(1)).as(row.getString(0)).isEqualTo(p.label());
            assertThat(row.getFloat(2)).isCloseTo(p.probability(), within(1e-5f));
            List<Row> top = row.getList(3);
            assertThat(top).hasSize(2);
            for (int k = 0; k < 2; k++) {
                assertThat(top.get(k).getString(0)).isEqualTo(p.top(2).get(k).label());
                assertThat(top.get(k).getFloat(1)).isCloseTo(p.top(2).get(k).probability(), within(1e-5f));
            }
        }
    }

    @Test
    void junkFilesBecomeErrorRowsAndTheJobSucceeds() {
        Path out = tmp.resolve("junk-predictions");
        StringWriter said = new StringWriter();
        int code = Predict.run(spark, new PrintWriter(said, true), new PrintWriter(said, true), "--model",
                single.toString(), "--input", junk.toString(), "--output", out.toString(), "--format", "csv");
        assertThat(code).as(said.toString()).isZero();
        // Spark's file sources give a 0-byte file no split; readImages adds such files back from Spark's listing
        assertThat(said.toString()).contains("Predicted 3 files (4 could not be read as images");
        Map<String, Row> byName = new HashMap<>();
        List<String> paths = new java.util.ArrayList<>();
        for (Row row : spark.read().option("header", "true").csv(out.toString()).collectAsList()) {
            byName.put(name(row.getAs("path")), row);
            paths.add(row.getAs("path"));
        }
        assertThat(byName).containsOnlyKeys("good.jpg", "also-good.jpg", "notes.txt", "truncated.jpg", "empty.jpg",
                "empty too.jpg", "good too.jpg");
        for (String bad : List.of("notes.txt", "truncated.jpg", "empty.jpg", "empty too.jpg")) {
            assertThat((String) byName.get(bad).getAs("error")).as(bad).isNotBlank();
            assertThat((String) byName.get(bad).getAs("label")).as(bad).isNull();
        }
        assertThat((String) byName.get("empty.jpg").getAs("error")).contains("empty file (0 bytes)");
        // the added rows name their files the way binaryFile names the others
        String good = paths.stream().filter(p -> p.endsWith("/good too.jpg")).findFirst().orElseThrow();
        String empty = paths.stream().filter(p -> p.endsWith("/empty too.jpg")).findFirst().orElseThrow();
        assertThat(empty.replace("empty too.jpg", "good too.jpg")).isEqualTo(good);
        assertThat((String) byName.get("good.jpg").getAs("error")).isNull();
        assertThat((String) byName.get("good.jpg").getAs("top_k")).startsWith("[{\"label\":");
    }

    @Test
    void aMissingModelIsRefusedOnTheDriverWithExitCode2() {
        StringWriter said = new StringWriter();
        int code = Predict.run(spark, new PrintWriter(said, true), new PrintWriter(said, true), "--model",
                tmp.resolve("nowhere.tuna").toString(), "--input", junk.toString(), "--output",
                tmp.resolve("never").toString());
        assertThat(code).isEqualTo(2);
        assertThat(said.toString()).contains("nowhere.tuna");
        assertThat(tmp.resolve("never")).doesNotExist();
    }

    @Test
    void sparkFeaturesEqualSingleJvmFeaturesAndTrainTheSameHead() throws IOException {
        Path features = tmp.resolve("features.parquet");
        StringWriter said = new StringWriter();
        int code = Featurize.run(spark, new PrintWriter(said, true), new PrintWriter(said, true), "--model",
                base.toString(), "--input", train.toString(), "--output", features.toString(), "--batch-size", Integer.toString(BATCH));
        assertThat(code).as(said.toString()).isZero();
        assertThat(features.resolve(Featurize.MODEL_FOLDER).resolve("model.json")).exists();
        Dataset<Row> read = spark.read().parquet(features.toString());
        List<FeatureRow> rows = TunaSpark.collectFeatures(read);
        assertThat(rows).hasSize(50);
        double worst = 0;
        double largest = 0;
        for (FeatureRow row : rows) {
            float[] expected = singleFeatures.get(name(row.path()));
            assertThat(row.label()).isEqualTo(Path.of(java.net.URI.create(row.path())).getParent().getFileName().toString());
            assertThat(row.features()).hasSameSizeAs(expected);
            for (int i = 0; i < expected.length; i++) { // relative to the value where it is above 1
                worst = Math.max(worst, Math.abs(expected[i] - row.features()[i]) / Math.max(1, Math.abs(expected[i])));
                largest = Math.max(largest, Math.abs(expected[i]));
            }
        }
        System.out.println("largest feature difference, Spark vs single JVM: " + worst + " (largest feature " + largest
                + ")");
        // both sides run full batches of BATCH images (a short one padded): libtorch's kernels depend on the
        // batch shape only, so Spark's partitioning cannot move a feature (a lone image used to differ by 2.2e-5)
        assertThat(worst).isLessThanOrEqualTo(1e-5);

        // the head trained on the driver from Spark's features is frozen-bn's cached phase, step for step
        Path fromFeatures = tmp.resolve("from-features.tuna");
        try (FeatureHead head = TunaSpark.trainHead(read, base, headSettings())) {
            List<EpochRecord> history = head.history();
            assertThat(history).hasSameSizeAs(singleHistory);
            for (int e = 0; e < history.size(); e++) {
                System.out.printf("epoch %d: train loss %.5f vs %.5f, valid error %.3f vs %.3f%n", e,
                        history.get(e).trainLoss(), singleHistory.get(e).trainLoss(), history.get(e).errorRate(),
                        singleHistory.get(e).errorRate());
                assertThat(history.get(e).trainLoss()).isCloseTo(singleHistory.get(e).trainLoss(), within(1e-3));
                assertThat(history.get(e).errorRate()).isCloseTo(singleHistory.get(e).errorRate(), within(0.101));
            }
            head.export(fromFeatures, false);
        }
        double sparkAccuracy = holdoutAccuracy(fromFeatures);
        double singleAccuracy = holdoutAccuracy(single);
        System.out.printf("held-out accuracy: head from Spark features %.3f, single-JVM frozen-bn head %.3f%n",
                sparkAccuracy, singleAccuracy);
        assertThat(sparkAccuracy).isGreaterThan(0.4).isCloseTo(singleAccuracy, within(0.061));

        // the command line trains the same head from the Parquet folder, without Spark
        Path fromCli = tmp.resolve("from-cli.tuna");
        StringWriter cliOut = new StringWriter();
        int cli = dev.tuna.cli.TunaCommand.execute(new PrintWriter(cliOut, true), new PrintWriter(cliOut, true),
                "train", "--features", features.toString(), "--epochs", Integer.toString(HEAD_EPOCHS), "--lr",
                Double.toString(HEAD_LR), "--bs", Integer.toString(BATCH), "--out", fromCli.toString());
        assertThat(cli).as(cliOut.toString()).isZero();
        assertThat(holdoutAccuracy(fromCli)).isCloseTo(sparkAccuracy, within(1e-9));
    }

    private static double holdoutAccuracy(Path model) {
        try (Classifier classifier = Classifier.load(model)) {
            Predictions p = Evaluation.run(classifier, holdout, ProgressListener.NONE).predictions();
            return p.accuracy();
        }
    }
}
