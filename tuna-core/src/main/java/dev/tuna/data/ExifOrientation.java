package dev.tuna.data;

import dev.tuna.transform.RgbImage;

/**
 * Reads the orientation tag (0x0112) of a JPEG's EXIF data or a TIFF's first directory, and applies
 * it to decoded pixels.
 *
 * <p>Values follow the EXIF specification: 1 upright, 2 mirrored, 3 rotated 180°, 4 flipped
 * vertically, 5 transposed, 6 rotated 90° clockwise, 7 transversed, 8 rotated 90° counter-clockwise.
 */
final class ExifOrientation {
    private static final int ORIENTATION_TAG = 0x0112;
    private static final byte[] EXIF_ID = {'E', 'x', 'i', 'f', 0, 0};

    private ExifOrientation() {}

    /**
     * Finds the orientation in a JPEG's APP1 Exif segment.
     *
     * @param jpeg the file's bytes
     * @return 1–8, or 1 when absent or malformed
     */
    static int read(byte[] jpeg) {
        int[] found = {1};
        JpegSegments.walk(jpeg, (marker, start, end) -> {
            if (marker == 0xE1 && end - start > 14 && JpegSegments.startsWith(jpeg, start, end, EXIF_ID)) {
                int value = readTiffOrientation(jpeg, start + 6, end);
                if (value != 0) {
                    found[0] = value;
                    return false;
                }
            }
            return true;
        });
        return found[0];
    }

    /**
     * Finds the orientation tag in the first image directory of a TIFF (or BigTIFF) file.
     *
     * @param tiff the file's bytes
     * @return 1–8, or 1 when absent or malformed
     */
    static int readTiff(byte[] tiff) {
        if (tiff.length >= 16 && (tiff[0] == 'I' || tiff[0] == 'M')) {
            boolean little = tiff[0] == 'I';
            if (u16(tiff, 2, little) == 43) {
                int value = readBigTiffOrientation(tiff, little);
                return value == 0 ? 1 : value;
            }
        }
        int value = tiff.length >= 8 ? readTiffOrientation(tiff, 0, tiff.length) : 0;
        return value == 0 ? 1 : value;
    }

    /** BigTIFF: 8-byte offsets and counts, 20-byte directory entries with the value in their last 8. */
    private static int readBigTiffOrientation(byte[] b, boolean little) {
        long ifd = u64(b, 8, little);
        if (ifd < 16 || ifd + 8 > b.length) {
            return 0;
        }
        long count = u64(b, (int) ifd, little);
        for (long i = 0; i < count; i++) {
            long entry = ifd + 8 + i * 20;
            if (entry + 20 > b.length) {
                return 0;
            }
            if (u16(b, (int) entry, little) == ORIENTATION_TAG) {
                int value = u16(b, (int) entry + 12, little);
                return value >= 1 && value <= 8 ? value : 0;
            }
        }
        return 0;
    }

    private static int readTiffOrientation(byte[] b, int tiff, int end) {
        boolean little;
        if (b[tiff] == 'I' && b[tiff + 1] == 'I') {
            little = true;
        } else if (b[tiff] == 'M' && b[tiff + 1] == 'M') {
            little = false;
        } else {
            return 0;
        }
        long ifd = u32(b, tiff + 4, little);
        long entriesAt = tiff + ifd;
        if (ifd < 8 || entriesAt + 2 > end) {
            return 0;
        }
        int count = u16(b, (int) entriesAt, little);
        for (int i = 0; i < count; i++) {
            int entry = (int) entriesAt + 2 + i * 12;
            if (entry + 12 > end) {
                return 0;
            }
            if (u16(b, entry, little) == ORIENTATION_TAG) {
                int type = u16(b, entry + 2, little);
                int value = type == 3 ? u16(b, entry + 8, little) : (int) u32(b, entry + 8, little);
                return value >= 1 && value <= 8 ? value : 0;
            }
        }
        return 0;
    }

    private static int u16(byte[] b, int at, boolean little) {
        int a = b[at] & 0xFF;
        int c = b[at + 1] & 0xFF;
        return little ? a | (c << 8) : (a << 8) | c;
    }

    private static long u32(byte[] b, int at, boolean little) {
        long hi = u16(b, little ? at + 2 : at, little);
        long lo = u16(b, little ? at : at + 2, little);
        return (hi << 16) | lo;
    }

    private static long u64(byte[] b, int at, boolean little) {
        long first = u32(b, at, little);
        long second = u32(b, at + 4, little);
        long value = little ? (second << 32) | first : (first << 32) | second;
        return value < 0 ? Long.MAX_VALUE : value;
    }

    /**
     * Whether an orientation swaps width and height.
     *
     * @param orientation 1–8
     * @return true for 5–8
     */
    static boolean swapsAxes(int orientation) {
        return orientation >= 5 && orientation <= 8;
    }

    /**
     * Turns stored pixels upright.
     *
     * @param image the pixels as stored
     * @param orientation the EXIF orientation, 1–8
     * @return the upright image (the same instance for orientation 1)
     */
    static RgbImage apply(RgbImage image, int orientation) {
        if (orientation <= 1 || orientation > 8) {
            return image;
        }
        int w = image.width();
        int h = image.height();
        boolean swap = swapsAxes(orientation);
        int outW = swap ? h : w;
        int outH = swap ? w : h;
        byte[] src = image.pixels();
        byte[] dst = new byte[src.length];
        int o = 0;
        for (int y = 0; y < outH; y++) {
            for (int x = 0; x < outW; x++) {
                int sx;
                int sy;
                switch (orientation) {
                    case 2 -> { sx = w - 1 - x; sy = y; }
                    case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }
                    case 4 -> { sx = x; sy = h - 1 - y; }
                    case 5 -> { sx = y; sy = x; }
                    case 6 -> { sx = y; sy = h - 1 - x; }
                    case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }
                    default -> { sx = w - 1 - y; sy = x; } // 8
                }
                int s = (sy * w + sx) * 3;
                dst[o++] = src[s];
                dst[o++] = src[s + 1];
                dst[o++] = src[s + 2];
            }
        }
        return new RgbImage(outW, outH, dst);
    }
}
