package dev.tuna.data;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Walks the metadata segments of a JPEG (everything before the first scan) and edits them:
 * the EXIF orientation is read here, and sRGB ICC profiles are dropped before decoding.
 */
final class JpegSegments {
    private static final byte[] ICC_ID = "ICC_PROFILE\0".getBytes(StandardCharsets.US_ASCII);

    private JpegSegments() {}

    /** Receives one segment: its marker and the payload range {@code [start, end)}. */
    @FunctionalInterface
    interface Visitor {
        /** Returns false to stop the walk. */
        boolean visit(int marker, int start, int end);
    }

    /** Visits the segments before the first scan; stops early on malformed data. */
    static void walk(byte[] jpeg, Visitor visitor) {
        int pos = 2;
        while (pos + 4 <= jpeg.length) {
            if ((jpeg[pos] & 0xFF) != 0xFF) {
                return;
            }
            int marker = jpeg[pos + 1] & 0xFF;
            if (marker == 0xFF) { // fill byte
                pos++;
                continue;
            }
            if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                pos += 2;
                continue;
            }
            if (marker == 0xDA || marker == 0xD9) { // start of scan or end of image
                return;
            }
            int length = ((jpeg[pos + 2] & 0xFF) << 8) | (jpeg[pos + 3] & 0xFF);
            int end = pos + 2 + length;
            if (length < 2 || end > jpeg.length) {
                return;
            }
            if (!visitor.visit(marker, pos + 4, end)) {
                return;
            }
            pos = end;
        }
    }

    /**
     * Removes the embedded RGB ICC profile when {@code allRgb} is set (decode the stored values as
     * they are, as Pillow and therefore fast.ai do) or when it describes sRGB (which the decoder
     * assumes anyway: converting sRGB to sRGB changes nothing visible but costs several times the
     * decode). CMYK profiles are always kept: the CMYK conversion needs them.
     *
     * @param jpeg the file
     * @param allRgb whether to drop every RGB profile, not only sRGB ones
     * @return the same array, or a copy without the APP2 ICC segments
     */
    static byte[] withoutProfile(byte[] jpeg, boolean allRgb) {
        ByteArrayOutputStream profile = new ByteArrayOutputStream();
        int[] range = {-1, -1};
        boolean[] contiguous = {true};
        walk(jpeg, (marker, start, end) -> {
            if (marker == 0xE2 && startsWith(jpeg, start, end, ICC_ID) && end - start > ICC_ID.length + 2) {
                if (range[0] < 0) {
                    range[0] = start - 4;
                } else if (range[1] != start - 4) {
                    contiguous[0] = false;
                }
                range[1] = end;
                profile.write(jpeg, start + ICC_ID.length + 2, end - start - ICC_ID.length - 2);
            }
            return true;
        });
        byte[] icc = profile.toByteArray();
        if (range[0] < 0 || !contiguous[0] || !isRgb(icc) || !(allRgb || describesSrgb(icc))) {
            return jpeg;
        }
        byte[] out = new byte[jpeg.length - (range[1] - range[0])];
        System.arraycopy(jpeg, 0, out, 0, range[0]);
        System.arraycopy(jpeg, range[1], out, range[0], jpeg.length - range[1]);
        return out;
    }

    /** Whether an ICC profile's data colour space is RGB. */
    static boolean isRgb(byte[] icc) {
        return icc.length >= 132 && icc[16] == 'R' && icc[17] == 'G' && icc[18] == 'B';
    }

    /** Whether an ICC profile is an RGB display profile whose description names sRGB. */
    static boolean describesSrgb(byte[] icc) {
        if (!isRgb(icc)) {
            return false;
        }
        long count = u32(icc, 128);
        for (int k = 0; k < count && 132 + 12 * (k + 1) <= icc.length; k++) {
            int entry = 132 + 12 * k;
            if (icc[entry] == 'd' && icc[entry + 1] == 'e' && icc[entry + 2] == 's' && icc[entry + 3] == 'c') {
                long offset = u32(icc, entry + 4);
                long size = u32(icc, entry + 8);
                if (offset < 0 || offset + size > icc.length) {
                    return false;
                }
                String text = new String(icc, (int) offset, (int) size, StandardCharsets.ISO_8859_1);
                // 'desc' (v2) stores ASCII; 'mluc' (v4) stores UTF-16BE: drop the zero bytes.
                return text.replace("\0", "").contains("sRGB");
            }
        }
        return false;
    }

    static boolean startsWith(byte[] data, int start, int end, byte[] prefix) {
        if (end - start < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (data[start + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static long u32(byte[] b, int at) {
        return ((long) (b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8)
                | (b[at + 3] & 0xFF);
    }
}
