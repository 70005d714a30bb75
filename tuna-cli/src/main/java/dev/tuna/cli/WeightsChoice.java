package dev.tuna.cli;

import dev.tuna.ProgressListener;
import dev.tuna.model.Architecture;
import dev.tuna.model.PretrainedWeights;
import dev.tuna.model.WeightCatalog;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Turns {@code --arch} and {@code --weights} into a catalogue entry and, for a file, its path:
 * {@code --weights} may name a catalogue entry or a file; a file whose name is a catalogue entry's
 * file gets that entry's metadata (normalisation, padding, folded batch norm), any other file the
 * architecture's torchvision conventions. Without {@code --weights}, the first catalogue entry of the
 * architecture that is already on disk is used, else its torchvision weights (downloaded).
 * {@code --weights none} trains from a random initialisation ({@code entry} is then null).
 */
record WeightsChoice(PretrainedWeights entry, Path file) {
    /** The input normalisation the chosen weights expect (the architecture's for random weights). */
    dev.tuna.transform.Normalization normalization(Architecture arch) {
        return entry != null ? entry.normalization() : arch.normalization();
    }

    String describe() {
        return file != null ? file.toString() : entry != null ? entry.name() : "none (random initialisation)";
    }

    static WeightsChoice of(Architecture arch, String weights, WeightCatalog catalog) {
        if ("none".equalsIgnoreCase(weights)) {
            return new WeightsChoice(null, null); // train from a random initialisation
        }
        if (weights == null) {
            return new WeightsChoice(catalog.preferred(arch), null);
        }
        Path path = Path.of(weights);
        if (Files.exists(path) || weights.contains("/") || weights.endsWith(".pth") || weights.endsWith(".safetensors")) {
            if (!Files.isRegularFile(path)) {
                throw new dev.tuna.TunaException(dev.tuna.TunaException.Kind.BAD_MODEL_FILE, "Weights file not found: "
                        + path + ". Pass a .pth or .safetensors file, or a catalogue name such as "
                        + PretrainedWeights.defaultFor(arch).name() + ".");
            }
            String name = path.getFileName().toString();
            for (PretrainedWeights entry : PretrainedWeights.CATALOGUE) {
                if (entry.fileName().equals(name)) {
                    return new WeightsChoice(entry, path);
                }
            }
            return new WeightsChoice(PretrainedWeights.defaultFor(arch), path);
        }
        return new WeightsChoice(PretrainedWeights.named(weights), null);
    }

    static WeightCatalog catalog() {
        return WeightCatalog.standard(ConsoleProgress.stderr());
    }

    static WeightCatalog quietCatalog() {
        return WeightCatalog.standard(ProgressListener.NONE);
    }
}
