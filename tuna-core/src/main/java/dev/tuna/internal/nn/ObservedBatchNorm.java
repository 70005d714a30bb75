package dev.tuna.internal.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.function.BiConsumer;

/**
 * A DJL {@link BatchNorm} whose input can be observed, e.g. to measure the statistics that
 * batch-norm recalibration needs. Without an observer it computes what the wrapped batch norm computes
 * (torchvision's epsilon and momentum), through {@link Numerics}.
 */
public final class ObservedBatchNorm extends AbstractBlock {
    private final String name;
    private final BatchNorm norm;
    private volatile BiConsumer<String, NDArray> observer;

    ObservedBatchNorm(String name, BatchNorm norm) {
        this.name = name;
        this.norm = addChildBlock("bn", norm);
    }

    /**
     * Returns the torchvision name prefix of this layer, e.g. "layer1.0.bn1".
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Sets (or clears, with null) a callback that receives this layer's name and input on every forward.
     *
     * @param observer the callback
     */
    public void observe(BiConsumer<String, NDArray> observer) {
        this.observer = observer;
    }

    /**
     * Returns one of the wrapped batch norm's parameters by its DJL name.
     *
     * @param djlName {@code gamma}, {@code beta}, {@code runningMean} or {@code runningVar}
     * @return the parameter
     */
    Parameter parameter(String djlName) {
        return norm.getParameters().get(djlName);
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        BiConsumer<String, NDArray> current = observer;
        if (current != null) {
            current.accept(name, inputs.singletonOrThrow());
        }
        NDArray x = inputs.singletonOrThrow();
        Device device = x.getDevice();
        PairList<String, Parameter> parameters = norm.getParameters();
        return new NDList(Numerics.current().batchNorm(x,
                store.getValue(parameters.get("runningMean"), device, training),
                store.getValue(parameters.get("runningVar"), device, training),
                store.getValue(parameters.get("gamma"), device, training),
                store.getValue(parameters.get("beta"), device, training),
                Torchvision.BN_MOMENTUM_DJL, Torchvision.BN_EPS, training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        norm.initialize(manager, dataType, inputShapes);
    }
}
