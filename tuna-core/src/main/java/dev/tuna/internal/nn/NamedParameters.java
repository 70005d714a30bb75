package dev.tuna.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The parameters of a network under PyTorch {@code state_dict} names ({@code layer1.0.conv1.weight},
 * {@code features.0.1.running_var}), recorded while the network is built, each with how it is
 * initialised and which normalisation layer (batch norm or layer norm) it belongs to, if any.
 */
public final class NamedParameters {
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    private final Map<String, ParameterInit> inits = new HashMap<>();
    private final List<String> batchNorms = new ArrayList<>();
    private final Set<String> batchNormSet = new HashSet<>();
    private final Set<String> norms = new HashSet<>();
    private final List<ObservedBatchNorm> observed = new ArrayList<>();

    /** Records a convolution's weight (and bias, if it has one; biases start at 0). */
    void conv(String prefix, Conv2d conv, ParameterInit weight) {
        put(prefix + ".weight", conv.getParameters().get("weight"), weight);
        Parameter bias = conv.getParameters().get("bias");
        if (bias != null) {
            put(prefix + ".bias", bias, ParameterInit.constant(0f));
        }
    }

    /** Records a linear layer's weight (and bias, if it has one; biases start at 0). */
    void linear(String prefix, Linear linear, ParameterInit weight) {
        put(prefix + ".weight", linear.getParameters().get("weight"), weight);
        Parameter bias = linear.getParameters().get("bias");
        if (bias != null) {
            put(prefix + ".bias", bias, ParameterInit.constant(0f));
        }
    }

    /**
     * Records a batch norm's affine parameters (scale 1, shift {@code shift}) and running statistics
     * (0 and 1), and returns it observable.
     */
    ObservedBatchNorm batchNorm(String prefix, BatchNorm norm, float shift) {
        put(prefix + ".weight", norm.getParameters().get("gamma"), ParameterInit.constant(1f));
        put(prefix + ".bias", norm.getParameters().get("beta"), ParameterInit.constant(shift));
        put(prefix + ".running_mean", norm.getParameters().get("runningMean"), ParameterInit.constant(0f));
        put(prefix + ".running_var", norm.getParameters().get("runningVar"), ParameterInit.constant(1f));
        batchNorms.add(prefix);
        batchNormSet.add(prefix);
        norms.add(prefix);
        ObservedBatchNorm block = new ObservedBatchNorm(prefix, norm);
        observed.add(block);
        return block;
    }

    /** Records a layer norm's scale (1) and shift (0). */
    void layerNorm(String prefix, CheckedLayerNorm norm) {
        put(prefix + ".weight", norm.getParameters().get("weight"), ParameterInit.constant(1f));
        put(prefix + ".bias", norm.getParameters().get("bias"), ParameterInit.constant(0f));
        norms.add(prefix);
    }

    /** Records a parameter under its full name (e.g. ConvNeXt's {@code features.1.0.layer_scale}). */
    void single(String name, Parameter parameter, ParameterInit init) {
        put(name, parameter, init);
    }

    /**
     * Returns every batch norm layer, in network order.
     *
     * @return the layers
     */
    public List<ObservedBatchNorm> batchNormLayers() {
        return Collections.unmodifiableList(observed);
    }

    private void put(String name, Parameter parameter, ParameterInit init) {
        if (parameter == null) {
            throw new IllegalStateException("missing DJL parameter for " + name);
        }
        if (byName.put(name, parameter) != null) {
            throw new IllegalStateException("duplicate parameter name " + name);
        }
        inits.put(name, init);
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
     * Sets every (initialised) parameter to its recorded starting values, drawing from {@code random} in
     * network order.
     *
     * @param random the generator
     */
    public void initialize(SplittableRandom random) {
        for (Map.Entry<String, Parameter> entry : byName.entrySet()) {
            NDArray array = entry.getValue().getArray();
            float[] values = new float[Math.toIntExact(array.getShape().size())];
            inits.get(entry.getKey()).fill(values, array.getShape(), random);
            Arrays2.copyInto(array, values);
        }
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
        return batchNormSet.contains(layerOf(name));
    }

    /**
     * Whether a parameter name belongs to a normalisation layer: a batch norm or a layer norm.
     *
     * @param name a parameter name
     * @return true for the parameters (and running statistics) of batch norms and layer norms
     */
    public boolean isNorm(String name) {
        return norms.contains(layerOf(name));
    }

    private static String layerOf(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : "";
    }
}
