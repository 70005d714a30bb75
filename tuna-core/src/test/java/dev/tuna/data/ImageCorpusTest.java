package dev.tuna.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tuna.testing.PillowReference;
import dev.tuna.testing.PillowReference.Decoded;
import dev.tuna.transform.ResizeMethod;
import dev.tuna.transform.RgbImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A folder of many odd files from an imaging library's own test data (Go's image packages, as Debian
 * ships them: {@code scripts/fetch_image_corpus.sh}, run by {@code .ci/run}), named by the environment
 * variable {@code TUNA_IMAGE_CORPUS}; skipped without it. Every file must be decoded or skipped with
 * a reason within a time limit, never crash; every TIFF must decode, to Pillow's pixels when
 * Debian's python3-pil is there; and the dataset pipeline must account for every file.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class ImageCorpusTest {
    private static final long SECONDS_PER_FILE = 20;

    @TempDir
    Path dir;

    private static Path corpus() {
        String folder = System.getenv("TUNA_IMAGE_CORPUS");
        Assumptions.assumeTrue(folder != null && !folder.isBlank(),
                "TUNA_IMAGE_CORPUS not set (scripts/fetch_image_corpus.sh <folder> lays one out)");
        Path path = Path.of(folder);
        Assumptions.assumeTrue(Files.isDirectory(path), "TUNA_IMAGE_CORPUS is not a folder: " + folder);
        return path;
    }

    private static List<Path> files(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        }
    }

    /** TIFF by its own magic numbers, not by the code under test. */
    private static boolean isTiff(Path file) throws IOException {
        byte[] h = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(h, 0, 4) == 4 && ((h[0] == 'I' && h[1] == 'I' && h[2] == 42 && h[3] == 0)
                    || (h[0] == 'M' && h[1] == 'M' && h[2] == 0 && h[3] == 42));
        }
    }

    private static Optional<ImageFormat> sniff(Path file) throws IOException {
        byte[] header = new byte[ImageFormat.HEADER_BYTES];
        try (InputStream in = Files.newInputStream(file)) {
            return ImageFormat.sniff(header, in.readNBytes(header, 0, header.length));
        }
    }

    @Test
    void everyFileIsDecodedOrSkippedWithAReasonInTimeAndEveryTiffDecodes() throws Exception {
        Path root = corpus();
        List<Path> files = files(root);
        List<String> problems = new ArrayList<>();
        Map<String, Integer> outcomes = new TreeMap<>();
        int tiffs = 0;
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "corpus-decode");
            thread.setDaemon(true);
            return thread;
        });
        try {
            for (Path file : files) {
                Optional<ImageFormat> format = sniff(file);
                boolean tiff = isTiff(file);
                tiffs += tiff ? 1 : 0;
                Future<RgbImage> decoded = pool.submit(() -> ImageDecoder.standard().decode(file));
                String outcome;
                try {
                    RgbImage image = decoded.get(SECONDS_PER_FILE, TimeUnit.SECONDS);
                    outcome = "decoded " + format.map(Enum::name).orElse("?");
                    assertThat(image.pixels()).hasSize(image.width() * image.height() * 3);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof UnreadableImageException skipped) {
                        outcome = "skipped: " + skipped.getMessage();
                        if (tiff) {
                            problems.add(root.relativize(file) + ": a TIFF was not decoded: " + skipped.getMessage());
                        }
                    } else {
                        outcome = "crashed";
                        problems.add(root.relativize(file) + ": crashed with " + e.getCause());
                    }
                } catch (TimeoutException e) {
                    decoded.cancel(true);
                    problems.add(root.relativize(file) + ": not decoded within " + SECONDS_PER_FILE + " s");
                    pool.shutdownNow();
                    pool = Executors.newSingleThreadExecutor();
                    outcome = "timed out";
                }
                System.out.println("corpus: " + root.relativize(file) + ": " + outcome);
                outcomes.merge(outcome.startsWith("skipped: not an image") ? "not an image" : outcome, 1,
                        Integer::sum);
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.println("corpus: " + files.size() + " files: " + outcomes);
        assertThat(problems).isEmpty();
        assertThat(tiffs).as("TIFF files in the corpus").isGreaterThanOrEqualTo(10);
        assertThat(files.size()).isGreaterThanOrEqualTo(100);
    }

    @Test
    void corpusTiffsDecodeToPillowsPixels() throws Exception {
        Path root = corpus();
        Assumptions.assumeTrue(PillowReference.available(), "Debian python3-pil not installed");
        Path copies = Files.createDirectories(dir.resolve("tiffs"));
        int n = 0;
        for (Path file : files(root)) {
            if (isTiff(file)) {
                Files.copy(file, copies.resolve(n++ + "-" + file.getFileName()));
            }
        }
        assertThat(n).as("TIFF files in the corpus").isGreaterThanOrEqualTo(10);
        PillowReference.run(copies, false);
        List<Decoded> reference = PillowReference.read(copies);
        assertThat(reference).hasSize(n);
        for (Decoded ref : reference) {
            RgbImage image = ImageDecoder.standard().decode(copies.resolve(ref.name()));
            assertThat(image.width()).as(ref.name()).isEqualTo(ref.width());
            assertThat(image.height()).as(ref.name()).isEqualTo(ref.height());
            if (ref.rgb() != null) {
                assertThat(image.pixels()).as("%s (%s) against Pillow", ref.name(), ref.mode()).isEqualTo(ref.rgb());
            }
        }
    }

    @Test
    void theDatasetPipelineAccountsForEveryFile() throws Exception {
        Path root = corpus();
        int files = files(root).size();
        try (DataLoaders loaders = ImageFolder.from(root).resize(32, ResizeMethod.SQUISH).batchSize(8).dataloaders()) {
            DatasetSummary summary = loaders.summary();
            System.out.print(summary.format(3));
            long hiddenFolders = summary.ignored().stream().filter(s -> Files.isDirectory(s.path())).count();
            assertThat(hiddenFolders).isZero();
            assertThat(summary.trainCount() + summary.validCount() + summary.unreadable().size()
                    + summary.ignored().size()).isEqualTo(files);
            assertThat(summary.formats()).containsKey(ImageFormat.TIFF);
            assertThat(summary.unreadable()).allSatisfy(s -> assertThat(s.reason()).isNotBlank());
        }
    }
}
