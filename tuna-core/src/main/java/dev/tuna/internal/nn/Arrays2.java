package dev.tuna.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;

/** Array helpers the engine lacks. */
public final class Arrays2 {
    private Arrays2() {}

    /**
     * Copies values into an existing array in place (same shape), keeping its storage and identity.
     * Unlike {@code NDArray.set(Buffer)}, which swaps in the Java buffer as the array's storage (and
     * makes libtorch print a deprecation warning), this is a plain tensor copy.
     *
     * @param target the array to overwrite, e.g. a parameter
     * @param values its new values in C order
     */
    public static void copyInto(NDArray target, float[] values) {
        try (NDManager scope = target.getManager().newSubManager()) {
            NDArray source = scope.create(values, target.getShape());
            // torch.no_grad(): a parameter's in-place copy fails where this thread records gradients
            dev.tuna.internal.engine.Threads.withoutGrad(() -> target.set(new NDIndex("..."), source));
        }
    }
}
