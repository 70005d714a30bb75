package dev.tuna.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tuna.testing.Images;
import dev.tuna.transform.RgbImage;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDecoderTest {
    private final ImageDecoder decoder = ImageDecoder.standard();

    private static void assertColor(RgbImage image, int x, int y, int r, int g, int b, int tolerance) {
        assertThat(image.value(x, y, 0)).as("red at %d,%d", x, y).isCloseTo(r, org.assertj.core.data.Offset.offset(tolerance));
        assertThat(image.value(x, y, 1)).as("green at %d,%d", x, y).isCloseTo(g, org.assertj.core.data.Offset.offset(tolerance));
        assertThat(image.value(x, y, 2)).as("blue at %d,%d", x, y).isCloseTo(b, org.assertj.core.data.Offset.offset(tolerance));
    }

    @Test
    void decodesJpegAsRgb() throws Exception {
        RgbImage image = decoder.decode(Images.jpeg(Images.redCorner(32, 16)));
        assertThat(image.width()).isEqualTo(32);
        assertThat(image.height()).isEqualTo(16);
        assertColor(image, 2, 2, 255, 0, 0, 12);
        assertColor(image, 28, 12, 0, 0, 255, 12);
    }

    @Test
    void appliesExifRotation() throws Exception {
        byte[] stored = Images.jpeg(Images.redCorner(32, 16)); // red at top-left as stored
        RgbImage rotated = decoder.decode(Images.withExifOrientation(stored, 6)); // display: rotate 90° clockwise
        assertThat(rotated.width()).isEqualTo(16);
        assertThat(rotated.height()).isEqualTo(32);
        assertColor(rotated, 13, 2, 255, 0, 0, 12); // the red corner moves to the top-right
        assertColor(rotated, 2, 2, 0, 0, 255, 12);
        assertThat(decoder.readHeader(Images.write(Files.createTempFile("exif", ".jpg"),
                Images.withExifOrientation(stored, 6))).width()).isEqualTo(16);
    }

    @Test
    void everyExifOrientationPutsTheRedCornerWhereAViewerShowsIt() throws Exception {
        byte[] stored = Images.jpeg(Images.redCorner(32, 16));
        // where the stored top-left corner ends up: tl, tr, br, bl
        String[] expected = {null, "tl", "tr", "br", "bl", "tl", "tr", "br", "bl"};
        for (int orientation = 1; orientation <= 8; orientation++) {
            RgbImage image = decoder.decode(Images.withExifOrientation(stored, orientation));
            int w = image.width();
            int h = image.height();
            String corner = image.value(1, 1, 0) > 200 ? "tl" : image.value(w - 2, 1, 0) > 200 ? "tr"
                    : image.value(w - 2, h - 2, 0) > 200 ? "br" : "bl";
            assertThat(corner).as("orientation %d", orientation).isEqualTo(expected[orientation]);
            assertThat(w).as("width for orientation %d", orientation).isEqualTo(orientation >= 5 ? 16 : 32);
        }
    }

    @Test
    void grayscaleJpegKeepsItsLevels() throws Exception {
        RgbImage image = decoder.decode(Images.jpeg(Images.grayRamp(64, 8)));
        for (int x : new int[] {0, 32, 63}) {
            int expected = x * 255 / 63;
            assertColor(image, x, 4, expected, expected, expected, 6);
        }
    }

    @Test
    void sixteenBitGrayPngIsNotGammaShifted() throws Exception {
        RgbImage image = decoder.decode(Images.encode(Images.gray16(8, 8, 0x8000), "png"));
        assertColor(image, 3, 3, 128, 128, 128, 0);
    }

    @Test
    void paletteTransparencyIsCompositedOverWhite() throws Exception {
        RgbImage image = decoder.decode(Images.encode(Images.paletteWithTransparency(8, 4), "png"));
        assertColor(image, 1, 1, 255, 255, 255, 0); // transparent red -> white background
        assertColor(image, 6, 1, 0, 255, 0, 0);
    }

    @Test
    void alphaPngIsCompositedOverWhite() throws Exception {
        BufferedImage argb = new BufferedImage(4, 4, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                argb.setRGB(x, y, 0x80000000); // half-transparent black
            }
        }
        RgbImage image = decoder.decode(Images.encode(argb, "png"));
        assertColor(image, 1, 1, 127, 127, 127, 1);
    }

    @Test
    void cmykJpegIsConvertedToRgb() throws Exception {
        RgbImage image = decoder.decode(Images.cmykJpeg(16, 16, 0, 255, 255, 0)); // full magenta + yellow = red
        assertThat(image.value(8, 8, 0)).isGreaterThan(180);
        assertThat(image.value(8, 8, 1)).isLessThan(80);
        assertThat(image.value(8, 8, 2)).isLessThan(80);
    }

    @Test
    void readsBmpAndGifByContentWhateverTheName(@TempDir Path dir) throws Exception {
        Path bmpNamedJpg = Images.write(dir.resolve("photo.jpg"), Images.encode(Images.solid(5, 3, 0x00FF00), "bmp"));
        assertColor(decoder.decode(bmpNamedJpg), 2, 1, 0, 255, 0, 0);
        RgbImage gif = decoder.decode(Images.encode(Images.solid(5, 3, 0x0000FF), "gif"));
        assertColor(gif, 2, 1, 0, 0, 255, 0);
    }

    @Test
    void rejectsEmptyRandomTruncatedAndTextFilesWithReasons(@TempDir Path dir) throws Exception {
        Path empty = Images.write(dir.resolve("empty.jpg"), new byte[0]);
        assertThatThrownBy(() -> decoder.decode(empty)).isInstanceOf(UnreadableImageException.class)
                .hasMessage("empty file (0 bytes)");
        byte[] random = new byte[500];
        new java.util.Random(1).nextBytes(random);
        random[0] = 1;
        assertThatThrownBy(() -> decoder.decode(random)).hasMessageStartingWith("not an image");
        assertThatThrownBy(() -> decoder.decode("hello, I am text".getBytes()))
                .hasMessageStartingWith("not an image");
        byte[] jpeg = Images.jpeg(Images.redCorner(64, 64));
        byte[] truncated = Arrays.copyOf(jpeg, jpeg.length / 2);
        assertThatThrownBy(() -> decoder.decode(truncated)).hasMessageContaining("truncated JPEG");
        byte[] png = Images.encode(Images.redCorner(64, 64), "png");
        assertThatThrownBy(() -> decoder.decode(Arrays.copyOf(png, png.length / 2)))
                .isInstanceOf(UnreadableImageException.class).hasMessageContaining("PNG");
        assertThatThrownBy(() -> decoder.decode(dir.resolve("missing.jpg"))).hasMessage("file not found");
    }

    @Test
    void refusesDecompressionBombsBeforeDecoding() {
        byte[] bomb = Images.pngHeaderOnly(20_000, 20_000);
        assertThatThrownBy(() -> decoder.decode(bomb)).isInstanceOf(UnreadableImageException.class)
                .hasMessageContaining("20000x20000").hasMessageContaining("decompression bomb");
        assertThatThrownBy(() -> ImageDecoder.withMaxPixels(100).decode(Images.encode(Images.solid(11, 10, 0), "png")))
                .hasMessageContaining("exceeds the limit of 100");
    }

    @Test
    void dropsOnlySrgbIccProfiles() {
        byte[] srgb = new byte[200];
        srgb[16] = 'R';
        srgb[17] = 'G';
        srgb[18] = 'B';
        srgb[131] = 1; // one tag
        byte[] entry = {'d', 'e', 's', 'c', 0, 0, 0, (byte) 144, 0, 0, 0, 40};
        System.arraycopy(entry, 0, srgb, 132, entry.length);
        System.arraycopy("desc....sRGB IEC61966-2.1".getBytes(), 0, srgb, 144, 25);
        assertThat(JpegSegments.describesSrgb(srgb)).isTrue();
        byte[] adobe = srgb.clone();
        System.arraycopy("desc....Adobe RGB (1998)".getBytes(), 0, adobe, 144, 24);
        assertThat(JpegSegments.describesSrgb(adobe)).isFalse();
    }

    @Test
    void rgbProfilesAreIgnoredLikePillowUnlessColourManaged() throws Exception {
        // a real photo with an embedded Adobe RGB (1998) profile from the shared flowers data
        Path shared = dev.tuna.testing.Datasets.shared("datasets/flowers/daisy/13953307149_f8de6a768c_m.jpg");
        org.junit.jupiter.api.Assumptions.assumeTrue(shared != null, "../shared/datasets/flowers not present");
        byte[] bytes = Files.readAllBytes(shared);
        byte[] stripped = JpegSegments.withoutProfile(bytes, true);
        assertThat(stripped.length).isLessThan(bytes.length);
        assertThat(JpegSegments.withoutProfile(bytes, false)).isSameAs(bytes); // not sRGB: kept for conversion
        RgbImage asStored = decoder.decode(bytes);
        assertThat(asStored.pixels()).isEqualTo(decoder.decode(stripped).pixels());
        RgbImage converted = decoder.colorManaged(true).decode(bytes);
        long difference = 0;
        for (int i = 0; i < converted.pixels().length; i++) {
            difference += Math.abs((converted.pixels()[i] & 0xFF) - (asStored.pixels()[i] & 0xFF));
        }
        assertThat(difference).as("Adobe RGB converted to sRGB changes the pixels").isGreaterThan(1000);
    }
}
