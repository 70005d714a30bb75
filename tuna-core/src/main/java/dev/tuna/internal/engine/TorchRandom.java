package dev.tuna.internal.engine;

import ai.djl.pytorch.jni.JniUtils;

/**
 * libtorch's global random generator (not API), which dropout draws from. Seeding it at known points
 * makes training reproducible within a process and across a resumed run.
 */
public final class TorchRandom {
    private TorchRandom() {}

    /**
     * Seeds libtorch's default CPU generator ({@code torch.manual_seed}).
     *
     * @param seed the seed
     */
    public static void seed(long seed) {
        ai.djl.engine.Engine.getEngine("PyTorch");
        JniUtils.setSeed(seed);
    }
}
