package dev.tuna.internal.nn;

import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.ParallelBlock;
import java.util.List;

/**
 * Runs several blocks on the same input and concatenates their single outputs along the channel axis
 * (fast.ai's concat pool): a {@link ParallelBlock} whose join {@link OnnxGraph} can translate.
 */
final class Concat extends ParallelBlock {
    /**
     * Creates the block.
     *
     * @param branches the blocks, each with one output
     */
    Concat(List<Block> branches) {
        super(Concat::join, branches);
    }

    private static NDList join(List<NDList> outputs) {
        NDList arrays = new NDList(outputs.size());
        outputs.forEach(o -> arrays.add(o.singletonOrThrow()));
        return new NDList(NDArrays.concat(arrays, 1));
    }
}
