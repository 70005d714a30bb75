package dev.tuna.model;

import dev.tuna.TunaException;
import java.util.List;

/**
 * The shape of the classification head put on a pretrained body (fast.ai's {@code create_head}).
 *
 * @param hidden widths of the hidden linear layers (fast.ai: [512])
 * @param dropouts dropout rate before each linear layer, one more than {@code hidden} (fast.ai: [0.25, 0.5])
 */
public record HeadSpec(List<Integer> hidden, List<Float> dropouts) {
    /** fast.ai's default head: one hidden layer of 512, dropout 0.25 then 0.5. */
    public static final HeadSpec DEFAULT = new HeadSpec(List.of(512), List.of(0.25f, 0.5f));

    /**
     * Validates and copies.
     *
     * @param hidden widths of the hidden linear layers (fast.ai: [512])
     * @param dropouts dropout rate before each linear layer, one more than {@code hidden} (fast.ai: [0.25, 0.5])
     */
    public HeadSpec {
        hidden = List.copyOf(hidden);
        dropouts = List.copyOf(dropouts);
        if (dropouts.size() != hidden.size() + 1) {
            throw TunaException.usage("A head with " + hidden.size() + " hidden layers needs " + (hidden.size() + 1)
                    + " dropout rates; found " + dropouts.size() + ".");
        }
        for (int h : hidden) {
            if (h < 1) {
                throw TunaException.usage("Hidden layer widths must be positive; found " + hidden + ".");
            }
        }
        for (float p : dropouts) {
            if (!(p >= 0 && p < 1)) {
                throw TunaException.usage("Dropout rates must be in [0, 1); found " + dropouts + ".");
            }
        }
    }
}
