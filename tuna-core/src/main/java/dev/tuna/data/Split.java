package dev.tuna.data;

import java.util.Arrays;

/**
 * A division of a dataset's items into a training and a validation part, as item indices.
 *
 * @param train indices of training items, in the splitter's order
 * @param valid indices of validation (or held-out) items, in the splitter's order
 */
public record Split(int[] train, int[] valid) {
    /**
     * Copies the arrays.
     *
     * @param train indices of training items, in the splitter's order
     * @param valid indices of validation (or held-out) items, in the splitter's order
     */
    public Split {
        train = train.clone();
        valid = valid.clone();
    }

    /**
     * Returns the training indices (a copy).
     *
     * @return indices in the splitter's order
     */
    @Override
    public int[] train() {
        return train.clone();
    }

    /**
     * Returns the validation indices (a copy).
     *
     * @return indices in the splitter's order
     */
    @Override
    public int[] valid() {
        return valid.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Split s && Arrays.equals(train, s.train) && Arrays.equals(valid, s.valid);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(train) + Arrays.hashCode(valid);
    }

    @Override
    public String toString() {
        return "Split[train=" + train.length + " items, valid=" + valid.length + " items]";
    }
}
