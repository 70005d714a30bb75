package dev.tuna.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.tuna.TunaException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The batches of one epoch. A background thread assembles the next batch (cache read, crop, flip,
 * normalisation into a native-order buffer) while the caller trains on the current one; the caller's
 * thread only wraps the finished buffer as an array, without copying it.
 */
public final class BatchIterator implements Iterator<Batch>, AutoCloseable {
    private static final Object END = new Object();

    private final DataLoader loader;
    private final NDManager manager;
    private final int batches;
    private final BlockingQueue<Object> ready = new ArrayBlockingQueue<>(1);
    private final ConcurrentLinkedQueue<ByteBuffer> free = new ConcurrentLinkedQueue<>();
    private final Thread producer;
    private final long bufferBytes;
    private volatile boolean cancelled;
    private int delivered;
    private Object next;

    private record Prepared(ByteBuffer buffer, long[] labels, int[] positions) {}

    private record Failure(Throwable error) {}

    BatchIterator(DataLoader loader, NDManager manager, int epoch) {
        this.loader = loader;
        this.manager = manager;
        this.batches = loader.batchCount();
        int size = loader.imageSize();
        this.bufferBytes = (long) loader.batchSize() * 3 * size * size * Float.BYTES;
        this.producer = new Thread(() -> produce(epoch), "tuna-batches-" + loader.name());
        producer.setDaemon(true);
        producer.start();
    }

    private void produce(int epoch) {
        try {
            SplittableRandom random = loader.epochRandom(epoch);
            int[] order = loader.epochOrder(random);
            int size = loader.imageSize();
            float[] floats = new float[loader.batchSize() * 3 * size * size];
            byte[] scratch = new byte[loader.maxCachedBytes()];
            float[][] lut = loader.normalization().lookupTable();
            for (int k = 0; k < batches && !cancelled; k++) {
                int from = k * loader.batchSize();
                int to = Math.min(order.length, from + loader.batchSize());
                int[] positions = Arrays.copyOfRange(order, from, to);
                long[] labels = new long[positions.length];
                loader.assemble(positions, loader.training() ? random : null, floats, labels, scratch, lut);
                ByteBuffer buffer = free.poll();
                if (buffer == null) {
                    buffer = ByteBuffer.allocateDirect(Math.toIntExact(bufferBytes)).order(ByteOrder.nativeOrder());
                }
                int count = positions.length * 3 * size * size;
                buffer.clear();
                buffer.asFloatBuffer().put(floats, 0, count);
                buffer.limit(count * Float.BYTES);
                ready.put(new Prepared(buffer, labels, positions));
            }
            ready.put(END);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable e) { // hand any failure to the consumer instead of dying silently
            try {
                ready.put(new Failure(e));
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean hasNext() {
        if (next == null) {
            if (delivered >= batches || cancelled) {
                return false;
            }
            try {
                next = ready.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TunaException(TunaException.Kind.RUNTIME, "Interrupted while waiting for a batch", e);
            }
        }
        if (next instanceof Failure failure) {
            next = null;
            cancelled = true;
            if (failure.error() instanceof RuntimeException re) {
                throw re;
            }
            throw new TunaException(TunaException.Kind.RUNTIME, "Preparing a batch failed: " + failure.error(),
                    failure.error());
        }
        return next != END;
    }

    @Override
    public Batch next() {
        if (!hasNext()) {
            throw new NoSuchElementException("no more batches in this epoch");
        }
        Prepared prepared = (Prepared) next;
        next = null;
        delivered++;
        int n = prepared.positions().length;
        int size = loader.imageSize();
        NDManager sub = manager.newSubManager();
        try {
            ByteBuffer buffer = prepared.buffer();
            buffer.position(0);
            // NHWC storage seen as NCHW with channels-last strides (no copy)
            NDArray images = sub.create(buffer, new Shape(n, size, size, 3), DataType.FLOAT32).transpose(0, 3, 1, 2);
            NDArray labels = sub.create(prepared.labels());
            return new Batch(sub, images, labels, prepared.positions(), buffer, free::add);
        } catch (RuntimeException e) {
            sub.close();
            free.add(prepared.buffer());
            throw e;
        }
    }

    /**
     * Returns the number of batches in this epoch.
     *
     * @return batches per epoch
     */
    public int batchCount() {
        return batches;
    }

    /** Stops the background thread; batches already handed out stay valid until closed. */
    @Override
    public void close() {
        cancelled = true;
        producer.interrupt();
        try {
            producer.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ready.clear();
    }
}
