package dev.tuna.data;

import dev.tuna.ProgressListener;
import dev.tuna.TunaException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's dataset: five flower classes with a withheld test folder, under
 * {@code <home>/datasets/flowers} and {@code <home>/datasets/flowers-test}. When absent and online,
 * TensorFlow's public {@code flower_photos} archive is downloaded and unpacked, and the first 50
 * images of each class (by sorted file name) become the test folder, as in the reference workflow.
 */
public final class FlowersDataset {
    private static final Logger LOG = LoggerFactory.getLogger(FlowersDataset.class);

    /** TensorFlow's flower_photos archive (about 220 MB, 3,670 photos). */
    public static final String URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz";
    /** Test images taken from each class. */
    public static final int TEST_PER_CLASS = 50;

    /**
     * The two folders.
     *
     * @param train the training pool, one folder per class
     * @param test the withheld test set, same layout
     */
    public record Folders(Path train, Path test) {}

    private FlowersDataset() {}

    /**
     * Returns the folders, downloading and preparing them first when they are missing.
     *
     * @param home the Tuna home folder ({@code $TUNA_HOME})
     * @param progress receives "download" progress
     * @return the folders
     */
    public static Folders ensure(Path home, ProgressListener progress) {
        Path train = home.resolve("datasets").resolve("flowers");
        Path test = home.resolve("datasets").resolve("flowers-test");
        if (Files.isDirectory(train) && Files.isDirectory(test)) {
            return new Folders(train, test);
        }
        if (Files.exists(train) || Files.exists(test)) {
            throw TunaException.badData("Found only one of " + train + " and " + test + ". Remove it to download the"
                    + " flowers again, or add the other one.");
        }
        Path work = home.resolve("datasets").resolve(".flowers-download");
        try {
            Files.createDirectories(work);
            Path archive = work.resolve("flower_photos.tgz");
            LOG.info("downloading the flowers dataset from {} into {}", URL, home.resolve("datasets"));
            download(archive, progress);
            Path unpacked = work.resolve("unpacked");
            unpack(archive, unpacked);
            Path photos = unpacked.resolve("flower_photos");
            carveTest(photos, work.resolve("flowers-test"));
            Files.move(work.resolve("flowers-test"), test, StandardCopyOption.ATOMIC_MOVE);
            Files.move(photos, train, StandardCopyOption.ATOMIC_MOVE);
            deleteTree(work);
            return new Folders(train, test);
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "Could not prepare the flowers dataset from " + URL
                    + " (" + e.getMessage() + "). Without internet access, put the images in " + train
                    + "/<class>/ and " + test + "/<class>/ yourself, or set TUNA_HOME to a folder that has"
                    + " datasets/flowers and datasets/flowers-test.", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TunaException(TunaException.Kind.RUNTIME, "Interrupted while downloading " + URL, e);
        }
    }

    private static void download(Path archive, ProgressListener progress) throws IOException, InterruptedException {
        Path partial = archive.resolveSibling(archive.getFileName() + ".part");
        dev.tuna.internal.net.Downloads.fetch(URL, partial, progress);
        Files.move(partial, archive, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Unpacks a .tgz, refusing entries that would land outside the target folder. */
    static void unpack(Path archive, Path target) throws IOException {
        Files.createDirectories(target);
        Path root = target.toAbsolutePath().normalize();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(
                new BufferedInputStream(Files.newInputStream(archive))))) {
            for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
                Path out = root.resolve(entry.getName()).normalize();
                if (!out.startsWith(root)) {
                    throw new IOException("archive entry escapes the target folder: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                } else if (entry.isFile()) {
                    Files.createDirectories(out.getParent());
                    Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** Moves the first {@link #TEST_PER_CLASS} images of each class folder (sorted by name) into {@code test}. */
    static void carveTest(Path photos, Path test) throws IOException {
        List<Path> classes = new ArrayList<>();
        try (Stream<Path> children = Files.list(photos)) {
            children.filter(Files::isDirectory).sorted().forEach(classes::add);
        }
        for (Path cls : classes) {
            List<Path> files;
            try (Stream<Path> children = Files.list(cls)) {
                files = children.filter(Files::isRegularFile)
                        .sorted((a, b) -> FolderScanner.CODE_POINT_ORDER.compare(a.getFileName().toString(),
                                b.getFileName().toString()))
                        .limit(TEST_PER_CLASS).toList();
            }
            Path dest = test.resolve(cls.getFileName().toString());
            Files.createDirectories(dest);
            for (Path file : files) {
                Files.move(file, dest.resolve(file.getFileName().toString()));
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
