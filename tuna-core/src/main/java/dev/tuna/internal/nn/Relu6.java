package dev.tuna.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.tuna.internal.engine.TorchOps;

/**
 * {@code min(max(x, 0), 6)}, MobileNetV2's activation.
 *
 * <p>For inference it is one clamp. For training, clamp's backward is slow in libtorch (it builds
 * boolean masks: MobileNetV2's backward pass took 1.8 s instead of 1.1 s per batch of 64 at 192 px
 * on 2 cores), so training uses libtorch's {@code hardtanh} through {@link TorchOps} where that is
 * available: one kernel each way, as cheap as a ReLU (MobileNetV2 full training 32 → 44 img/s).
 * Elsewhere it falls back to {@code relu(x) − relu(x − 6)}, the same function built from DJL's
 * operations: values identical up to 12 and within one rounding of {@code x} above, where the output
 * is 6 to float precision; gradient 1 on (0, 6) and 0 outside, like hardtanh's (the two differ only
 * at exactly 6, where the fallback passes the gradient).
 */
final class Relu6 extends AbstractBlock {
    private final boolean nativeAllowed;

    /** ReLU6 using libtorch's hardtanh for training where available. */
    Relu6() {
        this(true);
    }

    /**
     * ReLU6, optionally restricted to DJL's operations.
     *
     * @param nativeAllowed whether training may use {@link TorchOps#relu6}
     */
    Relu6(boolean nativeAllowed) {
        this.nativeAllowed = nativeAllowed;
        if (nativeAllowed) {
            // bind (and self-check, which needs its own gradient collector) now, outside any training step
            TorchOps.available();
        }
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        if (!training) {
            return new NDList(x.clip(0, 6));
        }
        if (nativeAllowed && x.getDataType() == DataType.FLOAT32 && TorchOps.available()) {
            return new NDList(TorchOps.relu6(x));
        }
        NDArray lower = Activation.relu(x);
        NDArray shifted = x.sub(6f);
        NDArray upper = Activation.relu(shifted);
        shifted.close(); // temporaries go at once; autograd keeps the ReLU outputs it needs
        NDArray out = lower.sub(upper);
        lower.close();
        upper.close();
        return new NDList(out);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
