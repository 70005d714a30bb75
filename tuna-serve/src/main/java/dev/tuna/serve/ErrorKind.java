package dev.tuna.serve;

/**
 * Every way a request can fail, with its HTTP status and the {@code "error"} value of the JSON reply
 * ({@code {"error": id, "message": ...}}), which is also the {@code kind} label of
 * {@code tuna_serve_errors_total}.
 */
public enum ErrorKind {
    /** A malformed request: empty body, bad {@code top_k}, a multipart form without a file. */
    BAD_REQUEST(400, "bad_request"),
    /** The bytes are an image format Tuna reads, but damaged or truncated. */
    INVALID_IMAGE(400, "invalid_image"),
    /** No route at this path. */
    NOT_FOUND(404, "not_found"),
    /** No model of this name is served. */
    UNKNOWN_MODEL(404, "unknown_model"),
    /** The path exists for another method. */
    METHOD_NOT_ALLOWED(405, "method_not_allowed"),
    /** The request body is larger than the server's limit ({@code --max-body}). */
    BODY_TOO_LARGE(413, "body_too_large"),
    /** The image declares more pixels than the decoder's budget (a possible decompression bomb). */
    TOO_MANY_PIXELS(413, "too_many_pixels"),
    /** The body is not an image Tuna reads ({@link dev.tuna.data.ImageFormat#NAMES}, recognised by content). */
    UNSUPPORTED_MEDIA_TYPE(415, "unsupported_media_type"),
    /** The model's queue is full: the server is overloaded; retry later. */
    QUEUE_FULL(503, "queue_full"),
    /** The server is stopping and takes no new predictions. */
    SHUTTING_DOWN(503, "shutting_down"),
    /** The prediction did not finish within the server's request timeout ({@code --timeout}). */
    TIMEOUT(504, "timeout"),
    /** A fault of the server itself; the message names the error's type, never a stack trace. */
    INTERNAL(500, "internal");

    private final int status;
    private final String id;

    ErrorKind(int status, String id) {
        this.status = status;
        this.id = id;
    }

    /**
     * Returns the HTTP status code.
     *
     * @return e.g. 413
     */
    public int status() {
        return status;
    }

    /**
     * Returns the identifier used in replies and metrics.
     *
     * @return e.g. {@code "body_too_large"}
     */
    public String id() {
        return id;
    }
}
