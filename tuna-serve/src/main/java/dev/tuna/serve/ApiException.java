package dev.tuna.serve;

/**
 * A request that fails with a known {@link ErrorKind}: the server replies with its status and
 * {@code {"error": kind, "message": message}}. Carries no stack trace (it is an answer, not a fault).
 */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorKind kind;

    ApiException(ErrorKind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    ErrorKind kind() {
        return kind;
    }
}
