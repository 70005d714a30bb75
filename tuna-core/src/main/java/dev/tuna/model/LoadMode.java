package dev.tuna.model;

/** How strictly {@link Network#load} matches a weight file against the network. */
public enum LoadMode {
    /** Every network parameter must be in the file with the same shape, and nothing else may be. */
    STRICT,
    /**
     * Every body parameter must be in the file with the same shape; the file's own classifier
     * ({@code fc.*}, {@code classifier.*}) is ignored and the head keeps its initialisation.
     */
    BODY,
    /** Load whatever matches by name and shape; report the rest. */
    PARTIAL
}
