package dev.tuna.learn;

import java.util.Locale;

/** Which part of training a fit is: fine-tuning's two phases, or a plain fit. */
public enum Phase {
    /** Fine-tuning's first phase: only the head (and batch norm, in train-bn mode) trains. */
    FROZEN,
    /** Fine-tuning's second phase: every layer trains, with discriminative learning rates. */
    UNFROZEN,
    /** A fit outside fine-tuning ({@code fit}, {@code fitOneCycle}). */
    FIT;

    /**
     * Returns the name used in tables, logs, reports and checkpoints.
     *
     * @return "frozen", "unfrozen" or "fit"
     */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@link #id()}.
     *
     * @param id "frozen", "unfrozen" or "fit"
     * @return the phase
     * @throws IllegalArgumentException for anything else
     */
    public static Phase parse(String id) {
        for (Phase phase : values()) {
            if (phase.id().equals(id)) {
                return phase;
            }
        }
        throw new IllegalArgumentException("unknown training phase '" + id + "'; expected frozen, unfrozen or fit");
    }

    @Override
    public String toString() {
        return id();
    }
}
