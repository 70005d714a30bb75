package dev.tuna.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * TensorFlow "SAME" padding for a following convolution with padding 0: pads
 * {@code total = max((ceil(in / stride) - 1) * stride + kernel - in, 0)} per spatial axis, with
 * {@code total / 2} before and the rest after (so 0 before and 1 after for even sizes, stride 2,
 * kernel 3). Weights converted from TensorFlow need it to compute what they computed there.
 */
public final class TfSamePad extends AbstractBlock {
    private final int kernel;
    private final int stride;

    /**
     * Creates the padding for a square kernel.
     *
     * @param kernel kernel size
     * @param stride stride
     */
    public TfSamePad(int kernel, int stride) {
        this.kernel = kernel;
        this.stride = stride;
    }

    /**
     * Returns the padding before and after for one axis.
     *
     * @param size the input size along the axis
     * @param kernel the kernel size
     * @param stride the stride
     * @return {before, after}
     */
    public static int[] amounts(long size, int kernel, int stride) {
        long out = (size + stride - 1) / stride;
        long total = Math.max((out - 1) * stride + kernel - size, 0);
        return new int[] {(int) (total / 2), (int) (total - total / 2)};
    }

    /** The kernel of the convolution this padding is for. */
    int kernel() {
        return kernel;
    }

    /** The stride of the convolution this padding is for. */
    int stride() {
        return stride;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Shape shape = x.getShape();
        int[] h = amounts(shape.get(2), kernel, stride);
        int[] w = amounts(shape.get(3), kernel, stride);
        if (h[0] == 0 && h[1] == 0 && w[0] == 0 && w[1] == 0) {
            return inputs;
        }
        // DJL's pad takes (before, after) pairs from the last axis backwards, as torch.nn.functional.pad.
        return new NDList(x.pad(new Shape(w[0], w[1], h[0], h[1]), 0));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        int[] h = amounts(in.get(2), kernel, stride);
        int[] w = amounts(in.get(3), kernel, stride);
        return new Shape[] {new Shape(in.get(0), in.get(1), in.get(2) + h[0] + h[1], in.get(3) + w[0] + w[1])};
    }
}
