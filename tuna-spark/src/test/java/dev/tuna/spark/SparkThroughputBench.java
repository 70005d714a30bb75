package dev.tuna.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tuna.ProgressListener;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.data.Splitter;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.ClassifierOptions;
import dev.tuna.inference.BatchPredictor;
import dev.tuna.learn.Learner;
import dev.tuna.model.PretrainedWeights;
import dev.tuna.model.WeightCatalog;
import dev.tuna.transform.ResizeMethod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * BENCHMARKS.md's Spark rows: images/s of {@code tuna predict --csv}'s path in one JVM ({@link BatchPredictor})
 * against Spark {@code local[1]} and {@code local[2]} ({@link Predict}, CSV output) on the same 4,067 images
 * of ../shared/datasets/flowers (MobileNetV2 at 192 px, batches of 32). Every timed run reads the files and
 * writes its CSV. Spark runs cold (model shipped and loaded, first batches) and warm (the executor's
 * classifier reused). Not part of the test run:
 * {@code mvn -o test -pl tuna-spark -am -Dtest=SparkThroughputBench -Dtuna.bench=true -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@EnabledIfSystemProperty(named = "tuna.bench", matches = "true")
class SparkThroughputBench {
    private static final int BATCH = 32;

    @TempDir
    Path tmp;

    @Test
    void throughput() throws IOException {
        Path flowers = SharedSpark.shared("datasets/flowers");
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
        int n = BatchPredictor.files(flowers).size();
        StringBuilder report = new StringBuilder(String.format(Locale.ROOT, "%d files under %s%n", n, flowers));
        double single = singleJvm(model, flowers, n, report, "single JVM (predict --csv's path)");
        for (int cores : new int[] {1, 2}) {
            ExecutorModels.unloadAll();
            SparkSession spark = SparkSession.builder().master("local[" + cores + "]").appName("tuna-bench")
                    .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1").config("spark.default.parallelism", cores)
                    .getOrCreate();
            try {
                spark.sparkContext().setLogLevel("WARN");
                StringBuilder runs = new StringBuilder();
                for (String run : new String[] {"cold", "warm"}) {
                    Path out = tmp.resolve("spark-" + cores + "-" + run);
                    java.io.StringWriter said = new java.io.StringWriter();
                    long t0 = System.nanoTime();
                    int code = Predict.run(spark, new PrintWriter(said, true), new PrintWriter(said, true), "--model",
                            model.toString(), "--input", flowers.toString(), "--output", out.toString(), "--format",
                            "csv", "--batch-size", Integer.toString(BATCH));
                    double seconds = seconds(t0);
                    assertThat(code).as(said.toString()).isZero();
                    assertThat(said.toString()).contains("Predicted " + n + " files (0 could not");
                    runs.append(String.format(Locale.ROOT, ", %s %.1f s = %.1f images/s (%.2fx single JVM)", run,
                            seconds, n / seconds, n / seconds / single));
                    if (run.equals("cold")) {
                        runs.append(String.format(Locale.ROOT, " [executor model load %.2f s]",
                                ExecutorModels.lastLoadNanos() / 1e9));
                    }
                }
                report.append("Spark local[").append(cores).append("]").append(runs).append('\n');
            } finally {
                spark.stop();
            }
        }
        singleJvm(model, flowers, n, report, "single JVM again, after Spark");
        System.out.print(report);
        Files.writeString(Path.of("target", "spark-bench.txt"), report);
    }

    /** Loads, predicts one batch (first-shape kernels), then times the whole folder to CSV. */
    private double singleJvm(Path model, Path flowers, int n, StringBuilder report, String name) {
        long t0 = System.nanoTime();
        try (Classifier classifier = Classifier.load(model, ClassifierOptions.DEFAULTS.withBatchSize(BATCH))) {
            double load = seconds(t0);
            long t1 = System.nanoTime();
            classifier.predictEach(BatchPredictor.files(flowers).subList(0, BATCH), false);
            double first = seconds(t1);
            Path csv = tmp.resolve(name.replace(' ', '-') + ".csv");
            long t2 = System.nanoTime();
            BatchPredictor.Summary summary = BatchPredictor.of(classifier).writeCsv(flowers, csv, false);
            double seconds = seconds(t2);
            assertThat(summary.files()).isEqualTo(n);
            assertThat(summary.errors()).isZero();
            report.append(String.format(Locale.ROOT, "%s: load %.2f s, first batch of %d %.2f s, %d files to CSV in"
                    + " %.1f s = %.1f images/s%n", name, load, BATCH, first, n, seconds, n / seconds));
            return n / seconds;
        }
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
