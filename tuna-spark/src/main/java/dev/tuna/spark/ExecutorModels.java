package dev.tuna.spark;

import dev.tuna.inference.Classifier;
import dev.tuna.inference.ClassifierOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * One {@link Classifier} per executor JVM and model, loaded at the first task that needs it and reused by
 * every later task (and shared by concurrent ones: a classifier is thread-safe). Loading unzips the
 * broadcast model into a temporary folder, deleted when the JVM exits.
 */
final class ExecutorModels {
    private static final Map<String, Classifier> LOADED = new ConcurrentHashMap<>();
    private static volatile long lastLoad = -1;

    private ExecutorModels() { }

    /**
     * The executor's classifier for a shipped model, loading it on first use.
     *
     * @param model the shipment
     * @param batchSize images per forward pass
     * @return the shared classifier
     */
    static Classifier classifier(ModelShipment model, int batchSize) {
        String key = model.id() + "/" + batchSize;
        return LOADED.computeIfAbsent(key, k -> {
            long start = System.nanoTime();
            Classifier classifier = Classifier.load(unzip(model), ClassifierOptions.DEFAULTS.withBatchSize(batchSize));
            lastLoad = System.nanoTime() - start;
            return classifier;
        });
    }

    /**
     * How long the last load in this JVM took (unzip, weights, warm-up pass), for benchmarks.
     *
     * @return nanoseconds, or -1 when nothing was loaded since {@link #unloadAll}
     */
    static long lastLoadNanos() {
        return lastLoad;
    }

    /** Closes and forgets every loaded classifier of this JVM (benchmarks measure cold starts with it). */
    static synchronized void unloadAll() {
        LOADED.values().forEach(Classifier::close);
        LOADED.clear();
        lastLoad = -1;
    }

    private static Path unzip(ModelShipment model) {
        try {
            Path dir = Files.createTempDirectory("tuna-model-" + model.id().substring(0, 12));
            dir.toFile().deleteOnExit();
            try (ZipInputStream in = new ZipInputStream(new java.io.ByteArrayInputStream(model.zipped().value()))) {
                for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                    Path file = dir.resolve(entry.getName()).normalize();
                    if (!file.getParent().equals(dir)) {
                        throw new IOException("unexpected entry " + entry.getName() + " in the shipped model");
                    }
                    Files.copy(in, file);
                    file.toFile().deleteOnExit();
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not unpack the model on this executor", e);
        }
    }
}
