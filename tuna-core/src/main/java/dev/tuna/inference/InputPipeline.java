package dev.tuna.inference;

import dev.tuna.transform.Normalization;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.Resize;
import dev.tuna.transform.ResizeMethod;
import dev.tuna.transform.RgbImage;
import java.awt.image.BufferedImage;

/**
 * The deterministic input path of training's validation split, for one decoded image: presize
 * ({@link Resize#presize}), cut the centre square for {@link ResizeMethod#CROP}, normalise into
 * float CHW. Immutable and thread-safe.
 */
final class InputPipeline {
    private final int size;
    private final ResizeMethod method;
    private final PadMode padMode;
    private final float[][] table;

    InputPipeline(int size, ResizeMethod method, PadMode padMode, Normalization normalization) {
        this.size = size;
        this.method = method;
        this.padMode = padMode;
        this.table = normalization.lookupTable();
    }

    /** Floats per image: {@code 3 × size × size}. */
    int floatsPerImage() {
        return 3 * size * size;
    }

    int size() {
        return size;
    }

    /**
     * Makes the square network input, as the validation loader does from its cache.
     *
     * @param image the decoded, upright image
     * @return {@code size × size} pixels
     */
    RgbImage square(RgbImage image) {
        RgbImage presized = Resize.presize(image, size, method, padMode);
        if (presized.width() == size && presized.height() == size) {
            return presized;
        }
        return Resize.crop(presized, (presized.width() - size) / 2, (presized.height() - size) / 2, size);
    }

    /**
     * Normalises a square image into interleaved (HWC) RGB floats.
     *
     * @param square a {@code size × size} image
     * @param out the destination
     * @param offset where this image's {@code 3 × size × size} floats start
     */
    void normalize(RgbImage square, float[] out, int offset) {
        byte[] pixels = square.pixels();
        float[] r = table[0];
        float[] g = table[1];
        float[] b = table[2];
        for (int s = 0, o = offset; s < pixels.length; s += 3, o += 3) { // NHWC, like the training batches
            out[o] = r[pixels[s] & 0xFF];
            out[o + 1] = g[pixels[s + 1] & 0xFF];
            out[o + 2] = b[pixels[s + 2] & 0xFF];
        }
    }

    /**
     * Converts an in-memory image to 8-bit RGB exactly as the decoder converts a decoded file.
     *
     * @param image any image
     * @return its RGB pixels
     */
    static RgbImage toRgb(BufferedImage image) {
        return dev.tuna.data.ImageDecoder.toRgb(image);
    }
}
