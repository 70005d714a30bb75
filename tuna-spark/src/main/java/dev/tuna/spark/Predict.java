package dev.tuna.spark;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Batch prediction on Spark:
 * {@code spark-submit --class dev.tuna.spark.Predict tuna-spark.jar --model m.tuna --input <dir or glob> --output <dir>}.
 * Writes one row per file: {@code path, label, probability, top_k, error} (see {@link TunaSpark#PREDICTIONS});
 * in CSV, {@code top_k} is a JSON string.
 */
@Command(name = "tuna-spark-predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Classify every file under a folder (or matching a glob) with a Tuna model, on Spark.")
public final class Predict extends SparkJob {
    @Option(names = "--model", required = true, paramLabel = "<model.tuna>",
            description = "The model folder, on the driver's local file system.")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "<dir or glob>",
            description = "Images: a folder (read recursively) or a glob, e.g. hdfs:///photos or 's3a://b/p/*.jpg'.")
    String input;

    @Option(names = "--output", required = true, paramLabel = "<dir>", description = "Where the results go.")
    String output;

    @Option(names = "--format", defaultValue = "parquet", paramLabel = "parquet|csv",
            description = "Output format (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--top-k", defaultValue = "3", description = "Classes listed in top_k (default: ${DEFAULT-VALUE}).")
    int topK;

    @Override
    public Integer call() {
        String fmt = format.toLowerCase(Locale.ROOT);
        if (!fmt.equals("parquet") && !fmt.equals("csv")) {
            throw dev.tuna.TunaException.usage("--format must be parquet or csv; found '" + format + "'.");
        }
        Dataset<Row> predictions = TunaSpark.predict(TunaSpark.readImages(spark, input), model, batchSize, topK);
        SaveMode mode = overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists;
        if (fmt.equals("csv")) {
            predictions.withColumn("top_k", functions.to_json(functions.col("top_k"))).write().mode(mode)
                    .option("header", "true").csv(output);
        } else {
            predictions.write().mode(mode).parquet(output);
        }
        Dataset<Row> written = fmt.equals("csv") ? spark.read().option("header", "true").csv(output)
                : spark.read().parquet(output);
        long total = written.count();
        long errors = written.where("error IS NOT NULL").count();
        out().printf(Locale.ROOT, "Predicted %d files (%d could not be read as images: see the error column) into %s%n",
                total - errors, errors, output);
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
        return SparkJob.run(new Predict(), spark, out, err, args);
    }

    /**
     * Entry point for spark-submit.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        SparkJob.main(new Predict(), "tuna-predict", args);
    }
}
