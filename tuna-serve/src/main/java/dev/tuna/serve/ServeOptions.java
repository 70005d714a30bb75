package dev.tuna.serve;

import dev.tuna.TunaException;
import dev.tuna.data.ImageDecoder;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link PredictionServer} listens, batches and protects itself.
 *
 * <pre>{@code
 * ServeOptions options = ServeOptions.DEFAULTS.withPort(9000).withBatching(16, Duration.ofMillis(10));
 * }</pre>
 *
 * @param host the address to listen on ({@code 127.0.0.1}: this machine only; {@code 0.0.0.0}: all)
 * @param port the port (0: any free port, see {@link PredictionServer#port()})
 * @param batchSize the most images one forward pass takes (1: no dynamic batching)
 * @param maxDelay how long the worker waits for a batch to fill once it holds a first image
 * @param queueSize the most images waiting per model; more are refused with {@link ErrorKind#QUEUE_FULL}
 * @param maxBodyBytes the largest request body accepted ({@link ErrorKind#BODY_TOO_LARGE} above)
 * @param timeout how long a prediction may take from arrival to answer ({@link ErrorKind#TIMEOUT} after)
 * @param maxPixels the decoder's pixel budget ({@link ErrorKind#TOO_MANY_PIXELS} above)
 * @param warmUp whether to run every batch size once at start, so that no request pays for the first
 *     use of a shape (libtorch's lazy set-up and Tuna's per-shape numerical check)
 * @param threads ONNX Runtime's threads per forward pass for {@code .onnx} models (0: its default, one per
 *     core); libtorch's pool is the process's ({@code Threads.configure}, the command's {@code --threads})
 */
public record ServeOptions(String host, int port, int batchSize, Duration maxDelay, int queueSize, long maxBodyBytes,
        Duration timeout, long maxPixels, boolean warmUp, int threads) {
    /** Localhost:8080, batches of up to 8 within 5 ms, 64 queued per model, 16 MiB bodies, 30 s timeout. */
    public static final ServeOptions DEFAULTS = new ServeOptions("127.0.0.1", 8080, 8, Duration.ofMillis(5), 64,
            16L << 20, Duration.ofSeconds(30), ImageDecoder.DEFAULT_MAX_PIXELS, true, 0);

    /**
     * Validates.
     *
     * @param host the address to listen on
     * @param port the port
     * @param batchSize the most images per forward pass
     * @param maxDelay the longest wait for a batch to fill
     * @param queueSize the most images waiting per model
     * @param maxBodyBytes the largest request body
     * @param timeout the longest a prediction may take
     * @param maxPixels the decoder's pixel budget
     * @param warmUp whether to warm every batch size up at start
     * @param threads ONNX Runtime's threads per forward pass, 0 for its default
     * @throws TunaException ({@link TunaException.Kind#USAGE}) naming the invalid value
     */
    public ServeOptions {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(maxDelay, "maxDelay");
        Objects.requireNonNull(timeout, "timeout");
        if (host.isBlank()) {
            throw TunaException.usage("--host must name an address, e.g. 127.0.0.1 or 0.0.0.0; found nothing.");
        }
        if (port < 0 || port > 65535) {
            throw TunaException.usage("--port must be 0 to 65535 (0: any free port); found " + port + ".");
        }
        if (batchSize < 1 || batchSize > 1024) {
            throw TunaException.usage("--batch-size must be 1 to 1024 (1: no dynamic batching); found " + batchSize
                    + ".");
        }
        if (maxDelay.isNegative() || maxDelay.compareTo(Duration.ofSeconds(10)) > 0) {
            throw TunaException.usage("--max-delay must be 0 to 10 s; found " + maxDelay.toMillis() + " ms.");
        }
        if (queueSize < 1) {
            throw TunaException.usage("--queue-size must be at least 1; found " + queueSize + ".");
        }
        if (maxBodyBytes < 1) {
            throw TunaException.usage("--max-body must be at least 1 byte; found " + maxBodyBytes + ".");
        }
        if (maxBodyBytes > Integer.MAX_VALUE - 64) {
            throw TunaException.usage("--max-body must be under 2 GiB; found " + maxBodyBytes + " bytes.");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw TunaException.usage("--timeout must be positive; found " + timeout.toMillis() + " ms.");
        }
        if (maxPixels < 1) {
            throw TunaException.usage("--max-pixels must be positive; found " + maxPixels + ".");
        }
        if (threads < 0) {
            throw TunaException.usage("--threads must be at least 1; found " + threads + ".");
        }
    }

    /**
     * Returns these options with another address.
     *
     * @param newHost e.g. {@code 0.0.0.0}
     * @return the options
     */
    public ServeOptions withHost(String newHost) {
        return new ServeOptions(newHost, port, batchSize, maxDelay, queueSize, maxBodyBytes, timeout, maxPixels,
                warmUp, threads);
    }

    /**
     * Returns these options with another port.
     *
     * @param newPort the port, 0 for any free one
     * @return the options
     */
    public ServeOptions withPort(int newPort) {
        return new ServeOptions(host, newPort, batchSize, maxDelay, queueSize, maxBodyBytes, timeout, maxPixels,
                warmUp, threads);
    }

    /**
     * Returns these options with other batching.
     *
     * @param newBatchSize the most images per forward pass (1: none)
     * @param newMaxDelay the longest wait for a batch to fill
     * @return the options
     */
    public ServeOptions withBatching(int newBatchSize, Duration newMaxDelay) {
        return new ServeOptions(host, port, newBatchSize, newMaxDelay, queueSize, maxBodyBytes, timeout, maxPixels,
                warmUp, threads);
    }

    /**
     * Returns these options with another queue bound.
     *
     * @param newQueueSize the most images waiting per model
     * @return the options
     */
    public ServeOptions withQueueSize(int newQueueSize) {
        return new ServeOptions(host, port, batchSize, maxDelay, newQueueSize, maxBodyBytes, timeout, maxPixels,
                warmUp, threads);
    }

    /**
     * Returns these options with other request limits.
     *
     * @param newMaxBodyBytes the largest body
     * @param newTimeout the longest a prediction may take
     * @param newMaxPixels the decoder's pixel budget
     * @return the options
     */
    public ServeOptions withLimits(long newMaxBodyBytes, Duration newTimeout, long newMaxPixels) {
        return new ServeOptions(host, port, batchSize, maxDelay, queueSize, newMaxBodyBytes, newTimeout,
                newMaxPixels, warmUp, threads);
    }

    /**
     * Returns these options with or without the warm-up at start.
     *
     * @param newWarmUp whether to run every batch size once at start
     * @return the options
     */
    public ServeOptions withWarmUp(boolean newWarmUp) {
        return new ServeOptions(host, port, batchSize, maxDelay, queueSize, maxBodyBytes, timeout, maxPixels,
                newWarmUp, threads);
    }

    /**
     * Returns these options with another thread count for ONNX Runtime models.
     *
     * @param newThreads threads per forward pass, 0 for ONNX Runtime's default
     * @return the options
     */
    public ServeOptions withThreads(int newThreads) {
        return new ServeOptions(host, port, batchSize, maxDelay, queueSize, maxBodyBytes, timeout, maxPixels, warmUp,
                newThreads);
    }
}
