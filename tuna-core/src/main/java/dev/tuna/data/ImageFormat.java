package dev.tuna.data;

import java.util.Optional;

/** The image file formats Tuna reads, recognised by their content (magic bytes), not their name. */
public enum ImageFormat {
    /** JPEG (JFIF, EXIF, Adobe; RGB, grayscale, CMYK and YCCK). */
    JPEG("jpeg"),
    /** PNG, including palette, 16-bit and alpha. */
    PNG("png"),
    /** Windows bitmap. */
    BMP("bmp"),
    /** GIF; the first frame of an animation is used. */
    GIF("gif"),
    /** WebP, when an ImageIO WebP reader is on the class path (Tuna ships TwelveMonkeys'). */
    WEBP("webp"),
    /**
     * TIFF and BigTIFF (8/16-bit; RGB, gray, palette, bilevel, CMYK; uncompressed, LZW, Deflate,
     * PackBits, JPEG, CCITT); the first page of a multi-page file is used.
     */
    TIFF("tiff"),
    /** Netpbm: PBM, PGM, PPM (plain and raw, any maximum value) and PAM. */
    PNM("pnm"),
    /** Truevision TGA (raw and run-length encoded). TGA has no magic number: see {@link #sniff}. */
    TGA("tga"),
    /** Windows icon; the largest image in the file is used. */
    ICO("ico"),
    /** Windows cursor; the largest image in the file is used. */
    CUR("cur"),
    /** Photoshop (PSD and PSB); the flattened composite image is used. */
    PSD("psd");

    /** How many leading bytes {@link #sniff(byte[], int)} needs to decide (a TGA header is 18 bytes). */
    public static final int HEADER_BYTES = 18;

    /** The formats, as a list for messages: "JPEG, PNG, ... or PSD". */
    public static final String NAMES = "JPEG, PNG, BMP, GIF, WebP, TIFF, PNM (PPM/PGM/PBM), TGA, ICO/CUR or PSD";

    private final String imageIoName;

    ImageFormat(String imageIoName) {
        this.imageIoName = imageIoName;
    }

    /**
     * Returns the format name ImageIO uses for this format.
     *
     * @return the ImageIO format name
     */
    public String imageIoName() {
        return imageIoName;
    }

    /**
     * Recognises a format from a file's first bytes.
     *
     * @param header the first bytes of the file
     * @param length how many of them are valid
     * @return the format, or empty when the bytes are not one Tuna reads
     */
    public static Optional<ImageFormat> sniff(byte[] header, int length) {
        if (length >= 3 && u(header[0]) == 0xFF && u(header[1]) == 0xD8 && u(header[2]) == 0xFF) {
            return Optional.of(JPEG);
        }
        if (length >= 8 && u(header[0]) == 0x89 && header[1] == 'P' && header[2] == 'N' && header[3] == 'G'
                && header[4] == 0x0D && header[5] == 0x0A && header[6] == 0x1A && header[7] == 0x0A) {
            return Optional.of(PNG);
        }
        if (length >= 6 && header[0] == 'G' && header[1] == 'I' && header[2] == 'F' && header[3] == '8'
                && (header[4] == '7' || header[4] == '9') && header[5] == 'a') {
            return Optional.of(GIF);
        }
        if (length >= 12 && header[0] == 'R' && header[1] == 'I' && header[2] == 'F' && header[3] == 'F'
                && header[8] == 'W' && header[9] == 'E' && header[10] == 'B' && header[11] == 'P') {
            return Optional.of(WEBP);
        }
        if (length >= 2 && header[0] == 'B' && header[1] == 'M') {
            return Optional.of(BMP);
        }
        if (length >= 4 && ((header[0] == 'I' && header[1] == 'I' && (header[2] == 42 || header[2] == 43)
                && header[3] == 0) || (header[0] == 'M' && header[1] == 'M' && header[2] == 0
                && (header[3] == 42 || header[3] == 43)))) {
            return Optional.of(TIFF); // 42: TIFF, 43: BigTIFF
        }
        if (length >= 6 && header[0] == '8' && header[1] == 'B' && header[2] == 'P' && header[3] == 'S'
                && header[4] == 0 && (header[5] == 1 || header[5] == 2)) {
            return Optional.of(PSD); // version 1: PSD, 2: PSB
        }
        if (length >= 3 && header[0] == 'P' && header[1] >= '1' && header[1] <= '7' && isPnmSpace(header[2])) {
            return Optional.of(PNM);
        }
        if (length >= 6 && header[0] == 0 && header[1] == 0 && (header[2] == 1 || header[2] == 2) && header[3] == 0
                && (header[4] != 0 || header[5] != 0)) {
            return Optional.of(header[2] == 1 ? ICO : CUR);
        }
        if (length >= 18 && looksLikeTga(header)) {
            return Optional.of(TGA);
        }
        return Optional.empty();
    }

    private static boolean isPnmSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r';
    }

    /**
     * TGA files start with an 18-byte header and no magic number, so (as Pillow does) a file is taken
     * for a TGA when every header field holds a value the format allows: a colour-map type of 0 or 1
     * that agrees with the image type (colour-mapped, true-colour or gray, raw or run-length
     * encoded), a colour-map entry size TGA knows, a bit depth that fits the image type, a non-zero
     * width and height, and the two reserved descriptor bits clear. Random or text data passes all
     * of these about once in ten million files.
     */
    private static boolean looksLikeTga(byte[] h) {
        int colorMapType = u(h[1]);
        int imageType = u(h[2]);
        int mapLength = u(h[5]) | (u(h[6]) << 8);
        int mapEntryBits = u(h[7]);
        int width = u(h[12]) | (u(h[13]) << 8);
        int height = u(h[14]) | (u(h[15]) << 8);
        int depth = u(h[16]);
        int descriptor = u(h[17]);
        if (width == 0 || height == 0 || (descriptor & 0xC0) != 0 || (descriptor & 0x0F) > 8) {
            return false;
        }
        boolean mapped = imageType == 1 || imageType == 9;
        boolean trueColor = imageType == 2 || imageType == 10;
        boolean gray = imageType == 3 || imageType == 11;
        if (mapped) {
            return colorMapType == 1 && mapLength > 0 && isTgaEntrySize(mapEntryBits) && (depth == 8 || depth == 16);
        }
        boolean mapFieldsValid = colorMapType == 1 ? isTgaEntrySize(mapEntryBits)
                : colorMapType == 0 && (mapEntryBits == 0 || isTgaEntrySize(mapEntryBits));
        if (!mapFieldsValid) {
            return false;
        }
        return (trueColor && (depth == 15 || depth == 16 || depth == 24 || depth == 32))
                || (gray && (depth == 8 || depth == 16));
    }

    private static boolean isTgaEntrySize(int bits) {
        return bits == 15 || bits == 16 || bits == 24 || bits == 32;
    }

    /**
     * Whether a file name has an extension commonly used for images (used only to decide whether a
     * file that is not an image deserves a warning).
     *
     * @param fileName the file name
     * @return true for .jpg, .jpeg, .png, .bmp, .gif, .webp, .tif, .ppm, .tga, .ico, .psd and similar
     */
    public static boolean hasImageExtension(String fileName) {
        String lower = fileName.toLowerCase(java.util.Locale.ROOT);
        int dot = lower.lastIndexOf('.');
        if (dot < 0) {
            return false;
        }
        return switch (lower.substring(dot + 1)) {
            case "jpg", "jpeg", "jpe", "jfif", "png", "bmp", "dib", "gif", "webp", "tif", "tiff", "ppm", "pgm",
                    "pbm", "pnm", "pam", "tga", "icb", "vda", "vst", "ico", "cur", "psd", "psb" -> true;
            default -> false;
        };
    }

    private static int u(byte b) {
        return b & 0xFF;
    }
}
