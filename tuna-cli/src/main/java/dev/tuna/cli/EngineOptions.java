package dev.tuna.cli;

import dev.tuna.internal.engine.Threads;
import picocli.CommandLine.Option;

/** Thread settings for commands that run the network. */
final class EngineOptions {
    @Option(names = "--threads", description = "libtorch threads (default: one per core); an .onnx model"
            + " runs on ONNX Runtime, one thread per core.")
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
        Threads.configure(threads != null ? threads : cores, 1);
    }
}
