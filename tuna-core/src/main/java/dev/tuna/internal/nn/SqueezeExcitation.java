package dev.tuna.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Squeeze-and-excitation as torchvision's {@code ops.SqueezeExcitation} in EfficientNet: each channel of
 * {@code x} times {@code sigmoid(fc2(silu(fc1(avgpool(x)))))}, with {@code fc1} and {@code fc2} 1×1
 * convolutions with bias. Pooling, convolutions and activations go through {@link Numerics}.
 */
final class SqueezeExcitation extends AbstractBlock {
    private final Block fc1;
    private final Block fc2;
    private final long squeeze;

    /**
     * Creates the block.
     *
     * @param fc1 the reducing 1×1 convolution (to {@code squeeze} channels)
     * @param fc2 the expanding 1×1 convolution (back to the input's channels)
     * @param squeeze the channels between them
     */
    SqueezeExcitation(Block fc1, Block fc2, long squeeze) {
        this.fc1 = addChildBlock("fc1", fc1);
        this.fc2 = addChildBlock("fc2", fc2);
        this.squeeze = squeeze;
    }

    /** The reducing 1×1 convolution. */
    Block fc1() {
        return fc1;
    }

    /** The expanding 1×1 convolution. */
    Block fc2() {
        return fc2;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Shape shape = x.getShape();
        NDArray pooled = Numerics.current().pool(Numerics.Kind.AVG_POOL, x, Pool::globalAvgPool2d);
        NDArray column = pooled.reshape(shape.get(0), shape.get(1), 1, 1);
        pooled.close();
        NDArray reduced = fc1.forward(store, new NDList(column), training, params).singletonOrThrow();
        column.close();
        NDArray activated = Numerics.current().activation(reduced, Torchvision::silu);
        reduced.close();
        NDArray expanded = fc2.forward(store, new NDList(activated), training, params).singletonOrThrow();
        activated.close();
        NDArray scale = Numerics.current().activation(expanded, ai.djl.nn.Activation::sigmoid);
        expanded.close();
        NDArray result = x.mul(scale);
        scale.close(); // released early, as in Chain: autograd keeps what the backward pass needs
        return new NDList(result);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape input = inputShapes[0];
        fc1.initialize(manager, dataType, new Shape(input.get(0), input.get(1), 1, 1));
        fc2.initialize(manager, dataType, new Shape(input.get(0), squeeze, 1, 1));
    }
}
