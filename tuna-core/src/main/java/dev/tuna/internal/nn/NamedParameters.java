package dev.tuna.internal.nn;

import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parameters of a network under PyTorch {@code state_dict} names ({@code layer1.0.conv1.weight},
 * {@code features.0.1.running_var}), recorded while the network is built.
 */
public final class NamedParameters {
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    private final List<String> batchNorms = new ArrayList<>();
    private final List<ObservedBatchNorm> observed = new ArrayList<>();

    /** Records a convolution's weight (and bias, if it has one). */
    void conv(String prefix, Conv2d conv) {
        put(prefix + ".weight", conv.getParameters().get("weight"));
        Parameter bias = conv.getParameters().get("bias");
        if (bias != null) {
            put(prefix + ".bias", bias);
        }
    }

    /** Records a linear layer's weight (and bias, if it has one). */
    void linear(String prefix, Linear linear) {
        put(prefix + ".weight", linear.getParameters().get("weight"));
        Parameter bias = linear.getParameters().get("bias");
        if (bias != null) {
            put(prefix + ".bias", bias);
        }
    }

    /** Records a batch norm's affine parameters and running statistics, and returns it observable. */
    ObservedBatchNorm batchNorm(String prefix, BatchNorm norm) {
        put(prefix + ".weight", norm.getParameters().get("gamma"));
        put(prefix + ".bias", norm.getParameters().get("beta"));
        put(prefix + ".running_mean", norm.getParameters().get("runningMean"));
        put(prefix + ".running_var", norm.getParameters().get("runningVar"));
        batchNorms.add(prefix);
        ObservedBatchNorm block = new ObservedBatchNorm(prefix, norm);
        observed.add(block);
        return block;
    }

    /**
     * Returns every batch norm layer, in network order.
     *
     * @return the layers
     */
    public List<ObservedBatchNorm> batchNormLayers() {
        return Collections.unmodifiableList(observed);
    }

    private void put(String name, Parameter parameter) {
        if (parameter == null) {
            throw new IllegalStateException("missing DJL parameter for " + name);
        }
        if (byName.put(name, parameter) != null) {
            throw new IllegalStateException("duplicate parameter name " + name);
        }
    }

    /**
     * Returns every parameter by name, in network order.
     *
     * @return an unmodifiable map
     */
    public Map<String, Parameter> all() {
        return Collections.unmodifiableMap(byName);
    }

    /**
     * Returns the name prefixes of all batch-norm layers, in network order.
     *
     * @return e.g. {@code ["bn1", "layer1.0.bn1", ...]}
     */
    public List<String> batchNorms() {
        return Collections.unmodifiableList(batchNorms);
    }

    /**
     * Whether a parameter name belongs to a batch norm layer.
     *
     * @param name a parameter name
     * @return true for the weight, bias and running statistics of a batch norm
     */
    public boolean isBatchNorm(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 && batchNorms.contains(name.substring(0, dot));
    }
}
