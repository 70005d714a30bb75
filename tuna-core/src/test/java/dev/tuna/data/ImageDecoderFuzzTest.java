package dev.tuna.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tuna.testing.Fuzzing;
import dev.tuna.testing.Images;
import dev.tuna.transform.RgbImage;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes the image decoder with arbitrary bytes (Jazzer). In a normal {@code mvn test} each target
 * replays its seeds from {@code ImageDecoderFuzzTestInputs/<method>/}; with {@code JAZZER_FUZZ=1} it
 * fuzzes (see BENCHMARKS.md, "Fuzzing the parsers").
 */
class ImageDecoderFuzzTest {
    private static final ImageDecoder DECODER = ImageDecoder.withMaxPixels(Fuzzing.PIXEL_BUDGET);
    private static final ImageDecoder MANAGED = DECODER.colorManaged(true);
    private static final byte[] ICC_ID = "ICC_PROFILE".getBytes(StandardCharsets.US_ASCII);

    static {
        // load ImageIO's plugins and the colour management module before the first timed input
        try {
            DECODER.decode(Images.jpeg(Images.solid(8, 8, 0x336699)));
            MANAGED.decode(withIcc(Images.jpeg(Images.solid(8, 8, 0x336699)),
                    ICC_Profile.getInstance(ColorSpace.CS_LINEAR_RGB).getData(), 1));
        } catch (UnreadableImageException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Whole-file decoding, every format the decoder sniffs (JPEG with EXIF and ICC, PNG, BMP, GIF,
     * WebP), and reading the header alone: the result is an upright RGB image within the pixel budget,
     * or an {@link UnreadableImageException} with a reason.
     */
    @FuzzTest
    @Timeout(value = 2, unit = TimeUnit.SECONDS)
    void decode(byte[] bytes) {
        Fuzzing.executed("ImageDecoderFuzzTest#decode");
        check(DECODER, bytes);
        try {
            DECODER.readHeader(Fuzzing.scratchFile("fuzz.image", bytes));
        } catch (UnreadableImageException e) {
            Fuzzing.requireMessage(e);
        }
        if (contains(bytes, ICC_ID)) {
            check(MANAGED, bytes);
        }
    }

    /**
     * The JPEG metadata walk on its own (segments, EXIF orientation, ICC profiles), which runs on the
     * raw bytes before any decoder sees them; much faster per input than {@link #decode}.
     */
    @FuzzTest
    @Timeout(value = 2, unit = TimeUnit.SECONDS)
    void jpegMetadata(byte[] bytes) {
        Fuzzing.executed("ImageDecoderFuzzTest#jpegMetadata");
        int orientation = ExifOrientation.read(bytes);
        if (orientation < 1 || orientation > 8) {
            throw new AssertionError("orientation " + orientation + " is not 1 to 8");
        }
        for (boolean allRgb : new boolean[] {false, true}) {
            byte[] stripped = JpegSegments.withoutProfile(bytes, allRgb);
            if (stripped.length > bytes.length) {
                throw new AssertionError("removing a profile made the file longer");
            }
        }
        JpegSegments.describesSrgb(bytes);
    }

    /** Every seed is a valid image that decodes, and is committed in the inputs directories. */
    @Test
    void seedsDecodeAndAreCommitted() throws UnreadableImageException {
        Map<String, byte[]> seeds = seeds();
        Fuzzing.syncSeeds(getClass(), "decode", seeds);
        Map<String, byte[]> jpegs = new LinkedHashMap<>();
        seeds.forEach((name, bytes) -> {
            if (name.endsWith(".jpg")) {
                jpegs.put(name, bytes);
            }
        });
        Fuzzing.syncSeeds(getClass(), "jpegMetadata", jpegs);
        for (Map.Entry<String, byte[]> seed : seeds.entrySet()) {
            RgbImage image = DECODER.decode(seed.getValue());
            assertThat(image.width()).as(seed.getKey()).isPositive();
        }
        assertThat(DECODER.decode(seeds.get("lossless.webp")).pixels()).as("the hand-written WebP's pixels")
                .startsWith((byte) 0xC0, (byte) 0x20, (byte) 0x10);
        assertThat(ExifOrientation.read(seeds.get("exif-little-endian-8.jpg"))).isEqualTo(8);
        assertThat(JpegSegments.withoutProfile(seeds.get("icc-srgb-two-segments.jpg"), false))
                .hasSize(seeds.get("plain.jpg").length);
    }

    // ---------------------------------------------------------------- findings, kept as regression tests

    /**
     * A lossless WebP declaring 9220x115 pixels, cut short after its header (minimised from the
     * fuzzer's timeout-b658949f, kept whole as finding-truncated-lossless.webp among the seeds): the
     * WebP decoder read zeros past the end, an exception per read, for minutes.
     */
    @Test
    void truncatedLosslessWebpFailsFast() {
        byte[] webp = Base64.getDecoder().decode("UklGRhwAAABXRUJQVlA4TA8AAAAvA6QcAAAAV0VCUFZQOA==");

        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> assertThatThrownBy(() -> ImageDecoder.standard().decode(webp))
                .isInstanceOf(UnreadableImageException.class)
                .hasMessage("truncated WEBP file"));
    }

    /**
     * A 1 x 3,866,625 lossless WebP with alpha (fuzzer's timeout-a0baa9d9, kept as
     * finding-tall-webp-with-alpha.webp among the seeds): decoding took 0.3 s, but converting it with
     * BufferedImage.getRGB took 3 to 12 s on the shared machine. RGBA and palette images are now read
     * straight from their bytes. (The fuzz targets' own budget is now 1 M pixels, below this image.)
     */
    @Test
    void largeWebpWithAlphaConvertsFast() {
        byte[] webp = Base64.getDecoder().decode("UklGRi4AAABXRUJQVlA4WAoAAAAQAAAAAAAAAAA7VoAAEDQIeIELUcAC4DgA");

        RgbImage image = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> ImageDecoder.standard().decode(webp));

        assertThat(image.width()).isEqualTo(1);
        assertThat(image.height()).isEqualTo(3_866_625);
    }

    /** The direct paths for RGBA and palette images give what getRGB and compositing over white give. */
    @Test
    void directConversionsMatchGetRgb() {
        Random random = new Random(17);
        BufferedImage rgba = new BufferedImage(7, 5, BufferedImage.TYPE_4BYTE_ABGR);
        BufferedImage palette = new BufferedImage(6, 4, BufferedImage.TYPE_BYTE_BINARY, new IndexColorModel(2, 3,
                new byte[] {10, (byte) 200, 30}, new byte[] {40, 50, (byte) 250}, new byte[] {70, 80, 90},
                new byte[] {(byte) 255, 0, (byte) 128}));
        for (BufferedImage image : List.of(rgba, palette, Images.paletteWithTransparency(5, 4))) {
            for (int y = 0; y < image.getHeight(); y++) {
                for (int x = 0; x < image.getWidth(); x++) {
                    if (image != rgba) {
                        image.getRaster().setSample(x, y, 0, random.nextInt(4) % 3);
                    } else {
                        image.setRGB(x, y, random.nextInt());
                    }
                }
            }
            byte[] expected = new byte[image.getWidth() * image.getHeight() * 3];
            for (int i = 0; i < expected.length / 3; i++) {
                int argb = image.getRGB(i % image.getWidth(), i / image.getWidth());
                int alpha = argb >>> 24;
                for (int c = 0; c < 3; c++) {
                    int v = (argb >> (16 - 8 * c)) & 0xFF;
                    expected[3 * i + c] = (byte) ((v * alpha + 255 * (255 - alpha) + 127) / 255);
                }
            }
            assertThat(ImageDecoder.toRgb(image).pixels()).as("type %d", image.getType()).containsExactly(expected);
        }
    }

    private static void check(ImageDecoder decoder, byte[] bytes) {
        RgbImage image;
        try {
            image = decoder.decode(bytes);
        } catch (UnreadableImageException e) {
            Fuzzing.requireMessage(e);
            return;
        }
        long pixels = (long) image.width() * image.height();
        if (image.width() < 1 || image.height() < 1 || pixels > decoder.maxPixels()
                || image.pixels().length != pixels * 3) {
            throw new AssertionError("decoded a " + image.width() + "x" + image.height() + " image with "
                    + image.pixels().length + " bytes of pixels");
        }
    }

    private static boolean contains(byte[] bytes, byte[] part) {
        for (int i = 0; i + part.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + part.length, part, 0, part.length)) {
                return true;
            }
        }
        return false;
    }

    /** The seeds: small files of every kind the decoder reads, made by ImageIO or by hand here. */
    static Map<String, byte[]> seeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        byte[] jpeg = Images.jpeg(Images.redCorner(12, 8));
        seeds.put("plain.jpg", jpeg);
        seeds.put("exif-orientation-6.jpg", Images.withExifOrientation(jpeg, 6));
        seeds.put("exif-little-endian-8.jpg", littleEndianExif(jpeg, 8));
        seeds.put("icc-srgb-two-segments.jpg",
                withIcc(jpeg, ICC_Profile.getInstance(ColorSpace.CS_sRGB).getData(), 2));
        seeds.put("icc-linear-rgb.jpg",
                withIcc(Images.withExifOrientation(jpeg, 3), ICC_Profile.getInstance(ColorSpace.CS_LINEAR_RGB)
                        .getData(), 1));
        seeds.put("cmyk-adobe.jpg", Images.cmykJpeg(8, 8, 10, 200, 30, 0));
        seeds.put("gray.jpg", Images.jpeg(Images.grayRamp(16, 4)));
        seeds.put("rgb.png", Images.encode(Images.redCorner(6, 5), "png"));
        seeds.put("gray16.png", Images.encode(Images.gray16(4, 3, 40000), "png"));
        seeds.put("palette-alpha.png", Images.encode(Images.paletteWithTransparency(5, 4), "png"));
        seeds.put("rgb16.png", Images.encode(Images.rgb16(3, 3, 1000, 30000, 65535), "png"));
        seeds.put("rgb.bmp", Images.encode(Images.redCorner(5, 3), "bmp"));
        seeds.put("animated.gif", Images.animatedGif(Images.redCorner(4, 4), Images.solid(4, 4, 0x00FF00)));
        seeds.put("lossless.webp", webpLossless(false));
        seeds.put("lossless-vp8x-alpha.webp", webpLossless(true));
        return seeds;
    }

    /** Adds an EXIF APP1 segment in Intel byte order (II) with the orientation as a SHORT. */
    private static byte[] littleEndianExif(byte[] jpeg, int orientation) {
        ByteBuffer tiff = ByteBuffer.allocate(26).order(ByteOrder.LITTLE_ENDIAN);
        tiff.put(new byte[] {'I', 'I', 42, 0, 8, 0, 0, 0});
        tiff.putShort((short) 1).putShort((short) 0x0112).putShort((short) 3).putInt(1)
                .putShort((short) orientation).putShort((short) 0).putInt(0);
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        payload.writeBytes("Exif\0\0".getBytes(StandardCharsets.ISO_8859_1));
        payload.writeBytes(tiff.array());
        return insertSegment(jpeg, 0xE1, payload.toByteArray());
    }

    /** Embeds an ICC profile as APP2 "ICC_PROFILE" segments, split into {@code parts} chunks. */
    static byte[] withIcc(byte[] jpeg, byte[] profile, int parts) {
        byte[] out = jpeg;
        int chunk = (profile.length + parts - 1) / parts;
        for (int k = parts - 1; k >= 0; k--) { // inserted at the same place, so last chunk first
            ByteArrayOutputStream payload = new ByteArrayOutputStream();
            payload.writeBytes("ICC_PROFILE\0".getBytes(StandardCharsets.US_ASCII));
            payload.write(k + 1);
            payload.write(parts);
            payload.write(profile, k * chunk, Math.min(chunk, profile.length - k * chunk));
            out = insertSegment(out, 0xE2, payload.toByteArray());
        }
        return out;
    }

    /** Inserts a segment right after SOI and the JFIF APP0 segment, if any. */
    private static byte[] insertSegment(byte[] jpeg, int marker, byte[] payload) {
        int at = 2;
        if ((jpeg[2] & 0xFF) == 0xFF && (jpeg[3] & 0xFF) == 0xE0) {
            at = 4 + (((jpeg[4] & 0xFF) << 8) | (jpeg[5] & 0xFF));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpeg, 0, at);
        out.write(0xFF);
        out.write(marker);
        out.write((payload.length + 2) >> 8);
        out.write(payload.length + 2);
        out.writeBytes(payload);
        out.write(jpeg, at, jpeg.length - at);
        return out.toByteArray();
    }

    /**
     * A 4x3 lossless WebP (VP8L) written bit by bit: no transforms, no colour cache, simple prefix
     * codes (two green values, one value for red, blue and alpha), so each pixel costs one bit.
     */
    static byte[] webpLossless(boolean extended) {
        int width = 4;
        int height = 3;
        BitWriter bits = new BitWriter();
        bits.write(0x2f, 8); // VP8L signature
        bits.write(width - 1, 14);
        bits.write(height - 1, 14);
        bits.write(extended ? 1 : 0, 1); // alpha is used
        bits.write(0, 3); // version
        bits.write(0, 1); // no transform
        bits.write(0, 1); // no colour cache
        bits.write(0, 1); // one prefix code group
        simpleCode(bits, 0x20, 0xE0); // green: two symbols, one bit each
        simpleCode(bits, 0xC0); // red
        simpleCode(bits, 0x10); // blue
        simpleCode(bits, extended ? 0x80 : 0xFF); // alpha
        simpleCode(bits, 0); // distance (unused)
        for (int i = 0; i < width * height; i++) {
            bits.write((i * 7 / 3) & 1, 1);
        }
        byte[] vp8l = bits.bytes();
        ByteArrayOutputStream chunks = new ByteArrayOutputStream();
        if (extended) {
            byte[] vp8x = new byte[10];
            vp8x[0] = 0x10; // alpha flag
            vp8x[4] = (byte) (width - 1);
            vp8x[7] = (byte) (height - 1);
            chunks.writeBytes(chunk("VP8X", vp8x));
        }
        chunks.writeBytes(chunk("VP8L", vp8l));
        byte[] body = chunks.toByteArray();
        ByteBuffer riff = ByteBuffer.allocate(12 + body.length).order(ByteOrder.LITTLE_ENDIAN);
        riff.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(4 + body.length)
                .put("WEBP".getBytes(StandardCharsets.US_ASCII)).put(body);
        return riff.array();
    }

    private static void simpleCode(BitWriter bits, int... symbols) {
        bits.write(1, 1); // simple code
        bits.write(symbols.length - 1, 1);
        bits.write(1, 1); // first symbol has 8 bits
        for (int symbol : symbols) {
            bits.write(symbol, 8);
        }
    }

    private static byte[] chunk(String fourCc, byte[] data) {
        int padded = data.length + (data.length & 1);
        ByteBuffer chunk = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        chunk.put(fourCc.getBytes(StandardCharsets.US_ASCII)).putInt(data.length).put(data);
        return chunk.array();
    }

    /** Packs bits least significant first, as VP8L reads them. */
    private static final class BitWriter {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int current;
        private int used;

        void write(int value, int count) {
            for (int i = 0; i < count; i++) {
                current |= ((value >> i) & 1) << used;
                if (++used == 8) {
                    out.write(current);
                    current = 0;
                    used = 0;
                }
            }
        }

        byte[] bytes() {
            if (used > 0) {
                out.write(current);
                current = 0;
                used = 0;
            }
            return out.toByteArray();
        }
    }
}
