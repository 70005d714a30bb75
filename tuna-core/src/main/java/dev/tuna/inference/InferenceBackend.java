package dev.tuna.inference;

/**
 * The engine under a {@link Classifier}: runs the network on normalised images. Implementations are
 * thread-safe for concurrent calls and own their native memory until closed.
 */
interface InferenceBackend extends AutoCloseable {
    /**
     * Runs the network.
     *
     * @param input {@code n} normalised images, interleaved RGB ({@code [n, size, size, 3]}), as
     *     {@link InputPipeline#normalize} writes them
     * @param n the number of images
     * @param size the side of each image in pixels
     * @return each image's class probabilities (softmax of the logits)
     */
    float[][] probabilities(float[] input, int n, int size);

    /**
     * Runs the body and the head's concat pooling only: the features a frozen-body head trains on.
     *
     * @param input {@code n} normalised images, as for {@link #probabilities}
     * @param n the number of images
     * @param size the side of each image in pixels
     * @return {@code n} rows of features, one after the other
     * @throws dev.tuna.TunaException ({@code USAGE}) when this engine cannot give them
     */
    float[] pooledFeatures(float[] input, int n, int size);

    /**
     * Returns the engine.
     *
     * @return {@link ModelRuntime#LIBTORCH} or {@link ModelRuntime#ONNX_RUNTIME}
     */
    ModelRuntime runtime();

    /** Frees native memory; calls still running must finish first. */
    @Override
    void close();
}
