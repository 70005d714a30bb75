package dev.tuna.internal.nn;

import ai.djl.ndarray.NDList;
import ai.djl.nn.LambdaBlock;
import java.util.function.Function;

/**
 * A parameter-free layer (activation, pooling, permutation, flattening) that says what it computes, so
 * that {@link OnnxGraph} can translate it: a {@link LambdaBlock} with a {@link Kind}. Its forward pass is
 * the function it was made with, unchanged.
 */
final class Op extends LambdaBlock {
    /** What the layer computes. */
    enum Kind {
        /** {@code max(x, 0)}. */
        RELU,
        /** GELU, exact (with {@code erf}). */
        GELU,
        /** SiLU, {@code x · sigmoid(x)}. */
        SILU,
        /** ResNet's stem: 3×3 max pool, stride 2, padding 1. */
        STEM_MAX_POOL,
        /** Global max pool of {@code [n, c, h, w]} to {@code [n, c]}. */
        GLOBAL_MAX_POOL,
        /** Global average pool of {@code [n, c, h, w]} to {@code [n, c]}. */
        GLOBAL_AVG_POOL,
        /** A permutation of the axes ({@link #axes()}). */
        PERMUTE,
        /** Flattens everything after the batch axis. */
        FLATTEN
    }

    private final Kind kind;
    private final int[] axes;

    /**
     * Creates the layer.
     *
     * @param kind what {@code function} computes
     * @param function the forward pass
     * @param axes the permutation for {@link Kind#PERMUTE}, else empty
     */
    Op(Kind kind, Function<NDList, NDList> function, int... axes) {
        super(function, kind.name().toLowerCase(java.util.Locale.ROOT));
        if ((kind == Kind.PERMUTE) == (axes.length == 0)) {
            throw new IllegalArgumentException("axes go with PERMUTE only: " + kind);
        }
        this.kind = kind;
        this.axes = axes.clone();
    }

    /** What the layer computes. */
    Kind kind() {
        return kind;
    }

    /** The permutation of a {@link Kind#PERMUTE} layer. */
    int[] axes() {
        return axes.clone();
    }
}
