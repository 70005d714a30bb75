package dev.tuna.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import dev.tuna.internal.nn.Arrays2;
import dev.tuna.internal.nn.ObservedBatchNorm;
import java.util.HashMap;
import java.util.List;
import java.util.Map;


/**
 * Re-derives batch-norm statistics from data without changing what the network computes in
 * evaluation mode.
 *
 * <p>Weights imported with batch norm folded into the convolutions have identity batch norms
 * ({@code running_mean = 0}, {@code running_var ≈ 1}); in training mode such a layer would normalise
 * each channel to unit variance, which the pretrained network never did. Recalibration runs the
 * network in evaluation mode over some images, measures each batch norm's input mean μ and variance
 * σ² per channel, and sets {@code running_mean = μ}, {@code running_var = σ²},
 * {@code weight' = weight · sqrt(σ² + eps) / sqrt(var + eps)} and
 * {@code bias' = bias + weight · (μ − mean) / sqrt(var + eps)}: the evaluation output is unchanged,
 * and batch statistics in training mode now roughly match the running ones. It works for any batch
 * norm, folded or not.
 */
public final class BatchNormRecalibration implements AutoCloseable {
    private final Network network;
    private final List<ObservedBatchNorm> layers;
    private final Map<String, Moments> moments = new HashMap<>();

    private BatchNormRecalibration(Network network) {
        this.network = network;
        this.layers = network.batchNormLayers().stream().filter(layer -> !layer.name().startsWith("head.")).toList();
        for (ObservedBatchNorm layer : layers) {
            moments.put(layer.name(), new Moments());
            layer.observe((name, input) -> moments.get(name).add(input));
        }
    }

    /**
     * Starts measuring the body's batch norms (the head's are left alone).
     *
     * @param network the network
     * @return the recalibration; feed it with {@link #measure}, then {@link #finish()}
     */
    public static BatchNormRecalibration start(Network network) {
        return new BatchNormRecalibration(network);
    }

    /**
     * Runs the body in evaluation mode on a batch and accumulates each layer's input statistics.
     *
     * @param images float {@code [n, 3, h, w]}
     */
    public void measure(NDArray images) {
        try (NDManager scope = network.newManager()) {
            NDArray input = images.duplicate();
            input.attach(scope);
            network.features(input);
        }
    }

    /**
     * Sets every measured layer's statistics and affine parameters, and stops observing.
     *
     * @return the number of layers recalibrated
     */
    public int finish() {
        close();
        return apply();
    }

    /** Stops observing without changing anything. */
    @Override
    public void close() {
        for (ObservedBatchNorm layer : layers) {
            layer.observe(null);
        }
    }

    /**
     * Recalibrates on a list of input batches.
     *
     * @param network the network
     * @param inputs float {@code [n, 3, h, w]} arrays
     * @return the number of layers recalibrated
     */
    public static int run(Network network, List<NDArray> inputs) {
        BatchNormRecalibration recalibration = start(network);
        try {
            for (NDArray input : inputs) {
                recalibration.measure(input);
            }
        } catch (RuntimeException e) {
            recalibration.close();
            throw e;
        }
        return recalibration.finish();
    }

    /** Per-channel mean and variance of one layer, merged across batches (Chan et al.). */
    private static final class Moments {
        double count;
        double[] mean;
        double[] m2;

        void add(NDArray x) {
            int[] axes = x.getShape().dimension() == 4 ? new int[] {0, 2, 3} : new int[] {0};
            long n = x.getShape().size() / x.getShape().get(1);
            try (NDArray batchSum = x.sum(axes, true); NDArray batchMean = batchSum.div(n); NDArray centered = x.sub(batchMean);
                 NDArray squares = centered.square(); NDArray sumSquares = squares.sum(axes)) {
                float[] bm = batchMean.toFloatArray();
                float[] bs = sumSquares.toFloatArray();
                if (mean == null) {
                    mean = new double[bm.length];
                    m2 = new double[bm.length];
                }
                double total = count + n;
                for (int c = 0; c < bm.length; c++) {
                    double delta = bm[c] - mean[c];
                    mean[c] += delta * n / total;
                    m2[c] += bs[c] + delta * delta * count * n / total;
                }
                count = total;
            }
        }
    }

    private int apply() {
        Map<String, Parameter> parameters = network.parameters();
        int updated = 0;
        for (ObservedBatchNorm layer : layers) {
            Moments m = moments.get(layer.name());
            if (m.mean == null || m.count < 2) {
                continue;
            }
            String p = layer.name();
            float eps = dev.tuna.internal.nn.Torchvision.BN_EPS;
            float[] weight = parameters.get(p + ".weight").getArray().toFloatArray();
            float[] bias = parameters.get(p + ".bias").getArray().toFloatArray();
            float[] mean = parameters.get(p + ".running_mean").getArray().toFloatArray();
            float[] var = parameters.get(p + ".running_var").getArray().toFloatArray();
            int channels = weight.length;
            float[] newWeight = new float[channels];
            float[] newBias = new float[channels];
            float[] newMean = new float[channels];
            float[] newVar = new float[channels];
            for (int c = 0; c < channels; c++) {
                double mu = m.mean[c];
                double sigma2 = m.m2[c] / m.count;
                double oldStd = Math.sqrt(var[c] + eps);
                newWeight[c] = (float) (weight[c] * Math.sqrt(sigma2 + eps) / oldStd);
                newBias[c] = (float) (bias[c] + weight[c] * (mu - mean[c]) / oldStd);
                newMean[c] = (float) mu;
                newVar[c] = (float) sigma2;
            }
            Arrays2.copyInto(parameters.get(p + ".weight").getArray(), newWeight);
            Arrays2.copyInto(parameters.get(p + ".bias").getArray(), newBias);
            Arrays2.copyInto(parameters.get(p + ".running_mean").getArray(), newMean);
            Arrays2.copyInto(parameters.get(p + ".running_var").getArray(), newVar);
            updated++;
        }
        return updated;
    }
}
