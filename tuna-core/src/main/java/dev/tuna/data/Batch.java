package dev.tuna.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * One mini-batch: images as a float {@code NCHW} array (normalised; channels-last in memory) and class indices as int64.
 *
 * <p>A batch owns its own {@link NDManager}; closing the batch frees its native memory. Always use
 * it in try-with-resources. The image array may share memory with a pooled buffer that is reused
 * once the batch is closed, so do not keep it (or views of it) past {@link #close()}.
 */
public final class Batch implements AutoCloseable {
    private final NDManager manager;
    private final NDArray images;
    private final NDArray labels;
    private final int[] items;
    private final ByteBuffer buffer;
    private final Consumer<ByteBuffer> release;
    private boolean closed;

    Batch(NDManager manager, NDArray images, NDArray labels, int[] items, ByteBuffer buffer,
            Consumer<ByteBuffer> release) {
        this.manager = manager;
        this.images = images;
        this.labels = labels;
        this.items = items;
        this.buffer = buffer;
        this.release = release;
    }

    /**
     * Returns the images.
     *
     * @return float32 {@code [n, 3, size, size]}
     */
    public NDArray images() {
        return images;
    }

    /**
     * Returns the targets.
     *
     * @return int64 {@code [n]} class indices into the vocabulary
     */
    public NDArray labels() {
        return labels;
    }

    /**
     * Returns images and labels as a list, DJL's usual shape for a batch.
     *
     * @return {@code [images, labels]}
     */
    public NDList data() {
        return new NDList(images, labels);
    }

    /**
     * Returns the number of items in this batch.
     *
     * @return the batch size (the last validation batch may be smaller)
     */
    public int size() {
        return items.length;
    }

    /**
     * Returns the indices of this batch's items in the loader's item list.
     *
     * @return positions in {@link DataLoader#items()}
     */
    public int[] items() {
        return items.clone();
    }

    /**
     * Returns the manager that owns this batch's arrays; attach temporary results to it so that
     * they are freed with the batch.
     *
     * @return the batch's manager
     */
    public NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        manager.close();
        release.accept(buffer);
    }
}
