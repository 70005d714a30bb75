package dev.tuna.cli;

import dev.tuna.TunaException;
import dev.tuna.learn.FeatureRow;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;

/**
 * Reads the feature rows that {@code dev.tuna.spark.Featurize} writes — Parquet with the columns
 * {@code path} (string), {@code label} (string), {@code features} (list of float) and {@code error}
 * (string, null when the image was read) — from one file or a folder of part files, on the local file
 * system, without Spark. Rows with an error are left out and counted.
 */
final class FeatureParquet {
    /** The folder inside a features folder where Featurize leaves a copy of its base model. */
    static final String MODEL_FOLDER = "_tuna_model";

    /**
     * What a features folder held.
     *
     * @param rows the usable rows
     * @param errors how many rows had an error instead of features
     * @param files the Parquet files read
     */
    record Read(List<FeatureRow> rows, int errors, int files) { }

    private FeatureParquet() { }

    /**
     * Reads every Parquet file of a folder (names starting with '.' or '_' skipped, as Spark does) or one file.
     *
     * @param location the folder or file
     * @return the rows
     * @throws TunaException ({@code BAD_DATA}) when there is no Parquet, or its columns are not Featurize's
     */
    static Read read(Path location) {
        List<Path> files = files(location);
        List<FeatureRow> rows = new ArrayList<>();
        int errors = 0;
        Configuration conf = new Configuration(false);
        for (Path file : files) {
            try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(),
                    new org.apache.hadoop.fs.Path(file.toAbsolutePath().toUri())).withConf(conf).build()) {
                for (Group g = reader.read(); g != null; g = reader.read()) {
                    if (has(g, "error") && g.getFieldRepetitionCount("error") > 0
                            || g.getFieldRepetitionCount("features") == 0) {
                        errors++;
                        continue;
                    }
                    rows.add(new FeatureRow(g.getString("path", 0), g.getString("label", 0), floats(g)));
                }
            } catch (IOException | RuntimeException e) {
                if (e instanceof TunaException te) {
                    throw te;
                }
                throw TunaException.badData("Could not read the feature rows in " + file + ": " + e.getMessage()
                        + ". Expected Parquet with the columns path, label, features (list of float) and error,"
                        + " as dev.tuna.spark.Featurize writes.");
            }
        }
        return new Read(rows, errors, files.size());
    }

    private static boolean has(Group g, String field) {
        return g.getType().containsField(field);
    }

    /** Spark's three-level list: features.list[i].element. */
    private static float[] floats(Group g) {
        Group list = g.getGroup("features", 0);
        String repeated = list.getType().getFieldName(0);
        int n = list.getFieldRepetitionCount(repeated);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            Group element = list.getGroup(repeated, i);
            out[i] = element.getFloat(0, 0);
        }
        return out;
    }

    private static List<Path> files(Path location) {
        if (Files.isRegularFile(location)) {
            return List.of(location);
        }
        if (!Files.isDirectory(location)) {
            throw TunaException.badData("No features at " + location + "; expected the Parquet folder that"
                    + " dev.tuna.spark.Featurize wrote (or one .parquet file).");
        }
        try (Stream<Path> list = Files.list(location)) {
            List<Path> parts = list.filter(p -> {
                String name = p.getFileName().toString();
                return Files.isRegularFile(p) && !name.startsWith(".") && !name.startsWith("_")
                        && name.endsWith(".parquet");
            }).sorted().toList();
            if (parts.isEmpty()) {
                throw TunaException.badData("No .parquet files in " + location + "; expected the folder that"
                        + " dev.tuna.spark.Featurize wrote.");
            }
            return parts;
        } catch (IOException e) {
            throw TunaException.badData("Could not list " + location + ": " + e.getMessage());
        }
    }
}
