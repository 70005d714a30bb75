package dev.tuna.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.tuna.testing.Datasets;
import dev.tuna.testing.Images;
import dev.tuna.testing.PillowReference;
import dev.tuna.testing.PillowReference.Decoded;
import dev.tuna.transform.ResizeMethod;
import dev.tuna.transform.RgbImage;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TIFF, PNM (PPM/PGM/PBM), TGA, ICO/CUR and PSD: the pixels Tuna decodes are compared with the pixels
 * Pillow (and so fast.ai) decodes from the same files. The files are written at test time, by Pillow
 * ({@code scripts/make_format_samples.py}, Debian's python3-pil) in each mode and compression, and
 * here by ImageIO or by hand where Pillow cannot write them (16-bit RGB TIFF and PPM, size-bomb
 * headers). Nothing binary is checked in.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ImageFormatsTest {
    private static final String BOMB = "image too large: 20000x20000 = 400,000,000 pixels exceeds the limit of"
            + " 100,000,000 (possible decompression bomb)";

    @TempDir
    static Path shared;

    private static Path samples;

    @TempDir
    Path dir;

    private final ImageDecoder decoder = ImageDecoder.standard();

    /** Java-written files first (Pillow decodes them as the reference), then Pillow's own samples. */
    @BeforeAll
    static void writeSamples() throws IOException {
        samples = shared.resolve("samples");
        Files.createDirectories(samples);
        Files.write(samples.resolve("java-tiff-rgb16.tif"), encode(rgb16Pattern(19, 11), "tiff"));
        Files.write(samples.resolve("java-pnm-rgb16.ppm"), ppm16(rgb16Pattern(19, 11)));
        if (PillowReference.available()) {
            // linear-light RGB: far enough from sRGB that converting would change every colour
            Path icc = Files.write(shared.resolve("linear-rgb.icc"),
                    ICC_Profile.getInstance(ColorSpace.CS_LINEAR_RGB).getData());
            PillowReference.run(samples, true, icc);
        }
    }

    private static List<Decoded> reference() {
        Assumptions.assumeTrue(PillowReference.available(), "Debian python3-pil not installed");
        return PillowReference.read(samples);
    }

    // ---- pixels: Tuna's decode equals Pillow's -------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> everySampleDecodesToPillowsPixels() {
        List<Decoded> files = reference();
        assertThat(files).extracting(Decoded::name).contains("tiff-rgb8-tiff_lzw.tif", "tiff-gray16-raw.tif",
                "tiff-palette-lzw.tif", "tiff-rgb8-jpeg.tif", "tiff-multipage.tif", "pnm-rgb.ppm",
                "pnm-bilevel.pbm", "tga-rgb-rle.tga", "ico-png.ico", "cur-bmp.cur", "psd-rgb-rle.psd",
                "java-tiff-rgb16.tif", "java-pnm-rgb16.ppm", "tiff-rgb8-icc.tif", "psd-rgb-icc.psd");
        return files.stream().map(ref -> DynamicTest.dynamicTest(ref.name() + " (" + ref.mode() + ")", () -> {
            RgbImage image = decoder.decode(samples.resolve(ref.name()));
            assertThat(image.width()).as("width").isEqualTo(ref.width());
            assertThat(image.height()).as("height").isEqualTo(ref.height());
            if (ref.rgb() == null) {
                return; // CMYK: Pillow's conversion ignores ink profiles, see cmykTiffConvertsAsCmykJpegsDo
            }
            // lossless formats exactly; a JPEG-compressed TIFF within two levels (two JPEG decoders)
            int tolerance = ref.name().contains("jpeg") ? 2 : 0;
            assertThat(maxDifference(image.pixels(), ref.rgb())).as("largest difference from Pillow")
                    .isLessThanOrEqualTo(tolerance);
        }));
    }

    @Test
    void multiPageTiffGivesItsFirstPageAndIconsTheirLargestImage() throws Exception {
        reference();
        RgbImage page = decoder.decode(samples.resolve("tiff-multipage.tif"));
        RgbImage single = decoder.decode(samples.resolve("tiff-rgb8-raw.tif"));
        assertThat(page.pixels()).isEqualTo(single.pixels());
        assertThat(decoder.decode(samples.resolve("ico-png.ico")).width()).isEqualTo(48); // of 16, 48 and 32
        assertThat(decoder.decode(samples.resolve("ico-bmp.ico")).width()).isEqualTo(48);
        assertThat(decoder.decode(samples.resolve("cur-bmp.cur")).width()).isEqualTo(32); // of 16 and 32
    }

    @Test
    void tiffOrientationTagTurnsTheImageUprightLikeExif() throws Exception {
        reference();
        Path rotated = samples.resolve("tiff-orientation6.tif");
        RgbImage upright = decoder.decode(rotated);
        RgbImage stored = decoder.decode(samples.resolve("tiff-rgb8-raw.tif"));
        assertThat(upright.width()).isEqualTo(stored.height());
        assertThat(upright.pixels()).isEqualTo(ExifOrientation.apply(stored, 6).pixels());
        ImageDecoder.ImageHeader header = decoder.readHeader(rotated);
        assertThat(header.width()).isEqualTo(23);
        assertThat(header.height()).isEqualTo(37);
        assertThat(header.format()).isEqualTo(ImageFormat.TIFF);
    }

    @Test
    void rgbProfilesOfTiffAndPsdAreIgnoredUnlessColourManaged() throws Exception {
        // everySampleDecodesToPillowsPixels: by default the stored values, as Pillow; converted on request
        Map<String, byte[]> pillow = new LinkedHashMap<>();
        reference().forEach(ref -> pillow.put(ref.name(), ref.rgb()));
        for (String name : List.of("tiff-rgb8-icc.tif", "psd-rgb-icc.psd")) {
            RgbImage managed = decoder.colorManaged(true).decode(samples.resolve(name));
            assertThat(maxDifference(managed.pixels(), pillow.get(name))).as(name).isGreaterThan(20);
        }
    }

    @Test
    void cmykTiffConvertsAsCmykJpegsDo() throws Exception {
        reference();
        // the same inks (full magenta and yellow: red on paper) as a CMYK TIFF and as a CMYK JPEG
        RgbImage tiff = decoder.decode(samples.resolve("tiff-cmyk-red.tif"));
        RgbImage jpeg = decoder.decode(Images.cmykJpeg(16, 16, 0, 255, 255, 0));
        for (int c = 0; c < 3; c++) {
            assertThat(tiff.value(8, 8, c)).as("channel %d", c).isCloseTo(jpeg.value(8, 8, c), within(3));
        }
        assertThat(tiff.value(8, 8, 0)).isGreaterThan(180);
    }

    @Test
    void pamWithAlphaIsCompositedOverWhite() throws Exception {
        // Pillow does not read PAM (P7); Tuna does, with the same alpha rule as PNG
        byte[] pam = Images.concat(ascii("P7\nWIDTH 3\nHEIGHT 1\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_ALPHA\nENDHDR\n"),
                new byte[] {(byte) 255, 0, 0, (byte) 255, 0, 0, (byte) 255, 0, 0, (byte) 200, 0, (byte) 128});
        RgbImage image = decoder.decode(pam);
        assertThat(image.pixels()).containsExactly(255, 0, 0, 255, 255, 255, 127, 227, 127);
    }

    // ---- recognised by content; counted by describe --------------------------------------------------

    @Test
    void everySampleIsRecognisedByContentWhateverItsName() throws Exception {
        reference();
        Map<ImageFormat, Integer> expected = new EnumMap<>(ImageFormat.class);
        Path data = Datasets.folder(dir.resolve("data"), new LinkedHashMap<>(Map.of("cat", 3, "dog", 3)));
        expected.put(ImageFormat.JPEG, 6);
        int n = 0;
        try (Stream<Path> files = Files.list(samples)) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                if (name.endsWith(".rgb") || name.endsWith(".tsv")) {
                    continue;
                }
                ImageFormat format = expectedFormat(name);
                byte[] bytes = Files.readAllBytes(file);
                assertThat(ImageFormat.sniff(bytes, ImageFormat.HEADER_BYTES)).as(name).contains(format);
                // a name that says nothing: the content decides
                Files.write(Files.createDirectories(data.resolve(n % 2 == 0 ? "cat" : "dog"))
                        .resolve("sample-" + n++ + ".dat"), bytes);
                expected.merge(format, 1, Integer::sum);
            }
        }
        try (DataLoaders loaders = ImageFolder.from(data).resize(16, ResizeMethod.SQUISH).batchSize(4).threads(2)
                .dataloaders()) {
            DatasetSummary summary = loaders.summary();
            assertThat(summary.unreadable()).isEmpty();
            assertThat(summary.trainCount() + summary.validCount()).isEqualTo(6 + n);
            assertThat(summary.formats()).isEqualTo(expected);
            assertThat(summary.format(5)).contains("  formats: JPEG 6, TIFF " + expected.get(ImageFormat.TIFF)
                    + ", PNM " + expected.get(ImageFormat.PNM) + ", TGA " + expected.get(ImageFormat.TGA) + ", ICO 2,"
                    + " CUR 1, PSD 4\n");
        }
    }

    private static ImageFormat expectedFormat(String name) {
        String kind = name.startsWith("java-") ? name.substring(5) : name;
        return ImageFormat.valueOf(kind.substring(0, kind.indexOf('-')).toUpperCase(Locale.ROOT));
    }

    @Test
    void brokenFilesNamedAsTheNewFormatsAreListedAsUnreadableNotIgnored() {
        Path data = Datasets.folder(dir.resolve("data"), new LinkedHashMap<>(Map.of("cat", 3, "dog", 3)));
        List<String> names = List.of("notes.tiff", "notes.ppm", "notes.pgm", "notes.pbm", "notes.tga", "notes.ico",
                "notes.cur", "notes.psd");
        for (String name : names) {
            Images.write(data.resolve("cat").resolve(name), ascii("not a picture\n"));
        }
        ImageList list = ImageFolder.from(data).scan();
        assertThat(list.unreadable()).hasSize(names.size()).extracting(SkippedFile::reason)
                .containsOnly("not an image: content is not " + ImageFormat.NAMES);
        assertThat(list.ignored()).isEmpty();
    }

    @Test
    void sniffingTellsFormatsApartAndRefusesLookalikes() {
        assertThat(ImageFormat.sniff(ascii("P6\n3 2\n255\n"), 11)).contains(ImageFormat.PNM);
        assertThat(ImageFormat.sniff(ascii("P1 3 2 0"), 8)).contains(ImageFormat.PNM);
        assertThat(ImageFormat.sniff(ascii("Pizza is nice"), 13)).isEmpty(); // 'P' then no digit
        assertThat(ImageFormat.sniff(ascii("P9\n"), 3)).isEmpty();
        assertThat(ImageFormat.sniff(new byte[] {'M', 'M', 0, 42, 0, 0, 0, 8}, 8)).contains(ImageFormat.TIFF);
        assertThat(ImageFormat.sniff(new byte[] {'I', 'I', 43, 0, 8, 0, 0, 0}, 8)).contains(ImageFormat.TIFF);
        assertThat(ImageFormat.sniff(new byte[] {0, 0, 1, 0, 0, 0}, 6)).as("an icon of no images").isEmpty();
        assertThat(ImageFormat.sniff(new byte[] {0, 0, 0, 1, 'B', 'u', 'd', '1'}, 8)).as(".DS_Store").isEmpty();
        assertThat(ImageFormat.sniff(tgaBombHeader(), 18)).contains(ImageFormat.TGA);
        assertThat(ImageFormat.sniff(Arrays.copyOf(tgaBombHeader(), 17), 17)).as("shorter than a TGA header").isEmpty();
        byte[] notTga = tgaBombHeader();
        notTga[16] = 7; // 7 bits per pixel: no TGA has that
        assertThat(ImageFormat.sniff(notTga, 18)).isEmpty();
        // a million random headers: none may pass for a TGA (or anything else) by chance
        java.util.Random random = new java.util.Random(17);
        byte[] header = new byte[ImageFormat.HEADER_BYTES];
        int accepted = 0;
        for (int i = 0; i < 1_000_000; i++) {
            random.nextBytes(header);
            if (ImageFormat.sniff(header, header.length).filter(f -> f == ImageFormat.TGA).isPresent()) {
                accepted++;
            }
        }
        assertThat(accepted).isZero();
    }

    // ---- decompression bombs: refused by the declared size before any pixel is decoded --------------

    @Test
    void headersDeclaring20000x20000AreRefusedByPixelCountInEveryNewFormat() {
        // each file is a header and (almost) no pixel data: decoding it would fail as truncated, so
        // "image too large" shows the size was checked first
        Map<String, byte[]> bombs = new LinkedHashMap<>();
        bombs.put("bomb.tif", tiffBombHeader());
        bombs.put("bomb.ppm", ascii("P6\n20000 20000\n255\n"));
        bombs.put("bomb.tga", tgaBombHeader());
        bombs.put("bomb.psd", psdBombHeader());
        bombs.put("bomb.ico", icoWithPng(Images.pngHeaderOnly(20_000, 20_000)));
        for (Map.Entry<String, byte[]> bomb : bombs.entrySet()) {
            assertThat(bomb.getValue().length).as(bomb.getKey()).isLessThan(200);
            assertThatThrownBy(() -> decoder.decode(bomb.getValue())).as(bomb.getKey())
                    .isInstanceOf(UnreadableImageException.class).hasMessage(BOMB);
        }
        Path data = Datasets.folder(dir.resolve("data"), new LinkedHashMap<>(Map.of("cat", 3, "dog", 3)));
        bombs.forEach((name, bytes) -> Images.write(data.resolve("cat").resolve(name), bytes));
        try (DataLoaders loaders = ImageFolder.from(data).resize(16, ResizeMethod.SQUISH).batchSize(4)
                .dataloaders()) {
            assertThat(loaders.summary().unreadable()).hasSize(bombs.size())
                    .allSatisfy(skipped -> assertThat(skipped.reason()).isEqualTo(BOMB));
        }
    }

    @Test
    void pixelBudgetAppliesToEveryNewFormat() throws Exception {
        List<Decoded> files = reference();
        for (Decoded ref : files) {
            ImageDecoder tight = ImageDecoder.withMaxPixels((long) ref.width() * ref.height() - 1);
            assertThatThrownBy(() -> tight.decode(samples.resolve(ref.name()))).as(ref.name())
                    .hasMessageStartingWith("image too large: ");
            assertThat(ImageDecoder.withMaxPixels((long) ref.width() * ref.height())
                    .decode(samples.resolve(ref.name())).width()).isEqualTo(ref.width());
        }
    }

    // ---- truncation ------------------------------------------------------------------------------------

    @Test
    void samplesCutShortAreSkippedAsTruncated() throws Exception {
        List<Decoded> files = reference();
        for (Decoded ref : files) {
            if (ref.name().equals("tiff-multipage.tif")) {
                continue; // its first page lies before the cut: Tuna, like Pillow, reads only that page
            }
            byte[] bytes = Files.readAllBytes(samples.resolve(ref.name()));
            byte[] cut = Arrays.copyOf(bytes, bytes.length * 6 / 10);
            String format = expectedFormat(ref.name()).name();
            assertThatThrownBy(() -> decoder.decode(cut)).as(ref.name()).isInstanceOf(UnreadableImageException.class)
                    .hasMessageStartingWith("truncated " + format + " file");
        }
        byte[] tiff = Files.readAllBytes(samples.resolve("tiff-rgb8-tiff_lzw.tif"));
        assertThatThrownBy(() -> decoder.decode(Arrays.copyOf(tiff, tiff.length - 40)))
                .hasMessage("truncated TIFF file (its image directory lies beyond the end of the file)");
        byte[] tga = Arrays.copyOf(tgaBombHeader(), 18); // a header and no pixels
        tga[12] = 4;
        tga[13] = 0;
        tga[14] = 2;
        tga[15] = 0;
        assertThatThrownBy(() -> decoder.decode(tga)).hasMessage("truncated TGA file (it ends before its pixels do)");
        byte[] ico = Files.readAllBytes(samples.resolve("ico-png.ico"));
        assertThatThrownBy(() -> decoder.decode(Arrays.copyOf(ico, ico.length - 10)))
                .hasMessage("truncated ICO file (an image lies beyond the end of the file)");
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    private static int maxDifference(byte[] a, byte[] b) {
        assertThat(a.length).isEqualTo(b.length);
        int max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((a[i] & 0xFF) - (b[i] & 0xFF)));
        }
        return max;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** 16-bit RGB whose samples use all 16 bits (low bytes differ from high bytes). */
    private static BufferedImage rgb16Pattern(int width, int height) {
        BufferedImage image = Images.rgb16(width, height, 0, 0, 0);
        WritableRaster raster = image.getRaster();
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                raster.setPixel(x, y, new int[] {(x * 3449 + y * 17) % 65536, (y * 5923 + x * 131) % 65536,
                        (x * y * 733 + 40_000) % 65536});
            }
        }
        return image;
    }

    /** Encodes with the JDK's own writer (TwelveMonkeys' TIFF writer does not write 16-bit samples). */
    private static byte[] encode(BufferedImage image, String format) {
        ImageWriter writer = null;
        for (var writers = ImageIO.getImageWritersByFormatName(format); writers.hasNext(); ) {
            ImageWriter candidate = writers.next();
            if (writer == null || candidate.getClass().getName().startsWith("com.sun")) {
                writer = candidate;
            }
        }
        assertThat(writer).as("an ImageIO writer for " + format).isNotNull();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ImageOutputStream stream = ImageIO.createImageOutputStream(out)) {
            writer.setOutput(stream);
            writer.write(image);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    /** A binary PPM with maximum value 65535: two big-endian bytes per sample. */
    private static byte[] ppm16(BufferedImage image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ascii("P6\n" + image.getWidth() + " " + image.getHeight() + "\n65535\n"));
        int[] pixel = new int[3];
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                image.getRaster().getPixel(x, y, pixel);
                for (int v : pixel) {
                    out.write(v >> 8);
                    out.write(v);
                }
            }
        }
        return out.toByteArray();
    }

    /** A little-endian TIFF directory for 20000 × 20000 8-bit gray in one strip that is not there. */
    private static byte[] tiffBombHeader() {
        int[][] entries = { // tag, type (3 short, 4 long), value
            {256, 4, 20_000}, {257, 4, 20_000}, {258, 3, 8}, {259, 3, 1}, {262, 3, 1}, {273, 4, 200},
            {277, 3, 1}, {278, 4, 20_000}, {279, 4, 400_000_000}};
        ByteBuffer b = ByteBuffer.allocate(8 + 2 + entries.length * 12 + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'I').put((byte) 'I').putShort((short) 42).putInt(8).putShort((short) entries.length);
        for (int[] e : entries) {
            b.putShort((short) e[0]).putShort((short) e[1]).putInt(1).putInt(e[2]);
        }
        return b.putInt(0).array();
    }

    /** A run-length encoded TGA header for 20000 × 20000 true-colour pixels, top-down, and 1,280 of them. */
    private static byte[] tgaBombHeader() {
        ByteBuffer b = ByteBuffer.allocate(18 + 10 * 4).order(ByteOrder.LITTLE_ENDIAN).put((byte) 0).put((byte) 0)
                .put((byte) 10).put(new byte[5]).putShort((short) 0).putShort((short) 0).putShort((short) 20_000)
                .putShort((short) 20_000).put((byte) 24).put((byte) 0x20);
        for (int run = 0; run < 10; run++) {
            b.put((byte) 0xFF).put((byte) 40).put((byte) 80).put((byte) 120); // 128 pixels of one colour
        }
        return b.array();
    }

    /** A Photoshop header for 20000 × 20000 RGB, empty sections, raw image data that is not there. */
    private static byte[] psdBombHeader() {
        return ByteBuffer.allocate(26 + 12 + 2).put(ascii("8BPS")).putShort((short) 1).put(new byte[6])
                .putShort((short) 3).putInt(20_000).putInt(20_000).putShort((short) 8).putShort((short) 3)
                .putInt(0).putInt(0).putInt(0).putShort((short) 0).array();
    }

    /** An icon of one PNG-compressed image (its directory says 256 × 256, as icons larger than 255 do). */
    private static byte[] icoWithPng(byte[] png) {
        return ByteBuffer.allocate(22 + png.length).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0)
                .putShort((short) 1).putShort((short) 1).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0)
                .putShort((short) 1).putShort((short) 32).putInt(png.length).putInt(22).put(png).array();
    }
}
