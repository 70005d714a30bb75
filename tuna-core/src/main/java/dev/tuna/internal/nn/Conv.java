package dev.tuna.internal.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * DJL's {@link Conv2d} (same parameters, names and shapes) computed through {@link Numerics}: on the
 * kernel libtorch picks where that kernel has been checked against float64 on this machine, on a safe
 * path where it has not.
 */
final class Conv extends Conv2d {
    private final int strideSize;
    private final int paddingSize;

    /**
     * Creates the convolution.
     *
     * @param builder a builder with a square kernel, stride and padding and no dilation
     */
    Conv(Conv2d.Builder builder) {
        super(builder);
        this.strideSize = (int) getStride().get(0);
        this.paddingSize = (int) getPadding().get(0);
        if (getStride().get(1) != strideSize || getPadding().get(1) != paddingSize
                || getDilation().get(0) != 1 || getDilation().get(1) != 1) {
            throw new IllegalArgumentException("Conv takes square strides and paddings and no dilation");
        }
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Device device = x.getDevice();
        NDArray w = store.getValue(weight, device, training);
        NDArray b = bias == null ? null : store.getValue(bias, device, training);
        return new NDList(Numerics.current().conv(x, w, b, strideSize, paddingSize, getGroups()));
    }
}
