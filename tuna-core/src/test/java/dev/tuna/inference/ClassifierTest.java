package dev.tuna.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuna.TunaException;
import dev.tuna.data.ImageDecoder;
import dev.tuna.data.ImageFormat;
import dev.tuna.internal.nn.Numerics;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.model.Network;
import dev.tuna.testing.Images;
import dev.tuna.testing.Networks;
import dev.tuna.transform.Normalization;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.Resize;
import dev.tuna.transform.ResizeMethod;
import dev.tuna.transform.RgbImage;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ClassifierTest {
    private static final List<String> CLASSES = List.of("apple", "banana", "cherry");
    private static final int SIZE = 32;

    private static NDManager manager;
    private static Network network;
    private static Classifier classifier;
    private static List<Path> files;

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        network = Network.transfer(Architecture.RESNET18, HeadSpec.DEFAULT, 3, false, manager, 11);
        calibrate(network);
        Path model = shared.resolve("model");
        ModelArtifact.write(model, network, metadata(ResizeMethod.SQUISH, Normalization.IMAGENET), false);
        classifier = Classifier.load(model);
        List<BufferedImage> images = List.of(Images.redCorner(60, 30), noise(30, 70, 2),
                Images.grayRamp(50, 20), noise(45, 33, 1), Images.solid(40, 30, 0x33AA55));
        files = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            files.add(Images.write(shared.resolve("img" + i + ".png"), Images.encode(images.get(i), "png")));
        }
    }

    @AfterAll
    static void tearDown() {
        classifier.close();
        network.close();
        manager.close();
    }

    private static ArtifactMetadata metadata(ResizeMethod method, Normalization normalization) {
        return metadata(SIZE, method, normalization);
    }

    private static ArtifactMetadata metadata(int size, ResizeMethod method, Normalization normalization) {
        return new ArtifactMetadata(Architecture.RESNET18, CLASSES, size, method, PadMode.REFLECTION,
                normalization, false, HeadSpec.DEFAULT, 11, new LibraryVersions("test", "0.36.0", "2.7.1"),
                Instant.EPOCH, null);
    }

    private static void calibrate(Network net) {
        Networks.calibrate(net, SIZE);
    }

    /** Seeded random colours. */
    private static BufferedImage noise(int width, int height, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        return image;
    }

    /** The validation input path written out independently, then the original network and a softmax. */
    private static float[] reference(Path file, ResizeMethod method, Normalization normalization) throws Exception {
        RgbImage decoded = ImageDecoder.standard().decode(file);
        RgbImage square = Resize.presize(decoded, SIZE, method, PadMode.REFLECTION);
        if (square.width() != SIZE || square.height() != SIZE) {
            square = Resize.crop(square, (square.width() - SIZE) / 2, (square.height() - SIZE) / 2, SIZE);
        }
        float[] input = new float[3 * SIZE * SIZE];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < SIZE; y++) {
                for (int x = 0; x < SIZE; x++) {
                    input[(c * SIZE + y) * SIZE + x] = normalization.apply(square.value(x, y, c), c);
                }
            }
        }
        try (NDManager scope = network.newManager()) {
            NDArray logits = network.forward(scope.create(input, new Shape(1, 3, SIZE, SIZE)), false);
            return logits.softmax(1).toFloatArray();
        }
    }

    private static float[] values(Prediction p) {
        float[] out = new float[p.probabilities().size()];
        int i = 0;
        for (float v : p.probabilities().values()) {
            out[i++] = v;
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(ResizeMethod.class)
    void matchesTheOriginalNetworkOnTheValidationInput(ResizeMethod method) throws Exception {
        Normalization normalization = method == ResizeMethod.PAD ? Normalization.MINUS_ONE_TO_ONE
                : Normalization.IMAGENET;
        Path model = dir.resolve("model");
        ModelArtifact.write(model, network, metadata(method, normalization), false);
        try (Classifier loaded = Classifier.load(model)) {
            java.util.Set<String> distinct = new java.util.HashSet<>();
            for (Path file : files) {
                float[] expected = reference(file, method, normalization);
                Prediction p = loaded.predict(file);
                assertThat(values(p)).as(file.toString()).containsExactly(expected, within(1e-5f));
                int best = 0;
                for (int i = 1; i < expected.length; i++) {
                    best = expected[i] > expected[best] ? i : best;
                }
                assertThat(p.index()).isEqualTo(best);
                assertThat(p.label()).isEqualTo(CLASSES.get(best));
                assertThat(p.probability()).isEqualTo(values(p)[best]);
                distinct.add(p.probabilities().toString());
            }
            assertThat(distinct).as("outputs must depend on the image").hasSize(files.size());
        }
    }

    @Test
    void pathBytesAndBufferedImageGiveTheSameResult() {
        BufferedImage image = noise(45, 33, 3);
        byte[] png = Images.encode(image, "png");
        Path file = Images.write(dir.resolve("x.png"), png);

        Prediction fromPath = classifier.predict(file);

        assertThat(classifier.predict(png)).isEqualTo(fromPath);
        assertThat(classifier.predict(image)).isEqualTo(fromPath);
        assertThat(fromPath.probabilities().keySet()).containsExactlyElementsOf(CLASSES);
        assertThat(fromPath.probabilities().values().stream().mapToDouble(Float::doubleValue).sum())
                .isCloseTo(1.0, within(1e-6));
    }

    @Test
    void grayImagesAreReadAsTheDecoderReadsThem() {
        BufferedImage gray = Images.grayRamp(40, 30);
        assertThat(classifier.predict(gray)).isEqualTo(classifier.predict(Images.encode(gray, "png")));
    }

    @Test
    @Tag("numerics")
    void batchesGiveTheSamePredictionsInOrder() {
        try (Classifier small = Classifier.load(shared.resolve("model"),
                ClassifierOptions.DEFAULTS.withBatchSize(2))) {
            List<Prediction> batch = small.predictBatch(files);
            assertThat(batch).hasSize(files.size());
            for (int i = 0; i < files.size(); i++) {
                assertThat(values(batch.get(i))).containsExactly(values(classifier.predict(files.get(i))),
                        within(1e-5f));
            }
        }
        assertThat(classifier.predictBatch(List.of())).isEmpty();
    }

    /** prepare + predictPrepared (what a server batches) gives each image what predict gives its bytes. */
    @Test
    void preparedImagesPredictInBatchesAsEachAlone() throws Exception {
        try (Classifier small = Classifier.load(shared.resolve("model"),
                ClassifierOptions.DEFAULTS.withBatchSize(3))) {
            List<PreparedImage> prepared = new ArrayList<>();
            for (Path file : files) {
                prepared.add(small.prepare(java.nio.file.Files.readAllBytes(file)));
            }
            assertThat(prepared.get(0).size()).isEqualTo(SIZE);
            List<Prediction> batch = small.predictPrepared(prepared);
            assertThat(batch).hasSize(files.size());
            for (int i = 0; i < files.size(); i++) {
                assertThat(batch.get(i).label()).isEqualTo(classifier.predict(files.get(i)).label());
                assertThat(values(batch.get(i))).containsExactly(values(classifier.predict(files.get(i))),
                        within(1e-5f));
            }
            BufferedImage image = Images.grayRamp(50, 20);
            assertThat(values(small.predictPrepared(List.of(small.prepare(image))).get(0)))
                    .containsExactly(values(classifier.predict(image)), within(1e-5f));
            assertThatThrownBy(() -> small.prepare(new byte[] {1, 2, 3}))
                    .isInstanceOf(InvalidImageException.class).hasMessageContaining("not an image");
        }
        Path bigger = dir.resolve("bigger");
        ModelArtifact.write(bigger, network, metadata(SIZE * 2, ResizeMethod.SQUISH, Normalization.IMAGENET), false);
        try (Classifier other = Classifier.load(bigger)) {
            PreparedImage wrongSize = other.prepare(Images.grayRamp(50, 20));
            assertThatThrownBy(() -> classifier.predictPrepared(List.of(wrongSize)))
                    .isInstanceOf(TunaException.class).hasMessageContaining("prepared for a 64 px network");
        }
    }

    /**
     * On a machine whose kernels are wrong (simulated: every 3x3 convolution, and the 1x1 downsampling to
     * 256 channels, a shape no start-up probe has), batches still equal single images, and both equal the
     * predictions made with right kernels.
     */
    @Test
    @Tag("numerics")
    void wrongKernelsAreCaughtAndPredictionsStayRight() {
        List<float[]> right = new ArrayList<>();
        for (Path file : files) {
            right.add(values(classifier.predict(file)));
        }
        Numerics before = Numerics.current();
        try {
            Numerics numerics = Numerics.reset("spatial_conv,pointwise_conv:256");
            assertThat(numerics.route(Numerics.Kind.SPATIAL_CONV)).isEqualTo(Numerics.Route.FLOAT64);
            try (Classifier small = Classifier.load(shared.resolve("model"),
                    ClassifierOptions.DEFAULTS.withBatchSize(2))) {
                List<Prediction> batch = small.predictBatch(files);
                for (int i = 0; i < files.size(); i++) {
                    assertThat(values(batch.get(i))).containsExactly(right.get(i), within(1e-5f));
                    assertThat(values(small.predict(files.get(i)))).containsExactly(right.get(i), within(1e-5f));
                }
            }
            assertThat(numerics.notes()).anySatisfy(note -> assertThat(note).contains("128->256 channels"));
        } finally {
            Numerics.install(before);
        }
    }

    @Test
    void topRanksClassesByProbability() {
        Prediction p = classifier.predict(files.get(0));
        List<Prediction.Candidate> top = p.top(5);
        assertThat(top).hasSize(3);
        assertThat(top.get(0)).isEqualTo(new Prediction.Candidate(p.label(), p.probability(), p.index()));
        assertThat(top).isSortedAccordingTo((a, b) -> Float.compare(b.probability(), a.probability()));
        assertThat(p.top(1)).containsExactly(top.get(0));
        assertThatThrownBy(() -> p.top(0)).hasMessageContaining("top(k) needs k of at least 1");
    }

    @Test
    void describesItsModel() {
        assertThat(classifier.classes()).containsExactlyElementsOf(CLASSES);
        assertThat(classifier.metadata().inputSize()).isEqualTo(SIZE);
        assertThat(classifier.metadata().architecture()).isEqualTo(Architecture.RESNET18);
    }

    @Test
    void nonImageBytesAreRefused() {
        assertThatThrownBy(() -> classifier.predict("definitely not a picture".getBytes()))
                .isInstanceOfSatisfying(InvalidImageException.class, e -> {
                    assertThat(e.kind()).isEqualTo(TunaException.Kind.BAD_DATA);
                    assertThat(e.source()).isEqualTo("the image bytes");
                    assertThat(e.reason()).startsWith("not an image");
                })
                .hasMessage("Cannot classify the image bytes: not an image: content is not " + ImageFormat.NAMES
                        + ". Expected a readable " + ImageFormat.NAMES + " image; check the file, or re-save"
                        + " it in one of these formats.");
        byte[] jpeg = Images.jpeg(noise(20, 20, 1));
        byte[] cut = java.util.Arrays.copyOf(jpeg, jpeg.length / 3);
        assertThatThrownBy(() -> classifier.predict(cut))
                .isInstanceOf(InvalidImageException.class)
                .hasMessageContaining("truncated JPEG");
    }

    @Test
    void anImageAboveThePixelBudgetIsRefusedFromItsHeader() {
        Path bomb = Images.write(dir.resolve("bomb.png"), Images.pngHeaderOnly(20000, 20000));
        assertThatThrownBy(() -> classifier.predict(bomb))
                .isInstanceOfSatisfying(InvalidImageException.class,
                        e -> assertThat(e.kind()).isEqualTo(TunaException.Kind.BAD_DATA))
                .hasMessageContaining("Cannot classify " + bomb + ": image too large: 20000x20000 = 400,000,000"
                        + " pixels exceeds the limit of 100,000,000")
                .hasMessageContaining("raise the limit (ClassifierOptions.withMaxPixels)");
        try (Classifier strict = Classifier.load(shared.resolve("model"),
                ClassifierOptions.DEFAULTS.withMaxPixels(1000))) {
            assertThatThrownBy(() -> strict.predict(files.get(0)))
                    .isInstanceOf(InvalidImageException.class)
                    .hasMessageContaining("exceeds the limit of 1,000");
        }
    }

    @Test
    void bytesDeclaringMoreThanThePixelBudgetAreRefusedFromTheHeader() {
        // neither holds pixel data: refusing them as "too large" shows the size was checked before decoding
        byte[] png = Images.pngHeaderOnly(20_000, 20_000);
        byte[] jpeg = Images.jpegHeaderDeclaring(20_000, 20_000);
        for (byte[] bomb : List.of(png, jpeg)) {
            assertThatThrownBy(() -> classifier.predict(bomb))
                    .isInstanceOfSatisfying(InvalidImageException.class, e -> {
                        assertThat(e.kind()).isEqualTo(TunaException.Kind.BAD_DATA);
                        assertThat(e.source()).isEqualTo("the image bytes");
                        assertThat(e.reason()).isEqualTo("image too large: 20000x20000 = 400,000,000 pixels exceeds"
                                + " the limit of 100,000,000 (possible decompression bomb)");
                    })
                    .hasMessageEndingWith("Expected at most 100,000,000 pixels; shrink the image, or raise the"
                            + " limit (ClassifierOptions.withMaxPixels) if you trust it.");
        }
        try (Classifier strict = Classifier.load(shared.resolve("model"),
                ClassifierOptions.DEFAULTS.withMaxPixels(1000))) {
            assertThat(strict.predict(Images.encode(noise(40, 25, 4), "png")).probabilities()).hasSize(3);
            assertThatThrownBy(() -> strict.predict(Images.encode(noise(40, 26, 4), "png")))
                    .isInstanceOf(InvalidImageException.class)
                    .hasMessageContaining("image too large: 40x26 = 1,040 pixels exceeds the limit of 1,000");
        }
    }

    @Test
    void aBufferedImageLargerThanThePixelBudgetIsRefusedBeforeItsPixelsAreCopied() {
        try (Classifier strict = Classifier.load(shared.resolve("model"),
                ClassifierOptions.DEFAULTS.withMaxPixels(1000))) {
            assertThat(strict.predict(noise(40, 25, 5))).isEqualTo(classifier.predict(noise(40, 25, 5)));
            BufferedImage big = noise(40, 26, 5);
            assertThatThrownBy(() -> strict.predict(big))
                    .isInstanceOfSatisfying(InvalidImageException.class, e -> {
                        assertThat(e.kind()).isEqualTo(TunaException.Kind.BAD_DATA);
                        assertThat(e.source()).isEqualTo("the image");
                    })
                    .hasMessage("Cannot classify the image: image too large: 40x26 = 1,040 pixels exceeds the limit"
                            + " of 1,000 (possible decompression bomb). Expected at most 1,000 pixels; shrink the"
                            + " image, or raise the limit (ClassifierOptions.withMaxPixels) if you trust it.");
        }
    }

    @Test
    void nonImageFilesAndBombsInABatchAreRefusedWithTheTypedException() {
        Path text = Images.write(dir.resolve("notes.png"), "hello".getBytes());
        Path empty = Images.write(dir.resolve("empty.jpg"), new byte[0]);
        Path bomb = Images.write(dir.resolve("bomb.jpg"), Images.jpegHeaderDeclaring(20_000, 20_000));
        assertThatThrownBy(() -> classifier.predict(text)).isInstanceOf(InvalidImageException.class)
                .hasMessageStartingWith("Cannot classify " + text + ": not an image");
        assertThatThrownBy(() -> classifier.predict(empty)).isInstanceOf(InvalidImageException.class)
                .hasMessageStartingWith("Cannot classify " + empty + ": empty file (0 bytes).");
        assertThatThrownBy(() -> classifier.predictBatch(List.of(files.get(0), bomb)))
                .isInstanceOfSatisfying(InvalidImageException.class, e -> {
                    assertThat(e.source()).isEqualTo(bomb.toString());
                    assertThat(e.reason()).startsWith("image too large: 20000x20000");
                });
    }

    @Test
    void aMissingFileOrABadFileInABatchIsNamed() {
        Path missing = dir.resolve("missing.jpg");
        assertThatThrownBy(() -> classifier.predict(missing))
                .isInstanceOf(InvalidImageException.class)
                .hasMessageStartingWith("Cannot classify " + missing + ": file not found.");
        Path text = Images.write(dir.resolve("notes.jpg"), "hello".getBytes());
        List<Path> batch = List.of(files.get(0), text, files.get(1));
        assertThatThrownBy(() -> classifier.predictBatch(batch))
                .isInstanceOfSatisfying(InvalidImageException.class, e -> assertThat(e.source()).isEqualTo(
                        text.toString()));
    }

    /**
     * 8 threads × 500 predictions on one shared classifier, mixing files, bytes and in-memory images
     * and, every 25th call, input that must be refused: every result equals the single-threaded one.
     * The model is this class's network saved for 16 px input, to keep the 4,000 forward passes short.
     */
    @Test
    @org.junit.jupiter.api.Timeout(value = 120, unit = java.util.concurrent.TimeUnit.SECONDS)
    void eightThreadsTimesFiveHundredPredictionsMatchSingleThreaded() throws Exception {
        int distinct = 24;
        int threads = 8;
        int calls = 500;
        Path model = dir.resolve("model16");
        ModelArtifact.write(model, network, metadata(16, ResizeMethod.SQUISH, Normalization.IMAGENET), false);
        try (Classifier shared = Classifier.load(model)) {
            List<BufferedImage> images = new ArrayList<>();
            List<byte[]> encoded = new ArrayList<>();
            List<Path> paths = new ArrayList<>();
            List<Prediction> expected = new ArrayList<>();
            for (int i = 0; i < distinct; i++) {
                images.add(noise(16 + i, 40 - i, 100 + i));
                encoded.add(Images.encode(images.get(i), "png"));
                paths.add(Images.write(dir.resolve("t" + i + ".png"), encoded.get(i)));
                expected.add(shared.predict(images.get(i)));
            }
            assertThat(new java.util.HashSet<>(expected)).as("outputs must depend on the image").hasSize(distinct);
            byte[] notAnImage = "no pixels here".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
            try {
                List<Future<Integer>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    futures.add(pool.submit(() -> {
                        start.await();
                        int refused = 0;
                        for (int call = 0; call < calls; call++) {
                            int i = (call * 7 + thread * 5) % distinct;
                            if (call % 25 == thread) {
                                try {
                                    shared.predict(notAnImage);
                                } catch (InvalidImageException e) {
                                    refused++;
                                }
                                continue;
                            }
                            Prediction got = switch ((call + thread) % 3) {
                                case 0 -> shared.predict(paths.get(i));
                                case 1 -> shared.predict(encoded.get(i));
                                default -> shared.predict(images.get(i));
                            };
                            if (!got.equals(expected.get(i))) {
                                throw new AssertionError("thread " + thread + ", call " + call + ", image " + i
                                        + ": " + got + " instead of " + expected.get(i));
                            }
                        }
                        return refused;
                    }));
                }
                start.countDown();
                for (Future<Integer> future : futures) {
                    assertThat(future.get()).as("refused non-images").isEqualTo(calls / 25);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aClosedClassifierSaysSo() {
        Classifier loaded = Classifier.load(shared.resolve("model"));
        loaded.close();
        loaded.close(); // idempotent
        assertThatThrownBy(() -> loaded.predict(files.get(0)))
                .isInstanceOf(TunaException.class)
                .hasMessage("This classifier is closed; load the model again.");
    }

    @Test
    void loadingABrokenModelFolderFailsClearly() {
        assertThatThrownBy(() -> Classifier.load(dir.resolve("nope")))
                .isInstanceOfSatisfying(TunaException.class,
                        e -> assertThat(e.kind()).isEqualTo(TunaException.Kind.BAD_MODEL_FILE))
                .hasMessageContaining("a Tuna model is a folder with model.json and weights.safetensors");
    }
}
