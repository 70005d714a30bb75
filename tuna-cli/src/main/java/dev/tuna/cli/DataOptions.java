package dev.tuna.cli;

import dev.tuna.data.ImageFolder;
import dev.tuna.data.Splitter;
import dev.tuna.transform.Normalization;
import dev.tuna.transform.ResizeMethod;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The data options shared by train, lr-find and demo. */
final class DataOptions {
    @Option(names = "--size", defaultValue = "192", description = "Image side in pixels (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--resize", defaultValue = "squish", converter = Converters.Resize.class,
            description = "How images become square: squish, crop or pad (default: ${DEFAULT-VALUE}).")
    ResizeMethod resize;

    @Option(names = "--valid-pct", defaultValue = "0.2",
            description = "Fraction held out for validation (default: ${DEFAULT-VALUE}).")
    double validPct;

    @Option(names = "--seed", defaultValue = "42",
            description = "Seed of the split, shuffling and head initialisation (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--bs", defaultValue = "64", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--augment", negatable = true, defaultValue = "false",
            description = "Random horizontal flips of training images (default: off, as the reference recipe).")
    boolean augment;

    @Option(names = "--limit-per-class", defaultValue = "0",
            description = "Use only the first N images of each class, for a quick trial (default: all).")
    int limitPerClass;

    ImageFolder folder(Path root, Normalization normalization) {
        return ImageFolder.from(root)
                .split(Splitter.random(validPct, seed))
                .resize(size, resize)
                .normalize(normalization)
                .batchSize(batchSize)
                .flip(augment)
                .seed(seed)
                .limitPerClass(limitPerClass)
                .progress(ConsoleProgress.stderr());
    }
}
