package dev.tuna.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A {@link SequentialBlock} that lets go of each intermediate output as soon as the next layer has
 * consumed it. DJL keeps every array alive until its manager closes, i.e. until the end of the batch,
 * while PyTorch frees an activation when nothing refers to it; autograd keeps its own reference to
 * what the backward pass needs, so releasing the Java-side handle early is safe and brings a training
 * step's memory down to what PyTorch holds. The chain's own input and anything a layer passes through
 * unchanged are never released.
 */
public final class Chain extends SequentialBlock {
    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDList current = inputs;
        for (Block block : getChildren().values()) {
            NDList next = block.forward(store, current, training, params);
            if (current != inputs) {
                release(current, next, inputs);
            }
            current = next;
        }
        return current;
    }

    /** Closes the arrays of {@code done} that are neither in {@code next} nor in {@code keep}. */
    static void release(NDList done, NDList next, NDList keep) {
        Map<NDArray, Boolean> live = new IdentityHashMap<>();
        next.forEach(a -> live.put(a, Boolean.TRUE));
        keep.forEach(a -> live.put(a, Boolean.TRUE));
        for (NDArray array : done) {
            if (!live.containsKey(array)) {
                array.close();
            }
        }
    }
}
