package dev.tuna.bench;

import dev.tuna.data.ImageFolder;
import dev.tuna.data.ImageItem;
import dev.tuna.data.ImageList;
import dev.tuna.data.Split;
import dev.tuna.data.Splitter;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.Prediction;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code test-size <model.tuna> <training folder> <sizes...>}: a trained model's validation error and
 * loss when its input is resized to other sizes than it was trained at (the train/test resolution
 * discrepancy of Touvron et al., "FixRes", 2019). The validation items are those of the model's own
 * training run ({@code Splitter.random(0.2, dataSeed)} over the folder), so the choice is never made on
 * a test folder. Each size runs on a temporary copy of the artifact whose {@code inputSize} is changed.
 */
final class TestSizeBench {
    private TestSizeBench() {
    }

    static void run(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: bench test-size <model.tuna> <training folder> <size> [size...]");
            System.exit(1);
        }
        Path model = Path.of(args[1]);
        Path data = Path.of(args[2]);
        try {
            String json = Files.readString(model.resolve("model.json"));
            java.util.regex.Matcher seedMatch = java.util.regex.Pattern.compile("\"dataSeed\": *(\\d+)").matcher(json);
            long seed = seedMatch.find() ? Long.parseLong(seedMatch.group(1)) : 42;
            ImageList list = ImageFolder.from(data).scan();
            Split split = Splitter.random(0.2, seed).split(list.items());
            List<Path> paths = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            for (int i : split.valid()) {
                ImageItem item = list.items().get(i);
                paths.add(item.path());
                labels.add(item.label());
            }
            System.out.println(Machine.cpu());
            System.out.printf(Locale.ROOT, "%s: %d validation images (data seed %d)%n", model, paths.size(), seed);
            System.out.println("| input size at test | valid error | valid NLL |");
            System.out.println("|---:|---:|---:|");
            for (int k = 3; k < args.length; k++) {
                int size = Integer.parseInt(args[k]);
                Path copy = Files.createTempDirectory("tuna-test-size");
                try {
                    Files.writeString(copy.resolve("model.json"),
                            json.replaceFirst("\"inputSize\": *\\d+", "\"inputSize\": " + size));
                    Files.createSymbolicLink(copy.resolve("weights.safetensors"),
                            model.toAbsolutePath().resolve("weights.safetensors"));
                    try (Classifier classifier = Classifier.load(copy)) {
                        List<Prediction> predictions = classifier.predictBatch(paths);
                        int wrong = 0;
                        double nll = 0;
                        for (int i = 0; i < predictions.size(); i++) {
                            Prediction p = predictions.get(i);
                            wrong += p.label().equals(labels.get(i)) ? 0 : 1;
                            nll -= Math.log(Math.max(1e-7, p.probabilities().get(labels.get(i))));
                        }
                        System.out.printf(Locale.ROOT, "| %d | %.4f (%d) | %.4f |%n", size,
                                wrong / (double) paths.size(), wrong, nll / paths.size());
                    }
                } finally {
                    Files.deleteIfExists(copy.resolve("weights.safetensors"));
                    Files.deleteIfExists(copy.resolve("model.json"));
                    Files.deleteIfExists(copy);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
