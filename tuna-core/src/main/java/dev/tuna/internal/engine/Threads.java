package dev.tuna.internal.engine;

import ai.djl.pytorch.jni.JniUtils;

/** libtorch's thread pools: intra-op threads for one operation, inter-op threads across operations. */
public final class Threads {
    private Threads() {}

    /**
     * Sets libtorch's thread counts; works before and after the engine has started.
     *
     * @param intraOp threads inside one operation (default: one per core)
     * @param interOp threads running independent operations (1 is right for a sequential network)
     */
    public static void configure(int intraOp, int interOp) {
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(intraOp));
        System.setProperty("ai.djl.pytorch.num_interop_threads", Integer.toString(interOp));
        // Starting the engine applies the properties; if it had already started, set intra-op directly.
        ai.djl.engine.Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(intraOp);
    }

    /**
     * Returns libtorch's current intra-op thread count.
     *
     * @return threads
     */
    public static int intraOp() {
        ai.djl.engine.Engine.getEngine("PyTorch");
        return JniUtils.getNumThreads();
    }
}
