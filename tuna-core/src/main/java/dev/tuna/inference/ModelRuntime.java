package dev.tuna.inference;

/**
 * Which engine a {@link Classifier} runs its network on.
 *
 * <pre>{@code
 * Classifier.load(Path.of("flowers.onnx"));                                      // ONNX Runtime, by the path
 * Classifier.load(Path.of("flowers.tuna"),
 *         ClassifierOptions.DEFAULTS.withRuntime(ModelRuntime.ONNX_RUNTIME));  // exported in memory first
 * }</pre>
 */
public enum ModelRuntime {
    /** By what the path is: a model folder runs on libtorch, an {@code .onnx} file on ONNX Runtime. */
    AUTO,
    /** libtorch through DJL, from a model folder ({@link ModelArtifact}). */
    LIBTORCH,
    /**
     * ONNX Runtime (CPU), from an {@code .onnx} file written by {@link OnnxExport}, or from a model folder,
     * which is then exported in memory (that step needs libtorch; prediction does not).
     */
    ONNX_RUNTIME
}
