package dev.tuna.spark;

import dev.tuna.TunaException;
import dev.tuna.inference.ModelArtifact;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * A model folder on its way to the executors: zipped once on the driver and broadcast, so each executor
 * fetches it once (Spark's torrent broadcast) however many tasks it runs. The id is the SHA-256 of the
 * zip, which keys the per-JVM classifier cache ({@link ExecutorModels}).
 *
 * @param id the SHA-256 of the zipped folder, in hex
 * @param zipped the broadcast zip
 */
record ModelShipment(String id, Broadcast<byte[]> zipped) implements Serializable {

    /**
     * Checks and zips a model folder on the driver, then broadcasts it.
     *
     * @param spark the session
     * @param model the model folder ({@code .tuna})
     * @return the shipment
     * @throws TunaException ({@code BAD_MODEL_FILE}) when the folder is not a model
     */
    static ModelShipment of(SparkSession spark, Path model) {
        ModelArtifact.read(model); // fail on the driver, with the reason, before any task starts
        byte[] zip = zip(model);
        JavaSparkContext context = JavaSparkContext.fromSparkContext(spark.sparkContext());
        return new ModelShipment(sha256(zip), context.broadcast(zip));
    }

    private static byte[] zip(Path folder) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes); Stream<Path> walk = Files.list(folder)) {
            List<Path> files = walk.filter(Files::isRegularFile).sorted().toList();
            for (Path file : files) {
                out.putNextEntry(new ZipEntry(file.getFileName().toString()));
                Files.copy(file, out);
                out.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read the model folder " + folder, e);
        }
        return bytes.toByteArray();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }
}
