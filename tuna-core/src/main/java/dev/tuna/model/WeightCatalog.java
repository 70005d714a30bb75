package dev.tuna.model;

import dev.tuna.ProgressListener;
import dev.tuna.TunaException;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the file of a {@link PretrainedWeights} entry: in the cache folder ({@code $TUNA_HOME},
 * default {@code ~/.cache/tuna}), or by downloading it with a progress bar and checksum verification.
 * A download goes to a temporary file that is renamed into place only after its checksum matched,
 * so a partial or corrupt download is never used.
 */
public final class WeightCatalog {
    private static final Logger LOG = LoggerFactory.getLogger(WeightCatalog.class);

    private final Path home;
    private final ProgressListener progress;

    private WeightCatalog(Path home, ProgressListener progress) {
        this.home = home;
        this.progress = progress;
    }

    /**
     * A catalogue rooted at {@code home}.
     *
     * @param home the cache root; weights live in {@code home/weights/}
     * @param progress receives "download" progress in bytes
     * @return the catalogue
     */
    public static WeightCatalog at(Path home, ProgressListener progress) {
        return new WeightCatalog(home, progress);
    }

    /**
     * The catalogue at {@code $TUNA_HOME} (or {@code ~/.cache/tuna}).
     *
     * @param progress receives "download" progress in bytes
     * @return the catalogue
     */
    public static WeightCatalog standard(ProgressListener progress) {
        return at(defaultHome(), progress);
    }

    /**
     * Returns {@code $TUNA_HOME}, or {@code ~/.cache/tuna} when it is not set.
     *
     * @return the folder
     */
    public static Path defaultHome() {
        String env = System.getenv("TUNA_HOME");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "tuna");
    }

    /**
     * Returns where an entry's file is cached: {@code home/weights/<file>}.
     *
     * @param weights the entry
     * @return the path (which may not exist yet)
     */
    public Path cachePath(PretrainedWeights weights) {
        return home.resolve("weights").resolve(weights.fileName());
    }

    /** The places a file may already be: the cache, and {@code home/pretrained/<arch>/} (../shared's layout). */
    private List<Path> candidates(PretrainedWeights weights) {
        return List.of(cachePath(weights),
                home.resolve("pretrained").resolve(weights.architecture().id()).resolve(weights.fileName()));
    }

    /**
     * Returns the local file of an entry, downloading it when it is not cached.
     *
     * @param weights the entry
     * @return a verified file
     * @throws TunaException when the file is missing and cannot be downloaded, or its checksum is wrong
     */
    public Path resolve(PretrainedWeights weights) {
        java.util.Optional<Path> local = resolveLocal(weights);
        if (local.isPresent()) {
            return local.get();
        }
        if (weights.url().isEmpty()) {
            throw new TunaException(TunaException.Kind.BAD_MODEL_FILE, "The weights '" + weights.name() + "' ("
                    + weights.description() + ") cannot be downloaded. Put " + weights.fileName() + " (SHA-256 "
                    + weights.sha256() + ") at " + cachePath(weights) + " or "
                    + candidates(weights).get(1) + ", or pass the file itself.");
        }
        return download(weights);
    }

    /**
     * Returns the weights to use for an architecture when none were asked for: its first catalogue entry
     * whose file is already on disk here (e.g. the TFLite MobileNetV2 in {@code home/pretrained/}), else
     * its default, torchvision's weights, which {@link #resolve} downloads. A damaged file on disk does
     * not count as present here; {@link #resolve} reports it.
     *
     * @param architecture the architecture
     * @return the entry
     */
    public PretrainedWeights preferred(Architecture architecture) {
        for (PretrainedWeights entry : architecture.weights()) {
            try {
                if (resolveLocal(entry).isPresent()) {
                    return entry;
                }
            } catch (TunaException e) {
                // a damaged copy: fall through to the next entry, as if it were absent
                LOG.warn("not using {}: {}", entry.name(), e.getMessage());
            }
        }
        return PretrainedWeights.defaultFor(architecture);
    }

    /**
     * Returns the entry's file when it is already on disk, without downloading.
     *
     * @param weights the entry
     * @return the verified file, or empty when it is not there
     * @throws TunaException when a file is there but its checksum is wrong
     */
    public java.util.Optional<Path> resolveLocal(PretrainedWeights weights) {
        for (Path candidate : candidates(weights)) {
            if (Files.isRegularFile(candidate)) {
                String digest = sha256(candidate);
                if (!weights.accepts(digest)) {
                    throw new TunaException(TunaException.Kind.BAD_MODEL_FILE, "The cached weights " + candidate
                            + " have SHA-256 " + digest + ", expected " + weights.sha256()
                            + (weights.sha256().length() < 64 ? "..." : "") + ". The file is damaged or not "
                            + weights.name() + "; delete it to download it again.");
                }
                return java.util.Optional.of(candidate);
            }
        }
        return java.util.Optional.empty();
    }

    private Path download(PretrainedWeights weights) {
        Path target = cachePath(weights);
        String url = weights.url().orElseThrow();
        Path partial = null;
        try {
            Files.createDirectories(target.getParent());
            partial = Files.createTempFile(target.getParent(), weights.fileName(), ".part");
            LOG.info("downloading the weights {} from {} to {}", weights.name(), url, target);
            String digest = dev.tuna.internal.net.Downloads.fetch(url, partial, progress);
            if (!weights.accepts(digest)) {
                throw new TunaException(TunaException.Kind.BAD_MODEL_FILE, "The download of " + url
                        + " has SHA-256 " + digest + ", expected " + weights.sha256()
                        + (weights.sha256().length() < 64 ? "..." : "") + "; it was discarded. Try again later,"
                        + " or download it yourself and put it at " + target + ".");
            }
            try {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
            }
            partial = null;
            return target;
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "Could not download the weights '" + weights.name()
                    + "' from " + url + " (" + e.getMessage() + "). Without internet access, download "
                    + weights.fileName() + " elsewhere and put it at " + target + ", or pass the file itself.", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TunaException(TunaException.Kind.RUNTIME, "Interrupted while downloading " + url, e);
        } finally {
            if (partial != null) {
                try {
                    Files.deleteIfExists(partial);
                } catch (IOException ignored) {
                    // best effort: a leftover .part file is never used
                }
            }
        }
    }

    /**
     * Computes a file's SHA-256.
     *
     * @param file the file
     * @return lowercase hex
     */
    public static String sha256(Path file) {
        try {
            return dev.tuna.internal.io.Digests.sha256Hex(file);
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.BAD_MODEL_FILE, "Cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
