package dev.tuna.data;

import dev.tuna.transform.RgbImage;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferUShort;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes image files into 8-bit sRGB {@link RgbImage}s, the way a photo viewer shows them.
 *
 * <ul>
 *   <li>the format is recognised by content (see {@link ImageFormat}), not by file name;
 *   <li>JPEG EXIF orientation and the TIFF orientation tag are applied, so a rotated phone photo comes
 *       out upright (Pillow, too, turns TIFFs upright as it loads them);
 *   <li>RGB colour profiles (of JPEG, TIFF and PSD files) are ignored, as Pillow (and so fast.ai and
 *       the ImageNet weights' training pipelines) ignore them; {@link #colorManaged(boolean)} converts
 *       them instead;
 *   <li>grayscale (8 and 16 bit) is replicated to three channels without gamma changes; 16-bit
 *       samples keep their high byte, as Pillow reduces 16-bit RGB;
 *   <li>palette images are expanded; transparent pixels are composited over white;
 *   <li>CMYK and YCCK JPEGs are converted to RGB (TwelveMonkeys' JPEG reader);
 *   <li>the first frame of an animated GIF, the first page of a TIFF, the composite of a Photoshop
 *       file and the largest image of an icon or cursor are used; data after a JPEG's end (an
 *       appended gain map or second image) is ignored, as Pillow ignores it;
 *   <li>an image whose header declares more than {@code maxPixels} pixels is refused before any
 *       pixel is decoded (decompression bombs), as is a truncated or corrupt file.
 * </ul>
 *
 * <p>Instances are immutable and safe to share between threads.
 */
public final class ImageDecoder {
    /** The default pixel budget: 100 million pixels (e.g. 10,000 × 10,000). */
    public static final long DEFAULT_MAX_PIXELS = 100_000_000L;
    /** Files larger than this are refused without being read (they are not photos). */
    public static final long MAX_FILE_BYTES = 512L * 1024 * 1024;

    private static final ImageDecoder DEFAULT = new ImageDecoder(DEFAULT_MAX_PIXELS, false);

    static {
        ImageIO.setUseCache(false);
    }

    private final long maxPixels;
    private final boolean colorManaged;

    private ImageDecoder(long maxPixels, boolean colorManaged) {
        this.maxPixels = maxPixels;
        this.colorManaged = colorManaged;
    }

    /**
     * Returns a decoder with the default pixel budget.
     *
     * @return the decoder
     */
    public static ImageDecoder standard() {
        return DEFAULT;
    }

    /**
     * Returns a decoder that refuses images with more than {@code maxPixels} pixels.
     *
     * @param maxPixels the largest width × height accepted
     * @return the decoder
     */
    public static ImageDecoder withMaxPixels(long maxPixels) {
        if (maxPixels < 1) {
            throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
        }
        return new ImageDecoder(maxPixels, false);
    }

    /**
     * Returns a decoder that converts JPEGs with a non-sRGB RGB profile (Adobe RGB, Display P3,
     * ProPhoto) to sRGB. The standard decoder, like Pillow and fast.ai, and like the pipelines that
     * trained the ImageNet weights, uses the stored values as they are.
     *
     * @param managed whether to apply RGB colour profiles
     * @return the decoder
     */
    public ImageDecoder colorManaged(boolean managed) {
        return new ImageDecoder(maxPixels, managed);
    }

    /**
     * Returns the pixel budget.
     *
     * @return the largest width × height accepted
     */
    public long maxPixels() {
        return maxPixels;
    }

    /**
     * Decodes a file.
     *
     * @param file the file
     * @return the upright RGB image
     * @throws UnreadableImageException when the file is not a readable image
     */
    public RgbImage decode(Path file) throws UnreadableImageException {
        return decode(readBytes(file));
    }

    /**
     * Decodes an image held in memory.
     *
     * @param bytes the encoded image
     * @return the upright RGB image
     * @throws UnreadableImageException when the bytes are not a readable image
     */
    public RgbImage decode(byte[] bytes) throws UnreadableImageException {
        ImageFormat format = formatOf(bytes);
        byte[] encoded = switch (format) {
            case JPEG -> JpegSegments.withoutProfile(bytes, !colorManaged);
            case PSD -> colorManaged ? bytes : psdWithoutRgbProfile(bytes);
            default -> bytes;
        };
        ImageReader reader = readerFor(format);
        List<String> warnings = new ArrayList<>();
        reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
        try (ImageInputStream input = new EndGuard(encoded)) {
            reader.setInput(input, !hasSeveralImages(format), true);
            int index = imageIndex(format, reader, bytes);
            int width = reader.getWidth(index);
            int height = reader.getHeight(index);
            checkPixelBudget(width, height);
            if (hasSeveralImages(format)) {
                checkEmbeddedPng(bytes, index);
            }
            ImageReadParam param = reader.getDefaultReadParam();
            BufferedImage image = reader.read(index, param);
            for (String warning : warnings) {
                if (isTruncation(warning)) {
                    throw new UnreadableImageException("truncated " + format.name() + " (" + warning + ")");
                }
            }
            // Pillow reduces 16-bit PPM samples by rounding, 16-bit PNG and TIFF samples to their high byte
            if (!colorManaged) {
                image = ignoringRgbProfile(image);
            }
            return ExifOrientation.apply(toRgb(image, format == ImageFormat.PNM), orientation(format, bytes));
        } catch (UnreadableImageException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // ImageIO readers throw assorted runtime exceptions on malformed input.
            String reason = describe(format, e);
            String cut = reason.startsWith("truncated") ? null : cutShort(format, bytes);
            if (cut != null) {
                reason = "truncated " + format.name() + " file (" + cut + ")";
            }
            throw new UnreadableImageException(reason, e);
        } finally {
            reader.dispose();
        }
    }

    /**
     * Reads only an image's header: its format and upright size.
     *
     * @param file the file
     * @return format, width and height (after EXIF orientation)
     * @throws UnreadableImageException when the file is not a readable image
     */
    public ImageHeader readHeader(Path file) throws UnreadableImageException {
        byte[] bytes = readBytes(file);
        ImageFormat format = formatOf(bytes);
        ImageReader reader = readerFor(format);
        try (ImageInputStream input = new EndGuard(bytes)) {
            reader.setInput(input, !hasSeveralImages(format), true);
            int index = imageIndex(format, reader, bytes);
            int width = reader.getWidth(index);
            int height = reader.getHeight(index);
            if (ExifOrientation.swapsAxes(orientation(format, bytes))) {
                return new ImageHeader(format, height, width);
            }
            return new ImageHeader(format, width, height);
        } catch (IOException | RuntimeException e) {
            throw new UnreadableImageException(describe(format, e), e);
        } finally {
            reader.dispose();
        }
    }

    /**
     * The encoded bytes as an image stream that stops a reader which keeps reading past the end.
     * TwelveMonkeys' WebP lossless decoder treats the end of the data as more zero bits and goes on,
     * paying for an exception per read: a truncated WebP that declares a million pixels then takes
     * minutes (found by fuzzing). A complete file needs at most a few reads past its end (read-ahead),
     * so after {@link #PAST_END_READS} of them the next fails with an {@link IIOException}, which the
     * decoder does not swallow.
     */
    static final class EndGuard extends MemoryCacheImageInputStream {
        /** How many reads at the end of the data are answered with "end of data" before failing. */
        static final int PAST_END_READS = 4096;
        private int pastEnd;

        EndGuard(byte[] bytes) {
            super(new ByteArrayInputStream(bytes));
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            return b < 0 ? atEnd() : b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            return n < 0 && length > 0 ? atEnd() : n;
        }

        private int atEnd() throws IIOException {
            if (++pastEnd > PAST_END_READS) {
                throw new IIOException("truncated image data: the decoder read past its end " + PAST_END_READS
                        + " times");
            }
            return -1;
        }
    }

    /**
     * An image's format and upright size, read without decoding pixels.
     *
     * @param format the format
     * @param width width in pixels
     * @param height height in pixels
     */
    public record ImageHeader(ImageFormat format, int width, int height) {}

    /**
     * The same samples read as sRGB when a reader attached an embedded RGB profile (TIFF, PSD), so
     * that they are used as stored, as Pillow uses them. CMYK, gray and palette images are unchanged.
     */
    private static BufferedImage ignoringRgbProfile(BufferedImage image) {
        ColorModel model = image.getColorModel();
        ColorSpace space = model.getColorSpace();
        if (!(model instanceof ComponentColorModel) || space.getType() != ColorSpace.TYPE_RGB || space.isCS_sRGB()) {
            return image;
        }
        try {
            ColorModel srgb = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB),
                    model.getComponentSize(), model.hasAlpha(), model.isAlphaPremultiplied(), model.getTransparency(),
                    model.getTransferType());
            return new BufferedImage(srgb, image.getRaster(), model.isAlphaPremultiplied(), null);
        } catch (IllegalArgumentException e) {
            return image; // a layout the plain model cannot describe: keep the reader's conversion
        }
    }

    /**
     * A Photoshop file whose RGB ICC profile resource (1039) is renamed so the reader does not convert
     * with it (the PSD reader converts while it reads): a copy, or the same array when there is none.
     */
    static byte[] psdWithoutRgbProfile(byte[] psd) {
        if (psd.length < 34 || psd[24] != 0 || psd[25] != 3) {
            return psd; // not RGB (colour mode 3): a CMYK profile is needed for the conversion
        }
        long at = 26 + 4 + u32be(psd, 26);
        if (at + 4 > psd.length) {
            return psd;
        }
        long end = Math.min(psd.length, at + 4 + u32be(psd, (int) at));
        at += 4;
        while (at + 12 <= end && psd[(int) at] == '8' && psd[(int) at + 1] == 'B' && psd[(int) at + 2] == 'I'
                && psd[(int) at + 3] == 'M') {
            int id = ((psd[(int) at + 4] & 0xFF) << 8) | (psd[(int) at + 5] & 0xFF);
            int nameLength = psd[(int) at + 6] & 0xFF;
            long sizeAt = at + 6 + ((nameLength + 2) & ~1); // Pascal string padded to an even length
            if (sizeAt + 4 > end) {
                return psd;
            }
            if (id == 1039) {
                byte[] copy = psd.clone();
                copy[(int) at + 4] = (byte) 0x0F; // 4000: a plug-in resource, which readers skip
                copy[(int) at + 5] = (byte) 0xA0;
                return copy;
            }
            long size = u32be(psd, (int) sizeAt);
            at = sizeAt + 4 + size + (size & 1);
        }
        return psd;
    }

    /** Formats whose image is chosen among several: the decoder reads their directory first. */
    private static boolean hasSeveralImages(ImageFormat format) {
        return format == ImageFormat.ICO || format == ImageFormat.CUR;
    }

    /**
     * Which image of the file to decode: for icons and cursors the largest, as Pillow picks it (the
     * most pixels; then, for icons, the most bits per pixel as the icon directory declares them; then
     * the later entry for icons, the earlier for cursors); for every other format the first (a TIFF's
     * first page, a PSD's composite, a GIF's first frame, the primary image of a JPEG).
     */
    private static int imageIndex(ImageFormat format, ImageReader reader, byte[] bytes) throws IOException {
        if (!hasSeveralImages(format)) {
            return 0;
        }
        int count = reader.getNumImages(true);
        int best = 0;
        long bestArea = -1;
        int bestBits = -1;
        for (int i = 0; i < count; i++) {
            long area = (long) reader.getWidth(i) * reader.getHeight(i);
            int bits = format == ImageFormat.ICO ? iconBitCount(bytes, i) : 0;
            boolean better = format == ImageFormat.ICO
                    ? area > bestArea || (area == bestArea && bits >= bestBits)
                    : area > bestArea;
            if (better) {
                best = i;
                bestArea = area;
                bestBits = bits;
            }
        }
        return best;
    }

    /**
     * An icon's image may be a whole PNG, whose own header holds its true size (the icon directory
     * only says 256 for anything larger than 255): checks that size against the budget too, before
     * the PNG is decoded.
     */
    private void checkEmbeddedPng(byte[] ico, int i) throws UnreadableImageException {
        int entry = 6 + 16 * i;
        if (entry + 16 > ico.length) {
            return;
        }
        long at = u32le(ico, entry + 12);
        if (at >= 0 && at + 24 <= ico.length && ImageFormat.sniff(java.util.Arrays.copyOfRange(ico, (int) at,
                (int) at + 8), 8).orElse(null) == ImageFormat.PNG) {
            int p = (int) at + 16; // IHDR: width and height, big-endian, after the signature and chunk header
            long width = u32be(ico, p);
            long height = u32be(ico, p + 4);
            checkPixelBudget((int) Math.min(width, Integer.MAX_VALUE), (int) Math.min(height, Integer.MAX_VALUE));
        }
    }

    private static long u32be(byte[] b, int at) {
        return ((b[at] & 0xFFL) << 24) | ((b[at + 1] & 0xFFL) << 16) | ((b[at + 2] & 0xFFL) << 8) | (b[at + 3] & 0xFFL);
    }

    /** The bits per pixel an icon directory declares for entry {@code i} (0 when it does not say). */
    private static int iconBitCount(byte[] ico, int i) {
        int at = 6 + 16 * i + 6;
        return at + 2 <= ico.length ? (ico[at] & 0xFF) | ((ico[at + 1] & 0xFF) << 8) : 0;
    }

    /** The orientation a file declares (JPEG EXIF, TIFF tag 274), 1 when none. */
    private static int orientation(ImageFormat format, byte[] bytes) {
        return switch (format) {
            case JPEG -> ExifOrientation.read(bytes);
            case TIFF -> ExifOrientation.readTiff(bytes);
            default -> 1;
        };
    }

    static byte[] readBytes(Path file) throws UnreadableImageException {
        try {
            long size = Files.size(file);
            if (size == 0) {
                throw new UnreadableImageException("empty file (0 bytes)");
            }
            if (size > MAX_FILE_BYTES) {
                throw new UnreadableImageException(
                        "file too large for an image (" + size + " bytes; limit " + MAX_FILE_BYTES + ")");
            }
            return Files.readAllBytes(file);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new UnreadableImageException("permission denied", e);
        } catch (IOException e) {
            throw new UnreadableImageException(e instanceof java.nio.file.NoSuchFileException ? "file not found"
                    : "cannot read file: " + e.getMessage(), e);
        }
    }

    private static ImageFormat formatOf(byte[] bytes) throws UnreadableImageException {
        if (bytes.length == 0) {
            throw new UnreadableImageException("empty file (0 bytes)");
        }
        Optional<ImageFormat> format = ImageFormat.sniff(bytes, Math.min(bytes.length, ImageFormat.HEADER_BYTES));
        if (format.isEmpty()) {
            throw new UnreadableImageException("not an image: content is not " + ImageFormat.NAMES);
        }
        return format.get();
    }

    private static ImageReader readerFor(ImageFormat format) throws UnreadableImageException {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.imageIoName());
        ImageReader chosen = null;
        while (readers.hasNext()) {
            ImageReader candidate = readers.next();
            // TwelveMonkeys' JPEG reader handles CMYK/YCCK and broken ICC profiles; prefer it.
            if (chosen == null || candidate.getClass().getName().startsWith("com.twelvemonkeys")) {
                chosen = candidate;
            }
        }
        if (chosen == null) {
            throw new UnreadableImageException(
                    format.name() + " image, but no " + format.name() + " reader is installed");
        }
        return chosen;
    }

    /**
     * Checks a size against the pixel budget, as {@link #decode(byte[])} does with a header's size
     * before decoding; for callers that receive images already decoded.
     *
     * @param width width in pixels
     * @param height height in pixels
     * @throws UnreadableImageException ("image too large: ...") when {@code width × height} exceeds
     *     the budget, or ("invalid image size ...") when a side is not positive
     */
    public void checkPixelBudget(int width, int height) throws UnreadableImageException {
        long pixels = (long) width * height;
        if (width <= 0 || height <= 0) {
            throw new UnreadableImageException("invalid image size " + width + "x" + height);
        }
        if (pixels > maxPixels) {
            throw new UnreadableImageException(String.format(Locale.ROOT,
                    "image too large: %dx%d = %,d pixels exceeds the limit of %,d (possible decompression bomb)",
                    width, height, pixels, maxPixels));
        }
    }

    /**
     * Why a file that failed to decode looks cut short, or null: it lacks its format's end marker
     * (JPEG EOI, PNG IEND), or a TIFF's first directory or an icon's image lies past its end.
     */
    private static String cutShort(ImageFormat format, byte[] bytes) {
        int n = bytes.length;
        String noEnd = "it ends without the " + format.name() + " end marker";
        return switch (format) {
            case JPEG -> n < 4 || !containsNear(bytes, new byte[] {(byte) 0xFF, (byte) 0xD9}, 64) ? noEnd : null;
            case PNG -> n < 12 || !containsNear(bytes, new byte[] {'I', 'E', 'N', 'D'}, 64) ? noEnd : null;
            case TIFF -> tiffDirectoryEnd(bytes) > n ? "its image directory lies beyond the end of the file" : null;
            case ICO, CUR -> iconDataEnd(bytes) > n ? "an image lies beyond the end of the file" : null;
            case TGA -> tgaDataEnd(bytes) > n ? "it ends before its pixels do" : null;
            default -> null;
        };
    }

    /** Where a TIFF's (or BigTIFF's) first image directory ends, as its header and entry count say. */
    private static long tiffDirectoryEnd(byte[] b) {
        boolean little = b[0] == 'I';
        boolean big = (little ? b[2] : b[3]) == 43;
        long offset = unsigned(b, big ? 8 : 4, big ? 8 : 4, little);
        int countBytes = big ? 8 : 2;
        if (offset > b.length - countBytes) {
            return Long.MAX_VALUE;
        }
        long count = unsigned(b, (int) offset, countBytes, little);
        long entries = big ? 20 : 12;
        return count > b.length ? Long.MAX_VALUE : offset + countBytes + count * entries + (big ? 8 : 4);
    }

    /** An unsigned integer of {@code size} bytes at {@code at}; Long.MAX_VALUE past the end or when negative. */
    private static long unsigned(byte[] b, int at, int size, boolean little) {
        if (at < 0 || at + size > b.length) {
            return Long.MAX_VALUE;
        }
        long value = 0;
        for (int i = 0; i < size; i++) {
            value = (value << 8) | (b[little ? at + size - 1 - i : at + i] & 0xFF);
        }
        return value < 0 ? Long.MAX_VALUE : value;
    }

    /**
     * Where a TGA's pixels end at the least: after the header, image id and colour map, one byte of
     * pixel data for a run-length encoded image, every pixel for an uncompressed one.
     */
    private static long tgaDataEnd(byte[] b) {
        int type = b[2] & 0xFF;
        long mapBytes = (b[1] & 0xFF) == 1 ? ((b[5] & 0xFF) | ((b[6] & 0xFF) << 8)) * (((b[7] & 0xFF) + 7L) / 8) : 0;
        long start = 18L + (b[0] & 0xFF) + mapBytes;
        long pixels = (long) ((b[12] & 0xFF) | ((b[13] & 0xFF) << 8)) * ((b[14] & 0xFF) | ((b[15] & 0xFF) << 8));
        return start + (type >= 9 ? 1 : pixels * (((b[16] & 0xFF) + 7) / 8));
    }

    /** The end of the furthest image an icon or cursor directory points to. */
    private static long iconDataEnd(byte[] b) {
        int count = (b[4] & 0xFF) | ((b[5] & 0xFF) << 8);
        long end = 6L + 16L * count;
        for (int i = 0; i < count && 6 + 16 * (i + 1) <= b.length; i++) {
            int entry = 6 + 16 * i;
            end = Math.max(end, u32le(b, entry + 12) + u32le(b, entry + 8));
        }
        return end;
    }

    private static long u32le(byte[] b, int at) {
        return (b[at] & 0xFFL) | ((b[at + 1] & 0xFFL) << 8) | ((b[at + 2] & 0xFFL) << 16) | ((b[at + 3] & 0xFFL) << 24);
    }

    private static boolean containsNear(byte[] bytes, byte[] marker, int window) {
        for (int i = bytes.length - marker.length; i >= Math.max(0, bytes.length - window); i--) {
            if (java.util.Arrays.equals(bytes, i, i + marker.length, marker, 0, marker.length)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isTruncation(String warning) {
        String lower = warning.toLowerCase(Locale.ROOT);
        return lower.contains("premature") || lower.contains("truncat") || lower.contains("end of file")
                || lower.contains("eof");
    }

    private static String describe(ImageFormat format, Exception e) {
        String message = e.getMessage();
        String lower = message == null ? "" : message.toLowerCase(Locale.ROOT);
        if (e instanceof java.io.EOFException || lower.contains("eof") || lower.contains("premature")
                || lower.contains("truncat") || lower.contains("end of file")) {
            return "truncated " + format.name() + " file";
        }
        return "corrupt " + format.name() + " file ("
                + (message == null ? e.getClass().getSimpleName() : message) + ")";
    }

    /**
     * Converts any in-memory image into 8-bit RGB with the decoder's rules: gray samples replicated
     * as they are (no gamma change), palettes expanded, transparent pixels composited over white.
     *
     * @param image the image
     * @return RGB pixels
     */
    public static RgbImage toRgb(BufferedImage image) {
        return toRgb(image, false);
    }

    private static RgbImage toRgb(BufferedImage image, boolean roundSixteenBit) {
        int width = image.getWidth();
        int height = image.getHeight();
        byte[] out = new byte[width * height * 3];
        Raster raster = image.getRaster();
        ColorModel model = image.getColorModel();
        int type = image.getType();
        if (type == BufferedImage.TYPE_3BYTE_BGR && isPacked(raster, width * 3)) {
            byte[] bgr = ((DataBufferByte) raster.getDataBuffer()).getData();
            for (int i = 0; i < out.length; i += 3) {
                out[i] = bgr[i + 2];
                out[i + 1] = bgr[i + 1];
                out[i + 2] = bgr[i];
            }
        } else if (type == BufferedImage.TYPE_4BYTE_ABGR && isPacked(raster, width * 4)) {
            // RGBA PNGs and WebPs, read straight from the bytes: getRGB costs about a microsecond a pixel
            byte[] abgr = ((DataBufferByte) raster.getDataBuffer()).getData();
            for (int i = 0, o = 0; o < out.length; i += 4, o += 3) {
                putOverWhite(out, o, abgr[i] & 0xFF, abgr[i + 3] & 0xFF, abgr[i + 2] & 0xFF, abgr[i + 1] & 0xFF);
            }
        } else if (model.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(model instanceof IndexColorModel)) {
            grayToRgb(raster, model, out);
        } else if (raster.getDataBuffer() instanceof DataBufferUShort && model instanceof ComponentColorModel
                && model.getColorSpace().isCS_sRGB() && !model.isAlphaPremultiplied()
                && raster.getNumBands() == (model.hasAlpha() ? 4 : 3)) {
            rgb16ToRgb(raster, model.hasAlpha(), roundSixteenBit, out);
        } else if (model instanceof IndexColorModel palette && raster.getNumBands() == 1) {
            // GIFs and palette PNGs: look the indices up in the palette once read
            int[] colours = new int[palette.getMapSize()];
            palette.getRGBs(colours);
            int[] row = new int[width];
            for (int y = 0, o = 0; y < height; y++) {
                raster.getSamples(0, y, width, 1, 0, row);
                for (int x = 0; x < width; x++, o += 3) {
                    int index = row[x];
                    putArgb(out, o, index < colours.length ? colours[index] : palette.getRGB(index));
                }
            }
        } else {
            int[] row = new int[width];
            for (int y = 0; y < height; y++) {
                image.getRGB(0, y, width, 1, row, 0, width);
                int o = y * width * 3;
                for (int x = 0; x < width; x++, o += 3) {
                    putArgb(out, o, row[x]);
                }
            }
        }
        return new RgbImage(width, height, out);
    }

    private static void putArgb(byte[] out, int o, int argb) {
        putOverWhite(out, o, argb >>> 24, (argb >> 16) & 0xFF, (argb >> 8) & 0xFF, argb & 0xFF);
    }

    /** Writes one RGB pixel, composited over white unless opaque. */
    private static void putOverWhite(byte[] out, int o, int alpha, int r, int g, int b) {
        if (alpha != 255) {
            r = overWhite(r, alpha);
            g = overWhite(g, alpha);
            b = overWhite(b, alpha);
        }
        out[o] = (byte) r;
        out[o + 1] = (byte) g;
        out[o + 2] = (byte) b;
    }

    private static boolean isPacked(Raster raster, int scanline) {
        return raster.getDataBuffer().getNumBanks() == 1
                && raster.getSampleModelTranslateX() == 0 && raster.getSampleModelTranslateY() == 0
                && ((DataBufferByte) raster.getDataBuffer()).getData().length == scanline * raster.getHeight();
    }

    /** Gray (with optional alpha) read straight from the samples: Java's gray space is linear, files are not. */
    private static void grayToRgb(Raster raster, ColorModel model, byte[] out) {
        int width = raster.getWidth();
        int height = raster.getHeight();
        int bits = model.getComponentSize(0);
        boolean alpha = model.hasAlpha() && raster.getNumBands() > 1;
        int alphaBits = alpha ? model.getComponentSize(1) : 8;
        boolean fast16 = raster.getDataBuffer() instanceof DataBufferUShort && !alpha;
        int[] gray = new int[width];
        int[] transparency = alpha ? new int[width] : null;
        int o = 0;
        for (int y = 0; y < height; y++) {
            raster.getSamples(0, y, width, 1, 0, gray);
            if (alpha) {
                raster.getSamples(0, y, width, 1, 1, transparency);
            }
            for (int x = 0; x < width; x++) {
                int v = fast16 ? gray[x] >> 8 : scaleTo8(gray[x], bits);
                if (alpha) {
                    v = overWhite(v, scaleTo8(transparency[x], alphaBits));
                }
                out[o++] = (byte) v;
                out[o++] = (byte) v;
                out[o++] = (byte) v;
            }
        }
    }

    /**
     * 16-bit RGB(A) to 8 bits as Pillow does: the high byte of each sample (PNG, TIFF), or the nearest
     * 8-bit level when {@code round} is set (Pillow's PPM reader).
     */
    private static void rgb16ToRgb(Raster raster, boolean alpha, boolean round, byte[] out) {
        int width = raster.getWidth();
        int bands = alpha ? 4 : 3;
        int[] row = new int[width * bands];
        int o = 0;
        for (int y = 0; y < raster.getHeight(); y++) {
            raster.getPixels(0, y, width, 1, row);
            for (int x = 0; x < width; x++) {
                int at = x * bands;
                int a = alpha ? to8(row[at + 3], round) : 255;
                for (int c = 0; c < 3; c++) {
                    int v = to8(row[at + c], round);
                    out[o++] = (byte) (a == 255 ? v : overWhite(v, a));
                }
            }
        }
    }

    private static int to8(int sixteenBit, boolean round) {
        return round ? (sixteenBit * 255 + 32767) / 65535 : sixteenBit >> 8;
    }

    private static int scaleTo8(int value, int bits) {
        if (bits == 8) {
            return value;
        }
        if (bits > 8) {
            return value >> (bits - 8);
        }
        int max = (1 << bits) - 1;
        return (value * 255 + max / 2) / max;
    }

    private static int overWhite(int value, int alpha) {
        return (value * alpha + 255 * (255 - alpha) + 127) / 255;
    }
}
