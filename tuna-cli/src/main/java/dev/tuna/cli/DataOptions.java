package dev.tuna.cli;

import dev.tuna.TunaException;
import dev.tuna.data.ImageFolder;
import dev.tuna.data.Splitter;
import dev.tuna.transform.AugTransforms;
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

    @Option(names = "--augment", arity = "0..1", fallbackValue = "fastai", defaultValue = "none",
            paramLabel = "fastai|flip|none",
            description = "Augment training images: fastai (the default when the flag is given without a value:"
                    + " fast.ai's aug_transforms — flip, rotate 10°, zoom 1-1.1, warp 0.2, lighting 0.2), flip"
                    + " (random horizontal flips only) or none (default: ${DEFAULT-VALUE}, as the reference recipe).")
    String augment;

    @Option(names = "--min-scale", defaultValue = "1",
            description = "With --augment fastai: random-resized crop of at least this fraction of each image's"
                    + " area (fast.ai's min_scale; default: ${DEFAULT-VALUE}, no crop).")
    double minScale;

    @Option(names = "--limit-per-class", defaultValue = "0",
            description = "Use only the first N images of each class, for a quick trial (default: all).")
    int limitPerClass;

    /** The --augment value, checked. */
    String augment() {
        String value = augment.toLowerCase(java.util.Locale.ROOT);
        if (!value.equals("fastai") && !value.equals("flip") && !value.equals("none")) {
            throw TunaException.usage("--augment takes fastai, flip or none; found '" + augment + "'.");
        }
        if (minScale != 1 && !value.equals("fastai")) {
            throw TunaException.usage("--min-scale needs --augment fastai (it is part of fast.ai's aug_transforms).");
        }
        return value;
    }

    /** fast.ai's augmentations for --augment fastai, else null. */
    AugTransforms augmentations() {
        return augment().equals("fastai") ? AugTransforms.FASTAI.withMinScale(minScale) : null;
    }

    ImageFolder folder(Path root, Normalization normalization) {
        return ImageFolder.from(root)
                .split(Splitter.random(validPct, seed))
                .resize(size, resize)
                .normalize(normalization)
                .batchSize(batchSize)
                .flip(augment().equals("flip"))
                .augment(augmentations())
                .seed(seed)
                .limitPerClass(limitPerClass)
                .progress(ConsoleProgress.stderr());
    }
}
