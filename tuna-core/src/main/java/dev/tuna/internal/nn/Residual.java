package dev.tuna.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * {@code out = main(x) + shortcut(x)}, optionally followed by ReLU: the residual connection of
 * ResNet blocks (with ReLU) and MobileNetV2 inverted residuals (without). A null shortcut is the
 * identity.
 */
public final class Residual extends AbstractBlock {
    private final Block main;
    private final Block shortcut;
    private final boolean relu;

    /**
     * Creates the block.
     *
     * @param main the residual branch
     * @param shortcut the projection (null for identity)
     * @param relu whether to apply ReLU after the sum
     */
    public Residual(Block main, Block shortcut, boolean relu) {
        this.main = addChildBlock("main", main);
        this.shortcut = shortcut == null ? null : addChildBlock("shortcut", shortcut);
        this.relu = relu;
    }

    /** The residual branch. */
    Block main() {
        return main;
    }

    /** The shortcut's block, or null for the identity. */
    Block shortcut() {
        return shortcut;
    }

    /** Whether a ReLU follows the sum. */
    boolean relu() {
        return relu;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray out = main.forward(store, inputs, training, params).singletonOrThrow();
        NDArray identity = shortcut == null ? inputs.singletonOrThrow()
                : shortcut.forward(store, inputs, training, params).singletonOrThrow();
        NDArray sum = out.add(identity);
        out.close(); // released early, as in Chain: autograd keeps what the backward pass needs
        if (shortcut != null) {
            identity.close();
        }
        if (!relu) {
            return new NDList(sum);
        }
        NDArray activated = ai.djl.nn.Activation.relu(sum);
        sum.close();
        return new NDList(activated);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return main.getOutputShapes(inputShapes);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        main.initialize(manager, dataType, inputShapes);
        if (shortcut != null) {
            shortcut.initialize(manager, dataType, inputShapes);
        }
    }
}
