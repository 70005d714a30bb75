package dev.tuna.cli;

import dev.tuna.internal.engine.Threads;
import picocli.CommandLine.Option;

/** Thread settings for commands that run the network. */
final class EngineOptions {
    @Option(names = "--threads", description = "Threads of one forward pass: libtorch's, or ONNX Runtime's for an"
            + " .onnx model (default: one per core).")
    Integer threads;

    /**
     * Configures the engine a model runs on: libtorch for a model folder; nothing for an {@code .onnx} file,
     * which runs on ONNX Runtime with its own thread pool (one thread per core), so libtorch is not started.
     */
    void applyFor(java.nio.file.Path model) {
        if (!java.nio.file.Files.isRegularFile(model)) {
            apply();
        }
    }

    void apply() {
        int cores = Runtime.getRuntime().availableProcessors();
        Threads.configure(threads != null ? checked() : cores, 1);
    }

    /** {@code base} with --threads for ONNX Runtime (libtorch's pool is set by {@link #apply()}). */
    dev.tuna.inference.ClassifierOptions options(dev.tuna.inference.ClassifierOptions base) {
        return base.withThreads(threads != null ? checked() : 0);
    }

    private int checked() {
        if (threads < 1) {
            throw dev.tuna.TunaException.usage("--threads must be at least 1; found " + threads + ".");
        }
        return threads;
    }
}
