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
    WEBP("webp");

    /** How many leading bytes {@link #sniff(byte[], int)} needs to decide. */
    public static final int HEADER_BYTES = 12;

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
        return Optional.empty();
    }

    /**
     * Whether a file name has an extension commonly used for images (used only to decide whether a
     * file that is not an image deserves a warning).
     *
     * @param fileName the file name
     * @return true for .jpg, .jpeg, .png, .bmp, .gif, .webp and similar
     */
    public static boolean hasImageExtension(String fileName) {
        String lower = fileName.toLowerCase(java.util.Locale.ROOT);
        int dot = lower.lastIndexOf('.');
        if (dot < 0) {
            return false;
        }
        return switch (lower.substring(dot + 1)) {
            case "jpg", "jpeg", "jpe", "jfif", "png", "bmp", "dib", "gif", "webp", "tif", "tiff" -> true;
            default -> false;
        };
    }

    private static int u(byte b) {
        return b & 0xFF;
    }
}
