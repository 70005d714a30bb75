package dev.tuna.inference;

import dev.tuna.TunaException;
import dev.tuna.data.ImageDecoder;

/**
 * How a {@link Classifier} reads and batches its input.
 *
 * <pre>{@code
 * Classifier classifier = Classifier.load(dir, ClassifierOptions.DEFAULTS.withMaxPixels(400_000_000L));
 * }</pre>
 *
 * @param maxPixels the largest image (width × height, read from the header) that is decoded; larger
 *     ones are refused with {@link InvalidImageException}
 * @param batchSize how many images {@link Classifier#predictBatch} runs through the network at once
 * @param runtime the engine that runs the network ({@link ModelRuntime#AUTO}: by what the path is)
 * @param threads ONNX Runtime's threads inside one forward pass (0: its default, one per physical core);
 *     libtorch's thread pool is the process's, set once for all its models ({@code --threads} on the command line)
 */
public record ClassifierOptions(long maxPixels, int batchSize, ModelRuntime runtime, int threads) {
    /** {@link ImageDecoder#DEFAULT_MAX_PIXELS} pixels, batches of 32, the runtime chosen by the path. */
    public static final ClassifierOptions DEFAULTS = new ClassifierOptions(ImageDecoder.DEFAULT_MAX_PIXELS, 32);

    /**
     * Validates.
     *
     * @param maxPixels the largest width × height decoded
     * @param batchSize images per forward pass in {@link Classifier#predictBatch}
     * @param runtime the engine that runs the network
     * @param threads ONNX Runtime's intra-op threads, 0 for its default
     * @throws TunaException ({@link TunaException.Kind#USAGE}) for a non-positive value
     */
    public ClassifierOptions {
        java.util.Objects.requireNonNull(runtime, "runtime");
        if (maxPixels < 1) {
            throw TunaException.usage("The pixel limit must be positive; found " + maxPixels + ".");
        }
        if (batchSize < 1) {
            throw TunaException.usage("The batch size must be positive; found " + batchSize + ".");
        }
        if (threads < 0) {
            throw TunaException.usage("The thread count must be positive (or 0 for the runtime's default); found "
                    + threads + ".");
        }
    }

    /**
     * Options with ONNX Runtime's default threads.
     *
     * @param maxPixels the largest width × height decoded
     * @param batchSize images per forward pass in {@link Classifier#predictBatch}
     * @param runtime the engine that runs the network
     */
    public ClassifierOptions(long maxPixels, int batchSize, ModelRuntime runtime) {
        this(maxPixels, batchSize, runtime, 0);
    }

    /**
     * Options with the runtime chosen by the path ({@link ModelRuntime#AUTO}).
     *
     * @param maxPixels the largest width × height decoded
     * @param batchSize images per forward pass in {@link Classifier#predictBatch}
     */
    public ClassifierOptions(long maxPixels, int batchSize) {
        this(maxPixels, batchSize, ModelRuntime.AUTO);
    }

    /**
     * Returns these options with another pixel limit.
     *
     * @param newMaxPixels the largest width × height decoded
     * @return the options
     */
    public ClassifierOptions withMaxPixels(long newMaxPixels) {
        return new ClassifierOptions(newMaxPixels, batchSize, runtime, threads);
    }

    /**
     * Returns these options with another batch size.
     *
     * @param newBatchSize images per forward pass in {@link Classifier#predictBatch}
     * @return the options
     */
    public ClassifierOptions withBatchSize(int newBatchSize) {
        return new ClassifierOptions(maxPixels, newBatchSize, runtime, threads);
    }

    /**
     * Returns these options with another runtime.
     *
     * @param newRuntime the engine that runs the network
     * @return the options
     */
    public ClassifierOptions withRuntime(ModelRuntime newRuntime) {
        return new ClassifierOptions(maxPixels, batchSize, newRuntime, threads);
    }

    /**
     * Returns these options with another thread count for ONNX Runtime.
     *
     * @param newThreads intra-op threads of one forward pass, 0 for ONNX Runtime's default
     * @return the options
     */
    public ClassifierOptions withThreads(int newThreads) {
        return new ClassifierOptions(maxPixels, batchSize, runtime, newThreads);
    }
}
