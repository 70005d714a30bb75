package dev.tuna.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.tuna.TunaException;
import dev.tuna.testing.Datasets;
import dev.tuna.testing.Images;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.Resize;
import dev.tuna.transform.ResizeMethod;
import dev.tuna.transform.RgbImage;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalogue of bad and unusual inputs, one test per row: what each input is, and its defined
 * outcome. Every outcome is one of
 *
 * <ul>
 *   <li><b>decoded</b>: the pixels, size and orientation are checked, and the file counts as a
 *       usable image in a dataset;
 *   <li><b>skipped</b>: the file is left out of the dataset, listed with a reason and counted
 *       ({@link DatasetSummary#unreadable()} for files that look like images, {@link
 *       DatasetSummary#ignored()} for the rest);
 *   <li><b>warned</b>: a line in {@link DatasetSummary#warnings()};
 *   <li><b>failed</b>: a {@link TunaException} of kind {@link TunaException.Kind#BAD_DATA} whose
 *       message says what was found, what was expected and how to fix it.
 * </ul>
 *
 * <p>Every file is generated here under a temporary folder; nothing binary is checked in. Each
 * dataset row puts the input into a small valid dataset ({@code cat/} and {@code dog/}, 6 images
 * each) so that the rest of the pipeline runs.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadInputCatalogueTest {
    private static final int GOOD_IMAGES = 12;
    private static final String NOT_AN_IMAGE = "not an image: content is not " + ImageFormat.NAMES;

    private final ImageDecoder decoder = ImageDecoder.standard();

    @TempDir
    Path dir;

    // ---- helpers -------------------------------------------------------------------------------

    /** A dataset with 6 good images in each of cat/ and dog/. */
    private Path dataset() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        counts.put("cat", 6);
        counts.put("dog", 6);
        return Datasets.folder(dir.resolve("data"), counts);
    }

    private Path put(String relative, byte[] bytes) {
        return Images.write(dir.resolve("data").resolve(relative), bytes);
    }

    private DatasetSummary summarize() {
        try (DataLoaders data = ImageFolder.from(dir.resolve("data")).resize(16, ResizeMethod.SQUISH)
                .batchSize(4).threads(2).dataloaders()) {
            return data.summary();
        }
    }

    private static List<String> listed(List<SkippedFile> files, Path root) {
        Path base = root.toAbsolutePath().normalize();
        return files.stream().map(f -> base.relativize(f.path()).toString().replace('\\', '/') + ": " + f.reason())
                .toList();
    }

    private void assertSkippedAsUnreadable(String relative, String reason) {
        DatasetSummary summary = summarize();
        assertThat(summary.trainCount() + summary.validCount()).isEqualTo(GOOD_IMAGES);
        assertThat(listed(summary.unreadable(), dir.resolve("data"))).containsExactly(relative + ": " + reason);
    }

    /** Decodes the bytes, and checks that the same file is a usable image of a dataset. */
    private RgbImage decodedAndUsable(String fileName, byte[] bytes) throws UnreadableImageException {
        RgbImage image = decoder.decode(bytes);
        dataset();
        put("cat/" + fileName, bytes);
        DatasetSummary summary = summarize();
        assertThat(summary.unreadable()).isEmpty();
        assertThat(summary.trainCount() + summary.validCount()).isEqualTo(GOOD_IMAGES + 1);
        return image;
    }

    private static void assertColor(RgbImage image, int x, int y, int r, int g, int b, int tolerance) {
        assertThat(image.value(x, y, 0)).as("red at %d,%d", x, y).isCloseTo(r, within(tolerance));
        assertThat(image.value(x, y, 1)).as("green at %d,%d", x, y).isCloseTo(g, within(tolerance));
        assertThat(image.value(x, y, 2)).as("blue at %d,%d", x, y).isCloseTo(b, within(tolerance));
    }

    // ---- files that are not (whole) images: skipped with a reason and counted ----------------------

    @Test
    void zeroByteJpgIsSkippedAsEmpty() {
        dataset();
        put("cat/zero.jpg", new byte[0]);
        assertSkippedAsUnreadable("cat/zero.jpg", "empty file (0 bytes)");
    }

    @Test
    void truncatedJpgIsSkippedAsTruncated() {
        dataset();
        byte[] jpeg = Images.jpeg(Images.redCorner(64, 64));
        put("cat/cut.jpg", Arrays.copyOf(jpeg, jpeg.length / 2));
        DatasetSummary summary = summarize();
        assertThat(summary.trainCount() + summary.validCount()).isEqualTo(GOOD_IMAGES);
        assertThat(listed(summary.unreadable(), dir.resolve("data"))).hasSize(1).first(
                org.assertj.core.api.InstanceOfAssertFactories.STRING).startsWith("cat/cut.jpg: truncated JPEG");
    }

    @Test
    void randomBytesJpgIsSkippedAsNotAnImage() {
        dataset();
        byte[] random = new byte[2048];
        new Random(7).nextBytes(random);
        random[0] = 0x42; // not 0xFF: make sure the seeded bytes cannot start like a JPEG
        random[1] = 0x00;
        put("dog/random.jpg", random);
        assertSkippedAsUnreadable("dog/random.jpg", NOT_AN_IMAGE);
    }

    @Test
    void textFileNamedPngIsSkippedAsNotAnImage() {
        dataset();
        put("dog/notes.png", "These are my notes, not a picture.\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertSkippedAsUnreadable("dog/notes.png", NOT_AN_IMAGE);
    }

    // ---- unusual but valid images: decoded, pixels checked ---------------------------------------------

    @Test
    void animatedGifDecodesItsFirstFrame() throws Exception {
        byte[] gif = Images.animatedGif(Images.solid(6, 4, 0xFF0000), Images.solid(6, 4, 0x0000FF),
                Images.solid(6, 4, 0x00FF00));
        RgbImage image = decodedAndUsable("animated.gif", gif);
        assertThat(image.width()).isEqualTo(6);
        assertThat(image.height()).isEqualTo(4);
        assertColor(image, 0, 0, 255, 0, 0, 0);
        assertColor(image, 5, 3, 255, 0, 0, 0);
    }

    @Test
    void palettePngWithTransparencyIsCompositedOverWhite() throws Exception {
        RgbImage image = decodedAndUsable("palette.png", Images.encode(Images.paletteWithTransparency(8, 4), "png"));
        assertThat(image.width()).isEqualTo(8);
        assertColor(image, 1, 1, 255, 255, 255, 0); // index 0: fully transparent red, shown as the white background
        assertColor(image, 6, 2, 0, 255, 0, 0); // index 1: opaque green
    }

    @Test
    void sixteenBitPngsAreScaledToEightBits() throws Exception {
        RgbImage gray = decoder.decode(Images.encode(Images.gray16(8, 8, 0x8000), "png"));
        assertColor(gray, 3, 3, 128, 128, 128, 0); // the stored level, no gamma change
        RgbImage rgb = decodedAndUsable("deep.png", Images.encode(Images.rgb16(5, 3, 0xFFFF, 0x8000, 0x0000), "png"));
        assertThat(rgb.width()).isEqualTo(5);
        assertThat(rgb.height()).isEqualTo(3);
        assertColor(rgb, 2, 1, 255, 128, 0, 1);
    }

    @Test
    void grayscaleJpegBecomesThreeEqualChannels() throws Exception {
        RgbImage image = decodedAndUsable("gray.jpg", Images.jpeg(Images.grayRamp(64, 8)));
        for (int x : new int[] {0, 32, 63}) {
            int level = x * 255 / 63;
            assertColor(image, x, 4, level, level, level, 6);
            assertThat(image.value(x, 4, 0)).isEqualTo(image.value(x, 4, 1)).isEqualTo(image.value(x, 4, 2));
        }
    }

    @Test
    void cmykJpegIsConvertedToRgb() throws Exception {
        // full magenta + full yellow ink, no cyan or black: red on paper
        RgbImage image = decodedAndUsable("cmyk.jpg", Images.cmykJpeg(16, 16, 0, 255, 255, 0));
        assertThat(image.width()).isEqualTo(16);
        assertThat(image.value(8, 8, 0)).isGreaterThan(180);
        assertThat(image.value(8, 8, 1)).isLessThan(80);
        assertThat(image.value(8, 8, 2)).isLessThan(80);
    }

    @Test
    void exifRotatedJpegComesOutUpright() throws Exception {
        byte[] stored = Images.jpeg(Images.redCorner(32, 16)); // stored landscape, red at the top left
        byte[] rotated = Images.withExifOrientation(stored, 6); // "rotate 90° clockwise to display"
        RgbImage image = decodedAndUsable("phone.jpg", rotated);
        assertThat(image.width()).isEqualTo(16);
        assertThat(image.height()).isEqualTo(32);
        assertColor(image, 13, 2, 255, 0, 0, 12); // the red corner is now top right
        assertColor(image, 2, 2, 0, 0, 255, 12);
        assertColor(image, 2, 29, 0, 0, 255, 12);
        assertThat(summarize().maxHeight()).as("the dataset reports the upright size").isEqualTo(32);
    }

    @Test
    void jpegWithAnAppendedGainMapDecodesItsFirstImageAsPillowDoes() throws Exception {
        // Ultra HDR and other "multi-picture" JPEGs: a second JPEG (the gain map) follows the first one's
        // end marker; cameras also append their own trailers. Pillow decodes the first image.
        byte[] primary = Images.jpeg(Images.redCorner(40, 30));
        byte[] gainMap = Images.jpeg(Images.solid(20, 15, 0x808080));
        byte[] trailer = new byte[5000];
        new Random(3).nextBytes(trailer);
        RgbImage expected = decoder.decode(primary);
        for (byte[] file : List.of(Images.concat(primary, gainMap), Images.concat(primary, trailer),
                Images.concat(primary, gainMap, trailer))) {
            RgbImage image = decodedAndUsable("ultra-hdr.jpg", file);
            assertThat(image.width()).isEqualTo(40);
            assertThat(image.height()).isEqualTo(30);
            assertThat(image.pixels()).isEqualTo(expected.pixels());
            assertThat(decoder.readHeader(Images.write(dir.resolve("header.jpg"), file)).width()).isEqualTo(40);
        }
    }

    @Test
    void oneByOneImageIsDecodedAndPresized() throws Exception {
        RgbImage image = decodedAndUsable("dot.png", Images.encode(Images.solid(1, 1, 0x3366CC), "png"));
        assertThat(image.width()).isEqualTo(1);
        assertThat(image.height()).isEqualTo(1);
        assertColor(image, 0, 0, 0x33, 0x66, 0xCC, 0);
        for (ResizeMethod method : ResizeMethod.values()) {
            RgbImage presized = Resize.presize(image, 16, method, PadMode.REFLECTION);
            assertThat(presized.width()).as("%s", method).isGreaterThanOrEqualTo(16);
            assertThat(presized.height()).as("%s", method).isGreaterThanOrEqualTo(16);
            assertColor(presized, 8, 8, 0x33, 0x66, 0xCC, 0);
        }
        assertThat(summarize().minWidth()).isEqualTo(1);
    }

    // ---- decompression bombs: refused by the declared size, before any pixel is decoded ------------------

    @Test
    void pngDeclaring20000x20000IsRefusedByPixelCountBeforeDecoding() {
        // The file has a header and no pixel data at all: a decoder that tried to decode would report a
        // truncated or corrupt file, so "image too large" shows that the size was checked first.
        byte[] bomb = Images.pngHeaderOnly(20_000, 20_000);
        assertThat(bomb.length).isLessThan(100);
        assertThatThrownBy(() -> decoder.decode(bomb)).isInstanceOf(UnreadableImageException.class)
                .hasMessage("image too large: 20000x20000 = 400,000,000 pixels exceeds the limit of 100,000,000"
                        + " (possible decompression bomb)");
        dataset();
        put("cat/bomb.png", bomb);
        assertSkippedAsUnreadable("cat/bomb.png", "image too large: 20000x20000 = 400,000,000 pixels exceeds the"
                + " limit of 100,000,000 (possible decompression bomb)");
    }

    @Test
    void jpegDeclaring20000x20000IsRefusedByPixelCountBeforeDecoding() {
        byte[] bomb = Images.jpegHeaderDeclaring(20_000, 20_000);
        assertThatThrownBy(() -> decoder.decode(bomb)).isInstanceOf(UnreadableImageException.class)
                .hasMessageStartingWith("image too large: 20000x20000 = 400,000,000 pixels");
        assertThatThrownBy(() -> ImageDecoder.withMaxPixels(255).decode(Images.jpeg(Images.solid(16, 16, 0))))
                .hasMessageStartingWith("image too large: 16x16 = 256 pixels exceeds the limit of 255");
    }

    // ---- names -------------------------------------------------------------------------------------------

    @Test
    void nonAsciiAndSpaceContainingNamesAreReadAndLabelled() {
        Assumptions.assumeTrue(Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"))
                        .newEncoder().canEncode("crème 日本"),
                "the JVM's file-name encoding cannot represent non-ASCII names (run with a UTF-8 locale)");
        dataset();
        Images.writeJpeg(dir.resolve("data/crème brûlée/photo 1.jpg"), 12, 8, 101);
        Images.writeJpeg(dir.resolve("data/crème brûlée/日本語 の 写真.jpg"), 12, 8, 102);
        Images.writeJpeg(dir.resolve("data/dog/ümlaut file.jpeg"), 12, 8, 103);
        ImageList list = ImageFolder.from(dir.resolve("data")).scan();
        assertThat(list.classes()).containsExactly("cat", "crème brûlée", "dog");
        assertThat(list.items()).extracting(ImageItem::relativePath)
                .contains("crème brûlée/photo 1.jpg", "crème brûlée/日本語 の 写真.jpg", "dog/ümlaut file.jpeg");
        DatasetSummary summary = summarize();
        assertThat(summary.unreadable()).isEmpty();
        assertThat(summary.trainCount() + summary.validCount()).isEqualTo(GOOD_IMAGES + 3);
    }

    // ---- debris: ignored with a reason -------------------------------------------------------------------

    @Test
    void hiddenFilesAndMacOsDebrisAreIgnoredWithReasons() {
        dataset();
        put("cat/.hidden.jpg", Images.jpeg(Images.solid(4, 4, 0)));
        put("cat/._photo.jpg", new byte[] {0, 5, 22, 7, 0, 2, 0, 0}); // AppleDouble resource fork
        put(".DS_Store", new byte[] {0, 0, 0, 1, 'B', 'u', 'd', '1'});
        put("dog/.DS_Store", new byte[] {0, 0, 0, 1, 'B', 'u', 'd', '1'});
        put("__MACOSX/cat/._img000.jpg", new byte[] {0, 5, 22, 7});
        put(".thumbnails/cat/img000.jpg", Images.jpeg(Images.solid(4, 4, 0)));
        put("dog/Thumbs.db", new byte[] {(byte) 0xD0, (byte) 0xCF, 0x11, (byte) 0xE0});
        DatasetSummary summary = summarize();
        assertThat(summary.trainCount() + summary.validCount()).isEqualTo(GOOD_IMAGES);
        assertThat(summary.unreadable()).isEmpty();
        assertThat(listed(summary.ignored(), dir.resolve("data"))).containsExactlyInAnyOrder(
                ".DS_Store: hidden file",
                ".thumbnails: hidden folder",
                "__MACOSX: macOS archive metadata folder",
                "cat/.hidden.jpg: hidden file",
                "cat/._photo.jpg: hidden file",
                "dog/.DS_Store: hidden file",
                "dog/Thumbs.db: not an image file");
        assertThat(summary.warnings()).noneMatch(w -> w.contains("__MACOSX") || w.contains(".thumbnails"));
    }

    // ---- file-system oddities ----------------------------------------------------------------------------

    @Test
    void directorySymlinkToItsParentIsNotFollowedRoundTheLoop() throws IOException {
        dataset();
        Path data = dir.resolve("data");
        Files.createSymbolicLink(data.resolve("cat/again"), data.resolve("cat")); // cat/again -> cat
        Files.createSymbolicLink(data.resolve("dog/root"), data); // dog/root -> the dataset folder
        ImageList list = ImageFolder.from(data).scan();
        assertThat(list.items()).hasSize(GOOD_IMAGES);
        assertThat(listed(list.ignored(), data)).containsExactly(
                "cat/again: symbolic link loop (already visited)",
                "dog/root: symbolic link loop (already visited)");
        assertThat(summarize().trainCount() + summarize().validCount()).isEqualTo(GOOD_IMAGES);
    }

    @Test
    void fileWithoutReadPermissionIsSkippedAsPermissionDenied() throws IOException {
        dataset();
        Path locked = put("cat/locked.jpg", Images.jpeg(Images.solid(8, 8, 0x102030)));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        // root reads any file whatever its mode: then there is nothing to test here (the broken-link and
        // named-pipe rows below cover files that cannot be read even by root)
        Assumptions.assumeFalse(Files.isReadable(locked), "running as root: chmod 000 does not stop reads");
        assertSkippedAsUnreadable("cat/locked.jpg", "permission denied");
    }

    @Test
    void brokenSymlinkNamedJpgIsSkippedAsBrokenLink() throws IOException {
        dataset();
        Files.createSymbolicLink(dir.resolve("data/cat/gone.jpg"), dir.resolve("nowhere/gone.jpg"));
        assertSkippedAsUnreadable("cat/gone.jpg", "broken symbolic link (its target does not exist)");
    }

    @Test
    void namedPipeNamedJpgIsSkippedWithoutBeingOpened() throws Exception {
        dataset();
        Path fifo = dir.resolve("data/dog/pipe.jpg");
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("mkfifo is not available: " + e.getMessage());
            return;
        }
        Assumptions.assumeTrue(mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0, "mkfifo failed");
        // opening a pipe for reading blocks until a writer comes: the scan must not open it
        assertSkippedAsUnreadable("dog/pipe.jpg", "not a regular file (a named pipe, socket or device)");
    }

    // ---- dataset-level problems --------------------------------------------------------------------------

    @Test
    void sameImageInTwoClassFoldersIsALabelConflictWarningWithBothPaths() {
        dataset();
        byte[] same = Images.jpeg(Images.solid(10, 10, 0x445566));
        put("cat/dup.jpg", same);
        put("dog/copy of dup.jpg", same);
        DatasetSummary summary = summarize();
        assertThat(summary.warnings())
                .contains("the same image is in two classes: cat/dup.jpg and dog/copy of dup.jpg");
    }

    @Test
    void classFolderWithNoImagesIsLeftOutWithAWarning() throws IOException {
        dataset();
        Files.createDirectories(dir.resolve("data/empty"));
        put("notes/readme.txt", "nothing here".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try (DataLoaders data = ImageFolder.from(dir.resolve("data")).resize(16, ResizeMethod.SQUISH)
                .dataloaders()) {
            assertThat(data.classes()).containsExactly("cat", "dog");
            assertThat(data.summary().warnings()).contains(
                    "class folder 'empty' has no usable images; it is left out",
                    "class folder 'notes' has no usable images; it is left out");
        }
    }

    @Test
    void classFolderWhoseImagesAreAllBrokenFailsNamingTheClassAndAFile() {
        dataset();
        byte[] jpeg = Images.jpeg(Images.redCorner(64, 64));
        put("owl/cut.jpg", Arrays.copyOf(jpeg, jpeg.length / 2));
        put("owl/bomb.png", Images.pngHeaderOnly(20_000, 20_000));
        assertThatThrownBy(this::summarize)
                .isInstanceOfSatisfying(TunaException.class,
                        e -> assertThat(e.kind()).isEqualTo(TunaException.Kind.BAD_DATA))
                .hasMessageStartingWith("Class 'owl' in " + dir.resolve("data") + " has no usable images: all 2 of"
                        + " its image files were skipped (first: ")
                .hasMessageContaining("Replace them with valid " + ImageFormat.NAMES + " images, or remove the"
                        + " folder.");
    }

    @Test
    void classWithOneImageThatTrainsIsWarnedAsTooFew() {
        dataset();
        Images.writeJpeg(dir.resolve("data/owl/only.jpg"), 12, 8, 55);
        // validation fraction 0: the one image is certainly in training
        try (DataLoaders data = ImageFolder.from(dir.resolve("data")).split(Splitter.random(0, 1))
                .resize(16, ResizeMethod.SQUISH).batchSize(4).dataloaders()) {
            assertThat(data.classes()).containsExactly("cat", "dog", "owl");
            assertThat(data.summary().warnings()).containsExactly("class 'owl' has only 1 usable image; a class"
                    + " needs at least 2 (one to train on, one to validate), better 20 or more");
        }
    }

    @Test
    void classWithOneImageThatLandsInValidationFailsWithBadData() {
        dataset();
        Images.writeJpeg(dir.resolve("data/owl/only.jpg"), 12, 8, 55);
        assertThatThrownBy(() -> ImageFolder.from(dir.resolve("data")).split(Splitter.firstPerClass(1))
                .resize(16, ResizeMethod.SQUISH).dataloaders())
                .isInstanceOfSatisfying(TunaException.class,
                        e -> assertThat(e.kind()).isEqualTo(TunaException.Kind.BAD_DATA))
                .hasMessage("Class 'owl' in " + dir.resolve("data") + " has 1 usable image, none of which is left"
                        + " for training after the validation split. Add more images to that class (at least 2,"
                        + " better 20+), lower the validation fraction, or remove the folder.");
    }
}
