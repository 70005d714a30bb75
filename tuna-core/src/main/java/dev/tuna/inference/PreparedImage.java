package dev.tuna.inference;

import dev.tuna.transform.RgbImage;

/**
 * An image decoded and resized for one model's network input by {@link Classifier#prepare(byte[])}:
 * the costly, per-image half of a prediction, which a server can do on the thread that received the
 * image, before {@link Classifier#predictPrepared} runs many of them through the network at once.
 * Immutable; holds {@code 3 × size × size} bytes.
 */
public final class PreparedImage {
    private final RgbImage square;

    PreparedImage(RgbImage square) {
        this.square = square;
    }

    /**
     * Returns the side of the square network input this image was prepared for.
     *
     * @return pixels per side
     */
    public int size() {
        return square.width();
    }

    RgbImage square() {
        return square;
    }
}
