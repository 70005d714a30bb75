package dev.tuna.internal.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Layer norm over the channels with a per-channel scale ({@code weight}) and shift ({@code bias}),
 * computed through {@link Numerics}: PyTorch's {@code nn.LayerNorm(C)} on channels-last input
 * ({@code (..., C)}), or, with {@code channelsFirst}, torchvision's {@code LayerNorm2d} on
 * {@code (N, C, H, W)} (permuted to channels-last, normalised, permuted back). The same in training and
 * inference: layer norm has no running statistics.
 */
final class CheckedLayerNorm extends AbstractBlock {
    private final float eps;
    private final boolean channelsFirst;
    private final Parameter weight;
    private final Parameter bias;

    /**
     * Creates the layer; the number of channels comes from the input shape at initialisation.
     *
     * @param eps the epsilon added to the variance (torchvision's ConvNeXt: 1e-6)
     * @param channelsFirst normalise axis 1 of an {@code (N, C, H, W)} input instead of the last axis
     */
    CheckedLayerNorm(float eps, boolean channelsFirst) {
        this.eps = eps;
        this.channelsFirst = channelsFirst;
        this.weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.GAMMA).build());
        this.bias = addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BETA).build());
    }

    /** The epsilon added to the variance. */
    float eps() {
        return eps;
    }

    /** Whether the layer normalises axis 1 of a feature map (else the last axis). */
    boolean channelsFirst() {
        return channelsFirst;
    }

    /** The scale parameter. */
    Parameter weight() {
        return weight;
    }

    /** The shift parameter. */
    Parameter bias() {
        return bias;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Device device = x.getDevice();
        NDArray w = store.getValue(weight, device, training);
        NDArray b = store.getValue(bias, device, training);
        if (!channelsFirst) {
            return new NDList(Numerics.current().layerNorm(x, w, b, eps));
        }
        NDArray last = x.transpose(0, 2, 3, 1);
        NDArray normalised = Numerics.current().layerNorm(last, w, b, eps);
        last.close(); // a view; autograd keeps what it needs
        NDArray result = normalised.transpose(0, 3, 1, 2);
        normalised.close();
        return new NDList(result);
    }

    @Override
    protected void prepare(Shape[] inputShapes) {
        Shape input = inputShapes[0];
        long channels = channelsFirst ? input.get(1) : input.get(input.dimension() - 1);
        weight.setShape(new Shape(channels));
        bias.setShape(new Shape(channels));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
