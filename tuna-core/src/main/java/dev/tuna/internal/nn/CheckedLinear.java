package dev.tuna.internal.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** DJL's {@link Linear} (same parameters and names) computed through {@link Numerics}. */
final class CheckedLinear extends Linear {
    /**
     * Creates the layer.
     *
     * @param builder a builder for a layer on 2-d inputs
     */
    CheckedLinear(Linear.Builder builder) {
        super(builder);
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Device device = x.getDevice();
        NDArray w = store.getValue(getParameters().get("weight"), device, training);
        Parameter bias = getParameters().get("bias");
        NDArray b = bias == null ? null : store.getValue(bias, device, training);
        return new NDList(Numerics.current().linear(x, w, b));
    }
}
