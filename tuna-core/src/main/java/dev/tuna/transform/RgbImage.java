package dev.tuna.transform;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.util.Objects;

/**
 * An 8-bit RGB image held as interleaved bytes, row by row ({@code [r, g, b, r, g, b, ...]}).
 *
 * <p>This is the one pixel format every transform reads and writes. The array is not copied: treat
 * it as read-only once the image is built.
 *
 * @param width width in pixels, at least 1
 * @param height height in pixels, at least 1
 * @param pixels {@code width * height * 3} bytes, RGB interleaved
 */
public record RgbImage(int width, int height, byte[] pixels) {

    /**
     * Validates the dimensions against the pixel array.
     *
     * @param width width in pixels, at least 1
     * @param height height in pixels, at least 1
     * @param pixels {@code width * height * 3} bytes, RGB interleaved
     */
    public RgbImage {
        Objects.requireNonNull(pixels, "pixels");
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("image size must be positive: " + width + "x" + height);
        }
        if (pixels.length != (long) width * height * 3) {
            throw new IllegalArgumentException(
                    "expected " + (long) width * height * 3 + " bytes for " + width + "x" + height
                            + " RGB, found " + pixels.length);
        }
    }

    /**
     * Returns one channel value of one pixel, 0–255.
     *
     * @param x column
     * @param y row
     * @param channel 0 red, 1 green, 2 blue
     * @return the value
     */
    public int value(int x, int y, int channel) {
        return pixels[(y * width + x) * 3 + channel] & 0xFF;
    }

    /**
     * Returns a copy as a {@link BufferedImage} of type {@code TYPE_3BYTE_BGR}, for drawing.
     *
     * @return the image
     */
    public BufferedImage toBufferedImage() {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        byte[] bgr = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < pixels.length; i += 3) {
            bgr[i] = pixels[i + 2];
            bgr[i + 1] = pixels[i + 1];
            bgr[i + 2] = pixels[i];
        }
        return image;
    }
}
