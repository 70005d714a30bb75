package dev.tuna;

/**
 * The base of every error Tuna reports to its users.
 *
 * <p>Each instance carries a {@link Kind} so that front ends (the CLI) can map it to an exit code,
 * and a message written for people: what was expected, what was found and how to fix it.
 */
public class TunaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong, broadly; decides the CLI's exit code. */
    public enum Kind {
        /** Bad data on disk: missing, empty or unusable image folders or files (exit code 2). */
        BAD_DATA,
        /** A model or weight file that is missing, corrupt or of the wrong kind (exit code 2). */
        BAD_MODEL_FILE,
        /** An invalid setting passed by the caller (exit code 1). */
        USAGE,
        /** A failure while running: out of memory, engine error, I/O error (exit code 3). */
        RUNTIME
    }

    /** What went wrong, broadly (serialized with the exception). */
    private final Kind kind;

    /**
     * Creates an exception.
     *
     * @param kind what went wrong, broadly
     * @param message what was expected, what was found and how to fix it
     */
    public TunaException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    /**
     * Creates an exception with a cause.
     *
     * @param kind what went wrong, broadly
     * @param message what was expected, what was found and how to fix it
     * @param cause the underlying error
     */
    public TunaException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    /**
     * Returns what went wrong, broadly.
     *
     * @return the kind of failure
     */
    public Kind kind() {
        return kind;
    }

    /**
     * Shorthand for a {@link Kind#BAD_DATA} failure.
     *
     * @param message the message
     * @return the exception
     */
    public static TunaException badData(String message) {
        return new TunaException(Kind.BAD_DATA, message);
    }

    /**
     * Shorthand for a {@link Kind#USAGE} failure.
     *
     * @param message the message
     * @return the exception
     */
    public static TunaException usage(String message) {
        return new TunaException(Kind.USAGE, message);
    }
}
