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

    /**
     * Turns autograd recording off for the calling thread. libtorch's grad mode is per thread and on by
     * default; DJL turns it off only on the thread that started the engine. Code that loads weights or
     * runs inference on other threads (a server's pool, Spark's task threads) calls this first: an in-place
     * copy into a parameter then works, and inference records no graph. Not inside a gradient collector.
     */
    public static void noGrad() {
        ai.djl.engine.Engine.getEngine("PyTorch");
        if (JniUtils.isGradMode()) {
            JniUtils.setGradMode(false);
        }
    }

    /**
     * Runs {@code action} with autograd recording off on this thread, then restores the thread's mode:
     * PyTorch's {@code torch.no_grad()}. In-place writes into parameters (loading weights) need it on
     * threads where grad mode is on.
     *
     * @param action what to run
     */
    public static void withoutGrad(Runnable action) {
        boolean was = JniUtils.isGradMode();
        if (was) {
            JniUtils.setGradMode(false);
        }
        try {
            action.run();
        } finally {
            if (was) {
                JniUtils.setGradMode(true);
            }
        }
    }
}
