package dev.tuna.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import dev.tuna.TunaException;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.model.Network;
import dev.tuna.testing.Datasets;
import dev.tuna.testing.Images;
import dev.tuna.testing.Networks;
import dev.tuna.transform.Normalization;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.ResizeMethod;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BatchPredictor} on a folder of real flowers-test photos (generated JPEGs when ../shared is
 * absent) mixed with files that are not usable images: every file is a row, the bad ones with their
 * reason, and every prediction equals the single-image {@link Classifier#predict(Path)}.
 */
class BatchPredictorTest {
    private static final List<String> CLASSES = List.of("daisy", "dandelion", "rose", "sunflower", "tulip");
    private static final int SIZE = 32;
    private static final int PER_CLASS = 6;

    @TempDir
    static Path dir;

    private static NDManager manager;
    private static Network network;
    private static Classifier classifier;
    private static Path photos;

    @BeforeAll
    static void setUp() throws IOException {
        manager = NDManager.newBaseManager();
        network = Network.transfer(Architecture.RESNET18, HeadSpec.DEFAULT, CLASSES.size(), false, manager, 3);
        Networks.calibrate(network, SIZE);
        Path model = dir.resolve("model");
        ModelArtifact.write(model, network, new ArtifactMetadata(Architecture.RESNET18, CLASSES, SIZE,
                ResizeMethod.SQUISH, PadMode.REFLECTION, Normalization.IMAGENET, false, HeadSpec.DEFAULT, 3,
                new LibraryVersions("test", "0.36.0", "2.7.1"), Instant.EPOCH, null), false);
        // batches of 4: the bad files fall inside batches, not only at their edges
        classifier = Classifier.load(model, ClassifierOptions.DEFAULTS.withBatchSize(4));

        photos = dir.resolve("photos");
        Path real = Datasets.sharedFlowersTest();
        byte[] aJpeg = null;
        for (int c = 0; c < CLASSES.size(); c++) {
            String name = CLASSES.get(c);
            if (real != null) {
                try (Stream<Path> files = Files.list(real.resolve(name))) {
                    for (Path file : files.sorted().limit(PER_CLASS).toList()) {
                        Images.write(photos.resolve(name).resolve(file.getFileName()), Files.readAllBytes(file));
                    }
                }
            } else {
                for (int i = 0; i < PER_CLASS; i++) {
                    Images.writeJpeg(photos.resolve(name).resolve("img" + i + ".jpg"), 40, 30, c * PER_CLASS + i);
                }
            }
        }
        try (Stream<Path> roses = Files.list(photos.resolve("rose"))) {
            aJpeg = Files.readAllBytes(roses.sorted().findFirst().orElseThrow());
        }
        Images.write(photos.resolve("junk.txt"), "not a picture\n".getBytes(StandardCharsets.UTF_8));
        Images.write(photos.resolve("empty.jpg"), new byte[0]);
        Images.write(photos.resolve("rose/cut.jpg"), Arrays.copyOf(aJpeg, aJpeg.length / 2));
        Images.write(photos.resolve("deep/er/odd, \"name\".jpg"), aJpeg); // quoting in the path column
        Images.write(photos.resolve(".hidden.jpg"), aJpeg);
        Images.write(photos.resolve(".cache/x.jpg"), aJpeg);
    }

    @AfterAll
    static void tearDown() {
        classifier.close();
        network.close();
        manager.close();
    }

    private static List<CSVRecord> read(Path csv) throws IOException {
        try (Reader reader = Files.newBufferedReader(csv, StandardCharsets.UTF_8);
             CSVParser parser = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
                     .parse(reader)) {
            assertThat(parser.getHeaderNames()).containsExactlyElementsOf(BatchPredictor.CSV_HEADER);
            return parser.getRecords();
        }
    }

    @Test
    void everyFileIsARowAndPredictionsEqualSingleImagePredict() throws IOException {
        Path csv = dir.resolve("out.csv");
        BatchPredictor.Summary summary = BatchPredictor.of(classifier).topK(3).writeCsv(photos, csv, false);

        List<CSVRecord> rows = read(csv);
        List<String> paths = rows.stream().map(r -> r.get("path")).toList();
        assertThat(paths).hasSize(CLASSES.size() * PER_CLASS + 4).isSorted()
                .contains("junk.txt", "empty.jpg", "rose/cut.jpg", "deep/er/odd, \"name\".jpg")
                .noneMatch(p -> p.contains(".hidden") || p.contains(".cache"));
        assertThat(summary.files()).isEqualTo(rows.size());
        assertThat(summary.errors()).isEqualTo(3);

        int predicted = 0;
        List<String> probabilities = new ArrayList<>();
        for (CSVRecord row : rows) {
            Path file = photos.resolve(row.get("path"));
            switch (row.get("path")) {
                case "junk.txt" -> assertThat(row.get("error")).startsWith("not an image");
                case "empty.jpg" -> assertThat(row.get("error")).isEqualTo("empty file (0 bytes)");
                case "rose/cut.jpg" -> assertThat(row.get("error")).startsWith("truncated JPEG");
                default -> {
                    Prediction single = classifier.predict(file);
                    assertThat(row.get("error")).as(row.get("path")).isEmpty();
                    assertThat(row.get("label")).as(row.get("path")).isEqualTo(single.label());
                    assertThat(Float.parseFloat(row.get("probability"))).isCloseTo(single.probability(), within(2e-5f));
                    String[] top = row.get("top_k").split(";");
                    assertThat(top).hasSize(3);
                    List<Prediction.Candidate> expected = single.top(3);
                    for (int i = 0; i < 3; i++) {
                        String[] pair = top[i].split(":");
                        assertThat(pair[0]).isEqualTo(expected.get(i).label());
                        assertThat(Float.parseFloat(pair[1])).isCloseTo(expected.get(i).probability(), within(2e-5f));
                    }
                    probabilities.add(row.get("probability"));
                    predicted++;
                }
            }
            if (!row.get("error").isEmpty()) {
                assertThat(List.of(row.get("label"), row.get("probability"), row.get("top_k"))).containsOnly("");
            }
        }
        assertThat(predicted).isEqualTo(CLASSES.size() * PER_CLASS + 1);
        assertThat(probabilities.stream().distinct().count()).as("predictions must depend on the image")
                .isGreaterThan(CLASSES.size());
    }

    @Test
    void predictEachMatchesPredictBatchAndNamesTheBadFiles() {
        List<Path> files = BatchPredictor.files(photos);
        List<FilePrediction> each = classifier.predictEach(files, false);
        assertThat(each).extracting(FilePrediction::file).containsExactlyElementsOf(files);
        List<Path> good = each.stream().filter(FilePrediction::ok).map(FilePrediction::file).toList();
        List<Prediction> batch = classifier.predictBatch(good);
        List<Prediction> fromEach = each.stream().filter(FilePrediction::ok).map(FilePrediction::prediction).toList();
        assertThat(fromEach).hasSameSizeAs(batch);
        for (int i = 0; i < batch.size(); i++) { // other batch compositions: equal up to rounding
            assertThat(fromEach.get(i).label()).isEqualTo(batch.get(i).label());
            assertThat(fromEach.get(i).probability()).isCloseTo(batch.get(i).probability(), within(1e-5f));
        }
        assertThat(each).filteredOn(r -> !r.ok()).extracting(r -> photos.relativize(r.file()).toString())
                .containsExactly("empty.jpg", "junk.txt", "rose/cut.jpg");
    }

    @Test
    void anExistingFileIsKeptUnlessOverwriteIsAllowed() throws IOException {
        Path csv = dir.resolve("kept.csv");
        Files.writeString(csv, "mine\n");
        BatchPredictor predictor = BatchPredictor.of(classifier);
        assertThatThrownBy(() -> predictor.writeCsv(photos, csv, false)).isInstanceOfSatisfying(TunaException.class,
                e -> {
                    assertThat(e.kind()).isEqualTo(TunaException.Kind.USAGE);
                    assertThat(e).hasMessageContaining(csv + " already exists");
                });
        assertThat(Files.readString(csv)).isEqualTo("mine\n");

        predictor.writeCsv(photos, csv, true);
        assertThat(read(csv)).hasSize(CLASSES.size() * PER_CLASS + 4);
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).as("no temporary file is left")
                    .noneMatch(n -> n.startsWith("."));
        }
    }

    @Test
    void aMissingFolderIsBadDataAndAnEmptyOneGivesOnlyTheHeader() throws IOException {
        assertThatThrownBy(() -> BatchPredictor.files(dir.resolve("nowhere")))
                .isInstanceOfSatisfying(TunaException.class, e -> assertThat(e.kind())
                        .isEqualTo(TunaException.Kind.BAD_DATA))
                .hasMessageContaining("Folder not found");
        Path empty = Files.createDirectories(dir.resolve("nothing"));
        Path csv = dir.resolve("empty.csv");
        BatchPredictor.Summary summary = BatchPredictor.of(classifier).writeCsv(empty, csv, false);
        assertThat(summary.files()).isZero();
        assertThat(Files.readString(csv)).isEqualTo(String.join(",", BatchPredictor.CSV_HEADER) + "\n");
    }
}
