package dev.tuna.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tuna.ProgressListener;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.data.Splitter;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.ClassifierOptions;
import dev.tuna.inference.Prediction;
import dev.tuna.learn.Learner;
import dev.tuna.model.PretrainedWeights;
import dev.tuna.model.WeightCatalog;
import dev.tuna.transform.ResizeMethod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * BENCHMARKS.md's Spark rows: images/s of single-JVM batched prediction against Spark local[1] and
 * local[2] on the same images (the 250 of ../shared/datasets/flowers-test, MobileNetV2 at 192 px, batches
 * of 32), each run cold (model shipped and loaded, first batch) and warm (the executor's classifier reused).
 * Not part of the test run:
 * {@code mvn -o test -pl tuna-spark -am -Dtest=SparkThroughputBench -Dtuna.bench=true -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@EnabledIfSystemProperty(named = "tuna.bench", matches = "true")
class SparkThroughputBench {
    private static final int BATCH = 32;

    @Test
    void throughput() throws IOException {
        Path flowers = SharedSpark.shared("datasets/flowers-test");
        Path weights = SharedSpark.shared("pretrained/mobilenet_v2");
        Assumptions.assumeTrue(flowers != null && weights != null, "../shared data not present");
        Path model = Path.of("target", "bench-model.tuna"); // kept for a spark-submit smoke test of the jar
        if (Files.exists(model)) {
            try (Stream<Path> old = Files.walk(model)) {
                old.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        PretrainedWeights mobilenet = PretrainedWeights.MOBILENET_V2_TFLITE;
        try (DataLoaders data = ImageFolder.from(flowers).limitPerClass(8).split(Splitter.random(0.2, 42))
                .resize(192, ResizeMethod.SQUISH).normalize(mobilenet.normalization()).dataloaders();
             Learner learner = Learner.builder(data).weights(mobilenet)
                     .catalog(WeightCatalog.at(weights.getParent().getParent(), ProgressListener.NONE))
                     .recalibrationImages(32).console(null, false).build()) {
            learner.export(model, false); // the untrained head predicts as fast as a trained one
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(flowers)) {
            files = walk.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(".jpg")).sorted().toList();
        }
        int n = files.size();
        StringBuilder report = new StringBuilder();
        // single JVM: load, first batch, then the whole set twice
        long t0 = System.nanoTime();
        double singleWarm;
        try (Classifier classifier = Classifier.load(model, ClassifierOptions.DEFAULTS.withBatchSize(BATCH))) {
            double load = seconds(t0);
            long t1 = System.nanoTime();
            classifier.predictBatch(files.subList(0, BATCH));
            double firstBatch = seconds(t1);
            long t2 = System.nanoTime();
            List<Prediction> all = classifier.predictBatch(files);
            singleWarm = n / seconds(t2);
            assertThat(all).hasSize(n);
            report.append(String.format(Locale.ROOT, "single JVM: load %.2f s, first batch of %d %.2f s, %.1f images/s%n",
                    load, BATCH, firstBatch, singleWarm));
        }
        for (int cores : new int[] {1, 2}) {
            ExecutorModels.unloadAll();
            SparkSession spark = SparkSession.builder().master("local[" + cores + "]").appName("tuna-bench")
                    .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1").config("spark.default.parallelism", cores)
                    .getOrCreate();
            try {
                spark.sparkContext().setLogLevel("WARN");
                Dataset<Row> images = TunaSpark.readImages(spark, flowers.toString()).repartition(cores).cache();
                assertThat(images.count()).isEqualTo(n); // listing and reading the files are not timed
                long c0 = System.nanoTime();
                TunaSpark.predict(images, model, BATCH).write().format("noop").mode("overwrite").save();
                double cold = seconds(c0);
                long w0 = System.nanoTime();
                TunaSpark.predict(images, model, BATCH).write().format("noop").mode("overwrite").save();
                double warm = seconds(w0);
                report.append(String.format(Locale.ROOT, "Spark local[%d]: cold run %.2f s (%.1f images/s; executor"
                        + " model load %.2f s), warm run %.2f s = %.1f images/s, %.2fx single JVM%n", cores, cold,
                        n / cold, ExecutorModels.lastLoadNanos() / 1e9, warm, n / warm, n / warm / singleWarm));
                images.unpersist();
            } finally {
                spark.stop();
            }
        }
        try (Classifier classifier = Classifier.load(model, ClassifierOptions.DEFAULTS.withBatchSize(BATCH))) {
            classifier.predictBatch(files.subList(0, BATCH));
            long t = System.nanoTime();
            classifier.predictBatch(files);
            double again = n / seconds(t);
            report.append(String.format(Locale.ROOT, "single JVM again, after Spark: %.1f images/s (the machine drifts"
                    + " between %.1f and %.1f)%n", again, Math.min(again, singleWarm), Math.max(again, singleWarm)));
        }
        System.out.print(report);
        Files.writeString(Path.of("target", "spark-bench.txt"), report);
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
