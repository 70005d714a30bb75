package dev.tuna.spark;

import dev.tuna.TunaException;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.Prediction;
import dev.tuna.learn.FeatureHead;
import dev.tuna.learn.FeatureRow;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.function.Function;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.datasources.HadoopFsRelation;
import org.apache.spark.sql.execution.datasources.LogicalRelation;
import org.apache.spark.sql.execution.datasources.PartitioningAwareFileIndex;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Tuna on Apache Spark, for pipelines of your own: batch prediction and body features over a
 * {@code Dataset<Row>} of image files as Spark's {@code binaryFile} source reads them (columns {@code path}
 * and {@code content}).
 *
 * <pre>{@code
 * Dataset<Row> files = TunaSpark.readImages(spark, "hdfs:///photos");
 * Dataset<Row> predictions = TunaSpark.predict(files, Path.of("flowers.tuna"), 32);
 * predictions.write().parquet("hdfs:///photos-predicted");
 * }</pre>
 *
 * <p>The model folder is read on the driver, zipped and broadcast: each executor fetches it once and
 * loads one {@link Classifier} per JVM, which every task on it reuses. Each partition is predicted
 * {@code batchSize} images per forward pass. A file that is not a readable image becomes a row with
 * the reason in {@code error}; it never fails the job.
 */
public final class TunaSpark {
    /** {@code top_k}'s element: a class and its probability. */
    public static final StructType CANDIDATE = new StructType(new StructField[] {
        DataTypes.createStructField("label", DataTypes.StringType, false),
        DataTypes.createStructField("probability", DataTypes.FloatType, false)});

    /** What {@link #predict} gives per file: label, probability and top_k are null where error is not. */
    public static final StructType PREDICTIONS = new StructType(new StructField[] {
        DataTypes.createStructField("path", DataTypes.StringType, false),
        DataTypes.createStructField("label", DataTypes.StringType, true),
        DataTypes.createStructField("probability", DataTypes.FloatType, true),
        DataTypes.createStructField("top_k", DataTypes.createArrayType(CANDIDATE, false), true),
        DataTypes.createStructField("error", DataTypes.StringType, true)});

    /** What {@link #features} gives per file: label is the parent folder's name; features null where error is not. */
    public static final StructType FEATURES = new StructType(new StructField[] {
        DataTypes.createStructField("path", DataTypes.StringType, false),
        DataTypes.createStructField("label", DataTypes.StringType, false),
        DataTypes.createStructField("features", DataTypes.createArrayType(DataTypes.FloatType, false), true),
        DataTypes.createStructField("error", DataTypes.StringType, true)});

    /** The top-k {@link #predict(Dataset, Path, int)} reports. */
    public static final int DEFAULT_TOP_K = 3;

    private TunaSpark() { }

    /**
     * Reads every file under a folder (recursively) or matching a glob with Spark's {@code binaryFile}
     * source. Hidden files (names starting with '.' or '_') are skipped, as Spark skips them. Spark's file
     * sources give a 0-byte file no split and so no row; this adds those files back, with empty content, so
     * that {@link #predict} and {@link #features} report them ("empty file (0 bytes)") instead of dropping
     * them. They come from the listing Spark has already made on the driver: no second listing, no job.
     *
     * @param spark the session
     * @param input a folder or a glob, on any file system Spark reaches ({@code file:}, {@code hdfs:}, {@code s3a:})
     * @return columns {@code path, modificationTime, length, content}: one row per file
     */
    public static Dataset<Row> readImages(SparkSession spark, String input) {
        boolean glob = input.indexOf('*') >= 0 || input.indexOf('?') >= 0 || input.indexOf('[') >= 0
                || input.indexOf('{') >= 0;
        Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", Boolean.toString(!glob))
                .load(input);
        List<Row> empty = new ArrayList<>();
        for (FileStatus status : listedFiles(files)) {
            if (status.getLen() == 0) {
                empty.add(RowFactory.create(status.getPath().toString(),
                        new java.sql.Timestamp(status.getModificationTime()), 0L, new byte[0]));
            }
        }
        return empty.isEmpty() ? files : files.union(spark.createDataFrame(empty, files.schema()));
    }

    /** The files Spark listed for a file-source Dataset (its driver-side index), or none for other plans. */
    private static List<FileStatus> listedFiles(Dataset<Row> files) {
        List<FileStatus> out = new ArrayList<>();
        LogicalPlan plan = files.queryExecution().analyzed();
        for (LogicalPlan leaf : CollectionConverters.asJava(plan.collectLeaves())) {
            if (leaf instanceof LogicalRelation relation && relation.relation() instanceof HadoopFsRelation fs
                    && fs.location() instanceof PartitioningAwareFileIndex index) {
                out.addAll(CollectionConverters.asJava(index.allFiles()));
            }
        }
        return out;
    }

    /**
     * Predicts every file with the top {@value #DEFAULT_TOP_K} classes.
     *
     * @param binaryFiles files with {@code path} (string) and {@code content} (binary) columns
     * @param model the model folder, on the driver's file system
     * @param batchSize images per forward pass on an executor
     * @return one row per file, schema {@link #PREDICTIONS}
     */
    public static Dataset<Row> predict(Dataset<Row> binaryFiles, Path model, int batchSize) {
        return predict(binaryFiles, model, batchSize, DEFAULT_TOP_K);
    }

    /**
     * Predicts every file.
     *
     * @param binaryFiles files with {@code path} (string) and {@code content} (binary) columns
     * @param model the model folder, on the driver's file system
     * @param batchSize images per forward pass on an executor
     * @param topK how many classes {@code top_k} lists, most probable first
     * @return one row per file, schema {@link #PREDICTIONS}
     * @throws TunaException ({@code USAGE}) for missing columns or bad sizes; ({@code BAD_MODEL_FILE}) for a bad model
     */
    public static Dataset<Row> predict(Dataset<Row> binaryFiles, Path model, int batchSize, int topK) {
        if (topK < 1) {
            throw TunaException.usage("top-k must be at least 1; found " + topK + ".");
        }
        Dataset<Row> files = files(binaryFiles, batchSize);
        ModelShipment shipment = ModelShipment.of(binaryFiles.sparkSession(), model);
        MapPartitionsFunction<Row, Row> predictPartition = rows -> batched(rows, batchSize, chunk -> {
            Classifier classifier = ExecutorModels.classifier(shipment, batchSize);
            List<Classifier.Outcome<Prediction>> outcomes = classifier.predictEach(contents(chunk));
            List<Row> out = new ArrayList<>(chunk.size());
            for (int i = 0; i < chunk.size(); i++) {
                out.add(predictionRow(chunk.get(i).getString(0), outcomes.get(i), topK));
            }
            return out;
        });
        return files.mapPartitions(predictPartition, Encoders.row(PREDICTIONS));
    }

    /**
     * The pooled body features of every file (the body of {@code model} in evaluation mode, then the head's
     * concat pooling, on exactly the input the model predicts from), labelled with the parent folder's name:
     * the rows {@link #trainHead} and {@code tuna train --features} train fast.ai's head on.
     *
     * @param binaryFiles files with {@code path} (string) and {@code content} (binary) columns
     * @param model the model whose body computes the features, on the driver's file system
     * @param batchSize images per forward pass on an executor
     * @return one row per file, schema {@link #FEATURES}
     */
    public static Dataset<Row> features(Dataset<Row> binaryFiles, Path model, int batchSize) {
        Dataset<Row> files = files(binaryFiles, batchSize);
        ModelShipment shipment = ModelShipment.of(binaryFiles.sparkSession(), model);
        MapPartitionsFunction<Row, Row> featurePartition = rows -> batched(rows, batchSize, chunk -> {
            Classifier classifier = ExecutorModels.classifier(shipment, batchSize);
            List<Classifier.Outcome<float[]>> outcomes = classifier.featuresEach(contents(chunk));
            List<Row> out = new ArrayList<>(chunk.size());
            for (int i = 0; i < chunk.size(); i++) {
                String path = chunk.get(i).getString(0);
                Classifier.Outcome<float[]> o = outcomes.get(i);
                out.add(RowFactory.create(path, parentName(path), o.ok() ? o.value() : null,
                        o.ok() ? null : o.error().reason()));
            }
            return out;
        });
        return files.mapPartitions(featurePartition, Encoders.row(FEATURES));
    }

    /**
     * Collects feature rows to the driver, leaving out those with an error.
     *
     * @param features rows of schema {@link #FEATURES} (e.g. read back from Parquet)
     * @return the usable rows
     */
    public static List<FeatureRow> collectFeatures(Dataset<Row> features) {
        List<FeatureRow> out = new ArrayList<>();
        for (Row row : features.where("error IS NULL").select("path", "label", "features").collectAsList()) {
            List<Float> values = row.getList(2);
            float[] f = new float[values.size()];
            for (int i = 0; i < f.length; i++) {
                f[i] = values.get(i);
            }
            out.add(new FeatureRow(row.getString(0), row.getString(1), f));
        }
        return out;
    }

    /**
     * Trains fast.ai's head on features computed by {@link #features}, on the driver ({@link FeatureHead}:
     * the same as {@code --freeze-mode frozen-bn}'s cached frozen phase, with the same seeded split).
     *
     * @param features rows of schema {@link #FEATURES}
     * @param baseModel the model the features were computed with (its body goes into the result)
     * @param settings the split and schedule
     * @return the trained head: {@link FeatureHead#export} writes the model; close it
     */
    public static FeatureHead trainHead(Dataset<Row> features, Path baseModel, FeatureHead.Settings settings) {
        return FeatureHead.train(baseModel, collectFeatures(features), settings);
    }

    /** The name of the folder a file is in: its class. */
    static String parentName(String path) {
        String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        int slash = p.lastIndexOf('/');
        String folder = slash <= 0 ? "" : p.substring(0, slash);
        return folder.substring(folder.lastIndexOf('/') + 1);
    }

    private static Dataset<Row> files(Dataset<Row> binaryFiles, int batchSize) {
        Objects.requireNonNull(binaryFiles, "binaryFiles");
        if (batchSize < 1) {
            throw TunaException.usage("The batch size must be positive; found " + batchSize + ".");
        }
        List<String> columns = Arrays.asList(binaryFiles.columns());
        if (!columns.contains("path") || !columns.contains("content")) {
            throw TunaException.usage("Expected a Dataset with the columns 'path' (string) and 'content' (binary),"
                    + " as spark.read().format(\"binaryFile\") gives; found " + columns + ".");
        }
        return binaryFiles.select("path", "content");
    }

    private static List<byte[]> contents(List<Row> chunk) {
        List<byte[]> out = new ArrayList<>(chunk.size());
        for (Row row : chunk) {
            byte[] content = (byte[]) row.get(1);
            out.add(content == null ? new byte[0] : content);
        }
        return out;
    }

    private static Row predictionRow(String path, Classifier.Outcome<Prediction> outcome, int topK) {
        if (!outcome.ok()) {
            return RowFactory.create(path, null, null, null, outcome.error().reason());
        }
        Prediction p = outcome.value();
        List<Row> top = new ArrayList<>();
        for (Prediction.Candidate c : p.top(topK)) {
            top.add(RowFactory.create(c.label(), c.probability()));
        }
        // Spark's row encoder takes a Scala sequence for an array of structs
        return RowFactory.create(path, p.label(), p.probability(), CollectionConverters.asScala(top), null);
    }

    /** A partition's rows, {@code batchSize} at a time through {@code compute}, without holding the partition. */
    static Iterator<Row> batched(Iterator<Row> rows, int batchSize, Function<List<Row>, List<Row>> compute) {
        return new Iterator<>() {
            private Iterator<Row> current = java.util.Collections.emptyIterator();

            @Override
            public boolean hasNext() {
                while (!current.hasNext() && rows.hasNext()) {
                    List<Row> chunk = new ArrayList<>(batchSize);
                    while (chunk.size() < batchSize && rows.hasNext()) {
                        chunk.add(rows.next());
                    }
                    current = compute.apply(chunk).iterator();
                }
                return current.hasNext();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return current.next();
            }
        };
    }
}
