package dev.tuna.learn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.tuna.data.Batch;
import dev.tuna.data.BatchIterator;
import dev.tuna.data.DataLoader;
import dev.tuna.model.Network;

/**
 * The pooled body features of every training and validation image, computed once while the body is
 * fixed (Keras-style freezing, deterministic transforms): a frozen epoch then trains only the head
 * on these rows instead of running the body forward and backward for every batch.
 */
final class FrozenFeatures {
    private final float[][] train;
    private final float[][] valid;
    private final int dimension;

    private FrozenFeatures(float[][] train, float[][] valid, int dimension) {
        this.train = train;
        this.valid = valid;
        this.dimension = dimension;
    }

    /**
     * Runs the body (evaluation mode) and the head's pooling over both splits.
     *
     * @param network the network, body fixed
     * @param manager where temporary batches live
     * @param train the training items in evaluation order (same positions as the training loader)
     * @param valid the validation loader
     * @return the features by item position
     */
    static FrozenFeatures compute(Network network, NDManager manager, DataLoader train, DataLoader valid) {
        float[][] trainRows = new float[train.size()][];
        float[][] validRows = new float[valid.size()][];
        int dimension = fill(network, manager, train, trainRows);
        fill(network, manager, valid, validRows);
        return new FrozenFeatures(trainRows, validRows, dimension);
    }

    /** The features of every item of an evaluation-order loader, by position. */
    static float[][] rows(Network network, NDManager manager, DataLoader loader) {
        float[][] rows = new float[loader.size()][];
        fill(network, manager, loader, rows);
        return rows;
    }

    private static int fill(Network network, NDManager manager, DataLoader loader, float[][] rows) {
        int dimension = 0;
        try (BatchIterator batches = loader.iterate(manager, 0)) {
            while (batches.hasNext()) {
                try (Batch batch = batches.next()) {
                    NDArray pooled = network.pooledFeatures(fullBatch(batch.images(), loader.batchSize()));
                    dimension = Math.toIntExact(pooled.getShape().get(1));
                    float[] values = pooled.toFloatArray();
                    int[] positions = batch.items();
                    for (int i = 0; i < positions.length; i++) {
                        rows[positions[i]] = java.util.Arrays.copyOfRange(values, i * dimension, (i + 1) * dimension);
                    }
                }
            }
        }
        return dimension;
    }

    /**
     * A short last batch padded to {@code batchSize} images with copies of its last image. libtorch picks
     * its convolution kernels by shape (on x86 a lone image runs other kernels than a batch, about 2e-5
     * apart after MobileNetV2's body), so a fixed shape makes an image's features independent of how
     * many images shared its batch: the same rows as {@code Classifier.featuresEach} with that batch size.
     *
     * @param images {@code [n, 3, h, w]} with channels-last strides, as the loader makes them
     * @param batchSize the loader's batch size
     * @return {@code [max(n, batchSize), 3, h, w]}, channels-last strides; the caller reads the first n rows
     */
    static NDArray fullBatch(NDArray images, int batchSize) {
        long n = images.getShape().get(0);
        if (n >= batchSize) {
            return images;
        }
        NDArray nhwc = images.transpose(0, 2, 3, 1); // back to the contiguous layout the loader filled
        NDArray copies = nhwc.get(new NDIndex((n - 1) + ":" + n)).repeat(0, batchSize - n);
        return nhwc.concat(copies, 0).transpose(0, 3, 1, 2);
    }

    /** The features of a training batch's items, in the batch's manager. */
    NDArray train(Batch batch) {
        return gather(train, batch);
    }

    /** The features of a validation batch's items, in the batch's manager. */
    NDArray valid(Batch batch) {
        return gather(valid, batch);
    }

    private NDArray gather(float[][] rows, Batch batch) {
        int[] positions = batch.items();
        float[] out = new float[positions.length * dimension];
        for (int i = 0; i < positions.length; i++) {
            System.arraycopy(rows[positions[i]], 0, out, i * dimension, dimension);
        }
        return batch.labels().getManager().create(out, new Shape(positions.length, dimension));
    }
}
