package dev.tuna.learn;

import dev.tuna.TunaException;
import java.util.Locale;

/** What "frozen" means for the pretrained body during {@link Learner#freeze()}. */
public enum FreezeMode {
    /**
     * fast.ai's {@code train_bn} (the default): the body's weights are fixed but every batch norm
     * keeps training its scale and shift and stays in training mode (batch statistics, running
     * statistics updated). The backward pass runs through the whole body.
     */
    TRAIN_BN("train-bn"),
    /**
     * Keras-style: the body is fixed entirely, batch norm included, and runs in evaluation mode with
     * its running statistics; only the head trains. The body then maps each image to the same
     * features every epoch, so when the training transforms are deterministic (no flips or random
     * crops) Tuna computes the training and validation features once per frozen phase and trains
     * the head on them: the frozen epochs cost one inference pass instead of full training passes.
     */
    FROZEN_BN("frozen-bn");

    private final String id;

    FreezeMode(String id) {
        this.id = id;
    }

    /**
     * Returns the command-line name.
     *
     * @return "train-bn" or "frozen-bn"
     */
    public String id() {
        return id;
    }

    /**
     * Parses a command-line name.
     *
     * @param text "train-bn" or "frozen-bn"
     * @return the mode
     */
    public static FreezeMode parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (FreezeMode mode : values()) {
            if (mode.id.equals(t)) {
                return mode;
            }
        }
        throw TunaException.usage("Unknown freeze mode '" + text + "'; expected train-bn (fast.ai, the default) or"
                + " frozen-bn (Keras-style, with cached body features).");
    }
}
