package dev.tuna.spark;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Distributed feature extraction:
 * {@code spark-submit --class dev.tuna.spark.Featurize tuna-spark.jar --model base.tuna --input <root> --output <dir>}.
 * Writes Parquet rows {@code path, label, features, error} (label = the parent folder's name, features =
 * the base model's pooled body features, see {@link TunaSpark#features}) and a copy of the base model in
 * {@code <dir>/_tuna_model/} (Spark and Parquet readers skip names starting with '_'), so that
 * {@code tuna train --features <dir>} finds the body it trains the head for.
 */
@Command(name = "tuna-spark-featurize", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Compute a model body's pooled features for a labelled folder tree (<root>/<class>/<image>), on Spark.")
public final class Featurize extends SparkJob {
    /** The folder under the output that holds the base model. */
    public static final String MODEL_FOLDER = "_tuna_model";

    @Option(names = "--model", required = true, paramLabel = "<base.tuna>",
            description = "The model whose body computes the features, on the driver's local file system.")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "<root>",
            description = "The labelled images: <root>/<class>/<image>, read recursively.")
    String input;

    @Option(names = "--output", required = true, paramLabel = "<dir>", description = "Where the Parquet files go.")
    String output;

    @Override
    public Integer call() {
        Dataset<Row> features = TunaSpark.features(TunaSpark.readImages(spark, input), model, batchSize);
        features.write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists).parquet(output);
        try {
            org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path(output);
            FileSystem fs = out.getFileSystem(spark.sparkContext().hadoopConfiguration());
            fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(model.toAbsolutePath().toUri()),
                    new org.apache.hadoop.fs.Path(out, MODEL_FOLDER));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not copy the base model into " + output, e);
        }
        Dataset<Row> written = spark.read().parquet(output);
        long total = written.count();
        long errors = written.where("error IS NOT NULL").count();
        long classes = written.where("error IS NULL").select("label").distinct().count();
        PrintWriter out = out();
        out.printf(Locale.ROOT, "Wrote the features of %d images in %d classes to %s (%d files could not be read"
                + " as images: see the error column).%n", total - errors, classes, output, errors);
        out.printf(Locale.ROOT, "Next, on one machine: tuna train --features %s --out <model.tuna>%n", output);
        return 0;
    }

    /**
     * Runs in an existing session (tests, notebooks).
     *
     * @param spark the session
     * @param out where the summary goes
     * @param err where errors go
     * @param args the arguments
     * @return 0 ok, 1 usage, 2 bad data or model file, 3 runtime failure
     */
    public static int run(SparkSession spark, PrintWriter out, PrintWriter err, String... args) {
        return SparkJob.run(new Featurize(), spark, out, err, args);
    }

    /**
     * Entry point for spark-submit.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        SparkJob.main(new Featurize(), "tuna-featurize", args);
    }
}
