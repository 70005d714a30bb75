package dev.tuna.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;

/**
 * ConvNeXt's layer scale: the residual branch {@code (N, C, H, W)} times a learned per-channel factor of
 * shape {@code (C, 1, 1)} (torchvision's {@code CNBlock.layer_scale}, initialised to 1e-6).
 */
final class LayerScale extends AbstractBlock {
    private final Parameter scale;

    /** Creates the layer; the number of channels comes from the input shape at initialisation. */
    LayerScale() {
        this.scale = addParameter(Parameter.builder().setName("layer_scale")
                .setType(Parameter.Type.WEIGHT).optInitializer(Initializer.ONES).build());
    }

    /**
     * Returns the factor, for recording under its torchvision name.
     *
     * @return the parameter
     */
    Parameter scale() {
        return scale;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        return new NDList(x.mul(store.getValue(scale, x.getDevice(), training)));
    }

    @Override
    protected void prepare(Shape[] inputShapes) {
        scale.setShape(new Shape(inputShapes[0].get(1), 1, 1));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
