package dev.tuna.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.tuna.testing.Datasets;
import dev.tuna.testing.Images;
import dev.tuna.transform.Normalization;
import dev.tuna.transform.RgbImage;
import dev.tuna.transform.ResizeMethod;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataLoadersTest {
    private static NDManager manager;

    @TempDir
    Path dir;

    @BeforeAll
    static void engine() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static List<int[]> epoch(DataLoader loader, int epoch, List<Shape> shapes) {
        List<int[]> order = new ArrayList<>();
        try (BatchIterator batches = loader.iterate(manager, epoch)) {
            while (batches.hasNext()) {
                try (Batch batch = batches.next()) {
                    shapes.add(batch.images().getShape());
                    assertThat(batch.images().getDataType()).isEqualTo(DataType.FLOAT32);
                    assertThat(batch.labels().getDataType()).isEqualTo(DataType.INT64);
                    assertThat(batch.labels().getShape()).isEqualTo(new Shape(batch.size()));
                    order.add(batch.items());
                }
            }
        }
        return order;
    }

    @Test
    void batchesHaveNchwShapesTrainDropsLastValidKeepsAll() {
        Datasets.folder(dir, Map.of("a", 13, "b", 12));
        try (DataLoaders data = ImageFolder.from(dir).split(Splitter.random(0.2, 42)).resize(32, ResizeMethod.SQUISH)
                .batchSize(8).dataloaders()) {
            assertThat(data.train().size()).isEqualTo(20);
            assertThat(data.valid().size()).isEqualTo(5);
            List<Shape> shapes = new ArrayList<>();
            List<int[]> train = epoch(data.train(), 0, shapes);
            assertThat(train).hasSize(2); // 20 items, batches of 8, last partial batch dropped
            assertThat(shapes).containsOnly(new Shape(8, 3, 32, 32));
            shapes.clear();
            List<int[]> valid = epoch(data.valid(), 0, shapes);
            assertThat(shapes).containsExactly(new Shape(5, 3, 32, 32));
            assertThat(valid.get(0)).containsExactly(0, 1, 2, 3, 4);
            assertThat(data.train().batchCount()).isEqualTo(2);
            assertThat(data.valid().batchCount()).isEqualTo(1);
        }
    }

    private static List<float[]> pixels(DataLoader loader, int epoch) {
        List<float[]> out = new ArrayList<>();
        try (BatchIterator batches = loader.iterate(manager, epoch)) {
            while (batches.hasNext()) {
                try (Batch batch = batches.next()) {
                    out.add(batch.images().toFloatArray());
                }
            }
        }
        return out;
    }

    @Test
    void fastaiAugmentationChangesOnlyTrainingBatchesAndRepeatsWithTheSeed() {
        Datasets.folder(dir, Map.of("a", 12, "b", 12));
        ImageFolder plain = ImageFolder.from(dir).resize(24, ResizeMethod.SQUISH).batchSize(4).seed(5);
        ImageFolder augmented = plain.augment(dev.tuna.transform.AugTransforms.FASTAI);
        try (DataLoaders a = plain.dataloaders(); DataLoaders b = augmented.dataloaders();
             DataLoaders c = augmented.dataloaders()) {
            assertThat(b.train().augments()).isTrue();
            assertThat(b.valid().augments()).isFalse();
            // validation: bit-identical with and without augmentation
            List<float[]> validPlain = pixels(a.valid(), 0);
            List<float[]> validAugmented = pixels(b.valid(), 0);
            for (int i = 0; i < validPlain.size(); i++) {
                assertThat(validAugmented.get(i)).containsExactly(validPlain.get(i));
            }
            // training: changed, the same for the same seed and epoch, different in another epoch
            List<float[]> train0 = pixels(b.train(), 0);
            List<float[]> again = pixels(c.train(), 0);
            List<float[]> train1 = pixels(b.train(), 1);
            List<float[]> plain0 = pixels(a.train(), 0);
            for (int i = 0; i < train0.size(); i++) {
                assertThat(again.get(i)).containsExactly(train0.get(i));
                assertThat(Arrays.equals(train0.get(i), plain0.get(i))).isFalse();
                assertThat(Arrays.equals(train0.get(i), train1.get(i))).isFalse();
            }
            // the evaluation view of an augmented training loader is the plain one
            List<float[]> evalView = pixels(b.train().forEvaluation(), 0);
            List<float[]> plainEval = pixels(a.train().forEvaluation(), 0);
            for (int i = 0; i < evalView.size(); i++) {
                assertThat(evalView.get(i)).containsExactly(plainEval.get(i));
            }
        }
    }

    @Test
    void trainingShufflesPerEpochReproduciblyValidationKeepsOrder() {
        Datasets.folder(dir, Map.of("a", 20, "b", 20));
        ImageFolder spec = ImageFolder.from(dir).resize(16, ResizeMethod.SQUISH).batchSize(4).seed(7);
        try (DataLoaders data = spec.dataloaders(); DataLoaders again = spec.dataloaders()) {
            List<Shape> ignored = new ArrayList<>();
            int[] e0 = flatten(epoch(data.train(), 0, ignored));
            int[] e1 = flatten(epoch(data.train(), 1, ignored));
            assertThat(e0).isNotEqualTo(e1);
            assertThat(flatten(epoch(again.train(), 0, ignored))).isEqualTo(e0);
            assertThat(Arrays.stream(e0).sorted().toArray()).isEqualTo(java.util.stream.IntStream.range(0, 32).toArray());
            assertThat(flatten(epoch(data.valid(), 3, ignored))).isEqualTo(flatten(epoch(data.valid(), 0, ignored)));
        }
    }

    private static int[] flatten(List<int[]> batches) {
        return batches.stream().flatMapToInt(Arrays::stream).toArray();
    }

    @Test
    void batchValuesAreNormalisedPixels() {
        Images.write(dir.resolve("red/1.png"), Images.encode(Images.solid(10, 10, 0xFF0000), "png"));
        Images.write(dir.resolve("gray/1.png"), Images.encode(Images.solid(10, 10, 0x808080), "png"));
        try (DataLoaders data = ImageFolder.from(dir).split(Splitter.random(0, 1)).resize(8, ResizeMethod.PAD)
                .normalize(Normalization.MINUS_ONE_TO_ONE).batchSize(2).dataloaders();
             BatchIterator batches = data.valid().iterate(manager, 0)) {
            assertThat(data.valid().size()).isZero();
            try (BatchIterator train = data.train().iterate(manager, 0); Batch batch = train.next()) {
                float[] values = batch.images().toFloatArray();
                long[] labels = batch.labels().toLongArray();
                int red = labels[0] == 1 ? 0 : 1; // vocabulary: gray=0, red=1
                int plane = 64;
                int base = red * 3 * plane;
                assertThat(values[base]).isCloseTo(1f, within(1e-6f));
                assertThat(values[base + plane]).isCloseTo(-1f, within(1e-6f));
                assertThat(values[(1 - red) * 3 * plane + 5]).isCloseTo(128 / 127.5f - 1, within(1e-6f));
            }
            assertThat(batches.hasNext()).isFalse();
        }
    }

    @Test
    void cropIsRandomOnTrainAndCentredOnValid() {
        Images.write(dir.resolve("a/wide.png"), Images.encode(Images.redCorner(64, 16), "png"));
        Images.write(dir.resolve("b/wide.png"), Images.encode(Images.redCorner(64, 16), "png"));
        try (DataLoaders data = ImageFolder.from(dir).split(Splitter.firstPerClass(1)).resize(16, ResizeMethod.CROP)
                .dataloaders()) {
            DataLoader valid = data.valid();
            RgbImage first = valid.image(0, null);
            assertThat(first.width()).isEqualTo(16);
            assertThat(valid.image(0, new java.util.SplittableRandom(1)).pixels()).isEqualTo(first.pixels());
            // the centre square of a 64x16 image spans x = 24..39: red up to x = 31, blue after
            assertThat(first.value(0, 0, 0)).isGreaterThan(200);
            assertThat(first.value(15, 0, 2)).isGreaterThan(200);
        }
        Datasets.folder(dir.resolve("t"), Map.of("x", 1, "y", 1));
        Images.write(dir.resolve("t/x/wide.png"), Images.encode(Images.redCorner(64, 16), "png"));
        try (DataLoaders data = ImageFolder.from(dir.resolve("t")).split(Splitter.random(0, 1))
                .resize(16, ResizeMethod.CROP).dataloaders()) {
            int wide = data.train().items().stream().map(ImageItem::relativePath).toList().indexOf("x/wide.png");
            java.util.Set<Integer> lefts = new java.util.HashSet<>();
            java.util.SplittableRandom random = new java.util.SplittableRandom(3);
            for (int i = 0; i < 20; i++) {
                RgbImage crop = data.train().image(wide, random);
                lefts.add(crop.value(0, 0, 0) > 200 ? 1 : 0);
            }
            assertThat(lefts).containsExactlyInAnyOrder(0, 1); // sometimes the red corner, sometimes not
        }
    }

    @Test
    void corruptFilesAreSkippedCountedAndNamed() throws Exception {
        Datasets.folder(dir, Map.of("a", 5, "b", 5));
        byte[] jpeg = Images.jpeg(Images.redCorner(64, 64));
        Images.write(dir.resolve("a/truncated.jpg"), Arrays.copyOf(jpeg, jpeg.length / 2));
        Images.write(dir.resolve("b/zero.jpg"), new byte[0]);
        Images.write(dir.resolve("b/bomb.png"), Images.pngHeaderOnly(20_000, 20_000));
        try (DataLoaders data = ImageFolder.from(dir).dataloaders()) {
            DatasetSummary summary = data.summary();
            assertThat(summary.trainCount() + summary.validCount()).isEqualTo(10);
            assertThat(summary.unreadable()).extracting(s -> s.path().getFileName() + ": " + s.reason())
                    .anySatisfy(s -> assertThat(s).startsWith("truncated.jpg: truncated JPEG"))
                    .anySatisfy(s -> assertThat(s).isEqualTo("zero.jpg: empty file (0 bytes)"))
                    .anySatisfy(s -> assertThat(s).startsWith("bomb.png: image too large: 20000x20000"));
            assertThat(summary.format(10)).contains("unreadable files skipped: 3").contains("truncated.jpg");
        }
    }

    /** README: decoded, resized and augmented images are bit-for-bit the same whatever the thread count. */
    @Test
    void decodingAndAugmentationGiveTheSameBitsWhateverTheThreadCount() {
        Datasets.folder(dir.resolve("threads"), Map.of("a", 9, "b", 9));
        ImageFolder spec = ImageFolder.from(dir.resolve("threads")).resize(24, ResizeMethod.CROP).batchSize(4)
                .augment(dev.tuna.transform.AugTransforms.FASTAI);
        try (DataLoaders one = spec.threads(1).dataloaders(); DataLoaders four = spec.threads(4).dataloaders()) {
            assertThat(batchesExactly(four.train(), 1)).containsExactlyElementsOf(batchesExactly(one.train(), 1));
            assertThat(batchesExactly(four.valid(), 0)).containsExactlyElementsOf(batchesExactly(one.valid(), 0));
        }
    }

    /** Every batch's item indices, labels and normalised pixels, exactly, as a list of strings. */
    private static List<String> batchesExactly(DataLoader loader, int epoch) {
        List<String> out = new ArrayList<>();
        try (BatchIterator batches = loader.iterate(manager, epoch)) {
            while (batches.hasNext()) {
                try (Batch batch = batches.next()) {
                    out.add(Arrays.toString(batch.items()) + Arrays.toString(batch.labels().toLongArray())
                            + Arrays.toString(batch.images().toFloatArray()));
                }
            }
        }
        assertThat(out).isNotEmpty();
        return out;
    }

    @Test
    void diskCacheGivesTheSameBatchesAsMemory() {
        Datasets.folder(dir.resolve("d"), Map.of("a", 6, "b", 6));
        ImageFolder spec = ImageFolder.from(dir.resolve("d")).resize(16, ResizeMethod.SQUISH).batchSize(4);
        try (DataLoaders memory = spec.cache(CacheMode.MEMORY, dir, -1).dataloaders();
             DataLoaders disk = spec.cache(CacheMode.DISK, dir.resolve("cache"), -1).dataloaders()) {
            assertThat(disk.summary().cacheOnDisk()).isTrue();
            assertThat(memory.summary().cacheOnDisk()).isFalse();
            try (BatchIterator a = memory.train().iterate(manager, 0); BatchIterator b = disk.train().iterate(manager, 0);
                 Batch x = a.next(); Batch y = b.next()) {
                assertThat(x.images().toFloatArray()).isEqualTo(y.images().toFloatArray());
            }
        }
    }

    @Test
    void labelConflictsAreReportedWithBothPaths() {
        byte[] same = Images.jpeg(Images.solid(8, 8, 0x336699));
        Datasets.folder(dir, Map.of("rose", 2, "tulip", 2));
        Images.write(dir.resolve("rose/dup.jpg"), same);
        Images.write(dir.resolve("tulip/dup.jpg"), same);
        try (DataLoaders data = ImageFolder.from(dir).dataloaders()) {
            assertThat(data.summary().warnings())
                    .contains("the same image is in two classes: rose/dup.jpg and tulip/dup.jpg");
        }
    }

    @Test
    void sampleGridIsAPictureOfTheBatch() throws Exception {
        Datasets.folder(dir.resolve("g"), Map.of("a", 4, "b", 4));
        try (DataLoaders data = ImageFolder.from(dir.resolve("g")).resize(32, ResizeMethod.SQUISH).dataloaders()) {
            Path png = SampleGrid.write(data.train(), 2, 3, 1, dir.resolve("out/grid.png"));
            java.awt.image.BufferedImage image = ImageIO.read(png.toFile());
            assertThat(image.getWidth()).isEqualTo(3 * (32 + 6) + 6);
            assertThat(image.getHeight()).isEqualTo(2 * (32 + 22 + 6) + 6);
        }
    }
}
