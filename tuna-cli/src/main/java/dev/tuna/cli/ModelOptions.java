package dev.tuna.cli;

import dev.tuna.TunaException;
import dev.tuna.learn.FreezeMode;
import dev.tuna.model.Architecture;
import dev.tuna.model.PretrainedWeights;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code --arch} and {@code --weights}, shared by train, lr-find and demo. */
final class ModelOptions {
    @Option(names = "--arch", defaultValue = "resnet18", converter = Converters.Arch.class,
            completionCandidates = Converters.ArchIds.class,
            description = "One of ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Architecture arch;

    @Option(names = "--weights", paramLabel = "<name|file|none>",
            description = "Catalogue name (e.g. resnet18, mobilenet_v2_tflite), a .pth/.safetensors file, or"
                    + " 'none' for random initialisation (default: the architecture's weights found in"
                    + " $TUNA_HOME, else downloaded).")
    String weights;

    @Option(names = "--freeze-mode", defaultValue = "train-bn", converter = Converters.Freeze.class,
            paramLabel = "<train-bn|frozen-bn>",
            description = "What the frozen epoch freezes: train-bn (fast.ai: batch norm keeps training; the default)"
                    + " or frozen-bn (Keras-style: the whole body is fixed, so its features are computed once and"
                    + " only the head trains on them: a much faster frozen epoch).")
    FreezeMode freezeMode;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /**
     * The architecture to build: catalogue weights name theirs, and an explicit {@code --arch} that
     * disagrees is refused.
     */
    Architecture architecture() {
        if (weights == null || weights.equalsIgnoreCase("none") || weights.contains("/") || weights.endsWith(".pth")
                || weights.endsWith(".safetensors")) {
            return arch;
        }
        Architecture forWeights = PretrainedWeights.named(weights).architecture();
        boolean archGiven = command != null && command.commandLine() != null
                && command.commandLine().getParseResult() != null
                && command.commandLine().getParseResult().hasMatchedOption("--arch");
        if (archGiven && forWeights != arch) {
            throw TunaException.usage("The weights '" + weights + "' are for " + forWeights.id() + ", not "
                    + arch.id() + ". Drop --arch or choose weights for " + arch.id() + ".");
        }
        return forWeights;
    }

    /** The weights to load (downloading catalogue weights when they are missing and online). */
    WeightsChoice choice() {
        return WeightsChoice.of(architecture(), weights, WeightsChoice.catalog());
    }
}
