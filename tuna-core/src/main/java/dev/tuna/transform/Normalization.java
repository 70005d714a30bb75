package dev.tuna.transform;

import java.util.Arrays;

/**
 * Per-channel input normalisation {@code (pixel / 255 - mean) / std}, as an architecture's
 * pretrained weights expect it.
 *
 * @param mean per-channel mean (R, G, B) on the 0–1 scale
 * @param std per-channel standard deviation (R, G, B) on the 0–1 scale
 */
public record Normalization(float[] mean, float[] std) {
    /** torchvision's ImageNet statistics: mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225). */
    public static final Normalization IMAGENET =
            new Normalization(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});

    /** TensorFlow/Inception style {@code x / 127.5 - 1}, i.e. mean 0.5 and std 0.5 on every channel. */
    public static final Normalization MINUS_ONE_TO_ONE =
            new Normalization(new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.5f, 0.5f});

    /**
     * Checks three positive channels and copies the arrays.
     *
     * @param mean per-channel mean (R, G, B) on the 0–1 scale
     * @param std per-channel standard deviation (R, G, B) on the 0–1 scale
     */
    public Normalization {
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("normalisation needs 3 channels, found mean "
                    + mean.length + " and std " + std.length);
        }
        for (float s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("std must be positive, found " + Arrays.toString(std));
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    /**
     * Returns the per-channel means (a copy).
     *
     * @return red, green and blue
     */
    @Override
    public float[] mean() {
        return mean.clone();
    }

    /**
     * Returns the per-channel standard deviations (a copy).
     *
     * @return red, green and blue
     */
    @Override
    public float[] std() {
        return std.clone();
    }

    /**
     * Normalises one 8-bit value.
     *
     * @param value 0–255
     * @param channel 0 red, 1 green, 2 blue
     * @return the network input
     */
    public float apply(int value, int channel) {
        return (value / 255f - mean[channel]) / std[channel];
    }

    /**
     * Returns a lookup table {@code table[channel][value]} equal to {@link #apply(int, int)}.
     *
     * @return 3 × 256 floats
     */
    public float[][] lookupTable() {
        float[][] table = new float[3][256];
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                table[c][v] = apply(v, c);
            }
        }
        return table;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Normalization n && Arrays.equals(mean, n.mean) && Arrays.equals(std, n.std);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "Normalization[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
