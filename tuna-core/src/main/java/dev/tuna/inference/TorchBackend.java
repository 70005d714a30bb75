package dev.tuna.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuna.internal.engine.Threads;
import dev.tuna.model.Network;
import java.nio.FloatBuffer;

/**
 * A {@link Network} on libtorch (through DJL) in evaluation mode. Owns the network only when given
 * the manager that holds it.
 */
final class TorchBackend implements InferenceBackend {
    private final Network network;
    private final NDManager owned;

    /**
     * Wraps a network.
     *
     * @param network the network
     * @param owned the manager to close with the network, or null to leave both to the caller
     */
    TorchBackend(Network network, NDManager owned) {
        this.network = network;
        this.owned = owned;
    }

    /** The network that runs. */
    Network network() {
        return network;
    }

    @Override
    public float[][] probabilities(float[] input, int n, int size) {
        Threads.noGrad(); // callers' threads (a server's pool, Spark's tasks) may have autograd on
        float[] logits;
        try (NDManager scope = network.newManager()) {
            logits = network.forward(nhwc(scope, input, n, size), false).toFloatArray();
        }
        int k = network.classes();
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = softmax(logits, i * k, k);
        }
        return out;
    }

    @Override
    public float[] pooledFeatures(float[] input, int n, int size) {
        Threads.noGrad();
        try (NDManager scope = network.newManager()) {
            return network.pooledFeatures(nhwc(scope, input, n, size)).toFloatArray();
        }
    }

    /** NHWC values seen as NCHW with channels-last strides: libtorch's fastest CPU layout. */
    private static NDArray nhwc(NDManager scope, float[] input, int n, int size) {
        return scope.create(FloatBuffer.wrap(input), new Shape(n, size, size, 3)).transpose(0, 3, 1, 2);
    }

    static float[] softmax(float[] logits, int offset, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) {
            max = Math.max(max, logits[offset + j]);
        }
        double[] e = new double[k];
        double sum = 0;
        for (int j = 0; j < k; j++) {
            e[j] = Math.exp(logits[offset + j] - max);
            sum += e[j];
        }
        float[] p = new float[k];
        for (int j = 0; j < k; j++) {
            p[j] = (float) (e[j] / sum);
        }
        return p;
    }

    @Override
    public ModelRuntime runtime() {
        return ModelRuntime.LIBTORCH;
    }

    @Override
    public void close() {
        if (owned != null) { // a view leaves its network to the owner
            network.close();
            owned.close();
        }
    }
}
