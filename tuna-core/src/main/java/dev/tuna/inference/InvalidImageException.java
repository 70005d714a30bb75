package dev.tuna.inference;

import dev.tuna.TunaException;

/**
 * An input that {@link Classifier} cannot use as an image: not an image at all, truncated, corrupt,
 * unreadable, or larger than the pixel budget (refused from its header, before any pixel is
 * decoded). Its {@link #kind()} is {@link TunaException.Kind#BAD_DATA}.
 */
public final class InvalidImageException extends TunaException {
    private static final long serialVersionUID = 1L;

    /** What was being classified (serialized with the exception). */
    private final String source;
    /** The short reason (serialized with the exception). */
    private final String reason;

    /**
     * Creates the exception.
     *
     * @param source what was being classified: a path, or a description such as "the image bytes"
     * @param reason the short reason, e.g. "truncated JPEG file"
     * @param hint how to fix it
     * @param cause the underlying error, or null
     */
    public InvalidImageException(String source, String reason, String hint, Throwable cause) {
        super(Kind.BAD_DATA, "Cannot classify " + source + ": " + reason + ". " + hint, cause);
        this.source = source;
        this.reason = reason;
    }

    /**
     * Returns what was being classified.
     *
     * @return a path, or a description such as "the image bytes"
     */
    public String source() {
        return source;
    }

    /**
     * Returns the short reason, without the source and the hint.
     *
     * @return e.g. "not an image: content is not JPEG, PNG, BMP, GIF, WebP, TIFF, ..."
     */
    public String reason() {
        return reason;
    }
}
