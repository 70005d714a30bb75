package dev.tuna.cli;

import dev.tuna.internal.engine.Threads;
import picocli.CommandLine.Option;

/** Thread settings for commands that run the network. */
final class EngineOptions {
    @Option(names = "--threads", description = "libtorch threads (default: one per core).")
    Integer threads;

    void apply() {
        int cores = Runtime.getRuntime().availableProcessors();
        Threads.configure(threads != null ? threads : cores, 1);
    }
}
