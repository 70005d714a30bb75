package dev.tuna.data;

/**
 * Thrown by {@link ImageDecoder} for a file that cannot be used as an image. The message is a short
 * reason meant to be printed next to the path ("truncated JPEG", "not an image: ...").
 */
public final class UnreadableImageException extends Exception {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param reason a short, human-readable reason
     */
    public UnreadableImageException(String reason) {
        super(reason);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param reason a short, human-readable reason
     * @param cause the underlying error
     */
    public UnreadableImageException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
