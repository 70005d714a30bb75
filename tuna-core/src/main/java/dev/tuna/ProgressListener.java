package dev.tuna;

/**
 * Receives progress of long-running steps (decoding a dataset, training an epoch). Implementations
 * draw progress bars; the library never prints on its own.
 */
@FunctionalInterface
public interface ProgressListener {
    /** A listener that ignores every update. */
    ProgressListener NONE = (task, done, total) -> { };

    /**
     * Reports progress. Called from the thread doing the work, possibly from several threads.
     *
     * @param task a short name of the step, e.g. "decode"
     * @param done units finished so far
     * @param total units in all
     */
    void update(String task, long done, long total);
}
