package dev.tuna.serve;

import dev.tuna.inference.Classifier;
import dev.tuna.inference.PreparedImage;
import dev.tuna.inference.Prediction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Dynamic batching for one model: request threads put prepared images on a bounded queue; one
 * inference worker takes the first waiting image, waits at most {@code maxDelay} for more (up to
 * {@code batchSize}), and runs them through the network in one forward pass. Images whose request
 * gave up (timed out) are skipped. A full queue refuses at once: memory stays bounded under overload.
 */
final class Batcher implements AutoCloseable {
    private static final long IDLE_POLL_MS = 50;

    private record Job(PreparedImage image, CompletableFuture<Prediction> result) {}

    private final String model;
    private final Classifier classifier;
    private final int batchSize;
    private final long maxDelayNanos;
    private final ArrayBlockingQueue<Job> queue;
    private final ServeMetrics metrics;
    private final IntConsumer beforeBatch;
    private final Thread worker;
    private volatile boolean stopping;

    /**
     * Starts the worker.
     *
     * @param model the model's name (metrics label, thread name)
     * @param classifier the model
     * @param batchSize the most images per forward pass
     * @param maxDelay the longest wait for a batch to fill
     * @param queueSize the most images waiting
     * @param metrics where batch sizes and forward times go
     * @param beforeBatch called on the worker with each batch's size before its forward pass (tests
     *     hold the worker here)
     */
    Batcher(String model, Classifier classifier, int batchSize, Duration maxDelay, int queueSize,
            ServeMetrics metrics, IntConsumer beforeBatch) {
        this.model = model;
        this.classifier = classifier;
        this.batchSize = batchSize;
        this.maxDelayNanos = maxDelay.toNanos();
        this.queue = new ArrayBlockingQueue<>(queueSize);
        this.metrics = metrics;
        this.beforeBatch = beforeBatch;
        this.worker = new Thread(this::run, "tuna-serve-" + model);
        this.worker.setDaemon(true);
        this.worker.start();
    }

    /**
     * Queues an image.
     *
     * @param image the prepared image
     * @return its prediction, when its batch has run
     * @throws ApiException ({@link ErrorKind#QUEUE_FULL}) when the queue is full, or
     *     ({@link ErrorKind#SHUTTING_DOWN}) when the worker is stopping
     */
    CompletableFuture<Prediction> submit(PreparedImage image) {
        if (stopping) {
            throw new ApiException(ErrorKind.SHUTTING_DOWN, "The server is shutting down; send the request again"
                    + " to another instance.");
        }
        CompletableFuture<Prediction> result = new CompletableFuture<>();
        if (!queue.offer(new Job(image, result))) {
            throw full();
        }
        return result;
    }

    /**
     * Refuses early, before the request's image is read and decoded, when the queue is already full
     * (so that an overloaded server spends no CPU on images it would refuse).
     *
     * @throws ApiException ({@link ErrorKind#QUEUE_FULL}) when no place is free now
     */
    void checkRoom() {
        if (queue.remainingCapacity() == 0) {
            throw full();
        }
    }

    private ApiException full() {
        return new ApiException(ErrorKind.QUEUE_FULL, "Model '" + model + "' has " + queue.size()
                + " images waiting, its queue's limit (--queue-size); the server is overloaded. Retry later.");
    }

    /**
     * Gives up an image: its request timed out. It leaves the queue at once (freeing its place), or,
     * when already taken, is skipped unless its batch is running.
     *
     * @param result the future {@link #submit} returned
     */
    void cancel(CompletableFuture<Prediction> result) {
        result.cancel(false);
        queue.removeIf(job -> job.result() == result);
    }

    /** Images waiting. */
    int depth() {
        return queue.size();
    }

    private void run() {
        List<Job> batch = new ArrayList<>(batchSize);
        while (true) {
            Job first;
            try {
                first = queue.poll(IDLE_POLL_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                break; // close() waits for an empty queue before it interrupts
            }
            if (first == null) {
                if (stopping) {
                    break;
                }
                continue;
            }
            batch.clear();
            batch.add(first);
            fill(batch);
            batch.removeIf(job -> job.result().isDone()); // its request gave up
            if (!batch.isEmpty()) {
                runBatch(batch);
            }
        }
    }

    /** Adds waiting images, and those arriving within the delay, up to the batch size. */
    private void fill(List<Job> batch) {
        long deadline = System.nanoTime() + maxDelayNanos;
        while (batch.size() < batchSize) {
            queue.drainTo(batch, batchSize - batch.size());
            long left = deadline - System.nanoTime();
            if (batch.size() >= batchSize || left <= 0) {
                return;
            }
            try {
                Job next = queue.poll(left, TimeUnit.NANOSECONDS);
                if (next == null) {
                    return;
                }
                batch.add(next);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void runBatch(List<Job> batch) {
        try {
            beforeBatch.accept(batch.size());
            List<PreparedImage> images = new ArrayList<>(batch.size());
            for (Job job : batch) {
                images.add(job.image());
            }
            long start = System.nanoTime();
            List<Prediction> predictions = classifier.predictPrepared(images);
            metrics.batch(model, batch.size(), (System.nanoTime() - start) / 1e9);
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).result().complete(predictions.get(i));
            }
        } catch (RuntimeException | Error e) {
            for (Job job : batch) {
                job.result().completeExceptionally(e);
            }
        }
    }

    /**
     * Stops taking images, runs those already queued, and waits for the worker to end.
     *
     * @param wait the longest wait for the queue to empty
     */
    void stop(Duration wait) {
        stopping = true;
        try {
            worker.join(Math.max(1, wait.toMillis()));
            if (worker.isAlive()) {
                worker.interrupt();
                worker.join(1000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Job left;
        while ((left = queue.poll()) != null) {
            left.result().completeExceptionally(new ApiException(ErrorKind.SHUTTING_DOWN,
                    "The server stopped before this image's turn; send the request again."));
        }
    }

    /** Stops at once, failing whatever is still queued. */
    @Override
    public void close() {
        stop(Duration.ZERO);
    }
}
