package dev.tuna.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.tuna.TunaException;
import dev.tuna.data.ImageFormat;
import dev.tuna.inference.BatchPredictor;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.ClassifierOptions;
import dev.tuna.inference.Prediction;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tuna predict}: the label and probability of each image. */
@Command(
        name = "predict",
        mixinStandardHelpOptions = true,
        description = {"Predict images with a trained model: label and probability per image (folders are",
                "searched recursively for images, recognised by content).",
                "With --csv, every file of one folder is predicted in batches and written as one CSV row:",
                "path (relative to the folder), label, probability, top_k (label:probability;...), error",
                "(why a file could not be classified; such files never fail the run)."},
        footer = {"", "Examples:", "  tuna predict flowers-resnet18.tuna photo.jpg",
                "  tuna predict flowers-resnet18.tuna photos/ --top-k 3 --json",
                "  tuna predict flowers-resnet18.tuna photos/ --csv predictions.csv --top-k 3",
                "  tuna predict flowers-resnet18.tuna photo.jpg --tta    (fast.ai test-time augmentation)"})
final class PredictCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "<model>", description = "A model folder written by 'tuna train', or an .onnx file from 'tuna export'"
            + " (runs on ONNX Runtime).")
    Path model;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "<image|folder>", description = "Images or folders of images.")
    List<Path> inputs;

    @Option(names = "--top-k", defaultValue = "1", description = "How many classes to show per image (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--tta", description = "Test-time augmentation as fast.ai's tta: 4 views under the transforms the"
            + " model was trained with (random flips if none), blended 0.75/0.25 with the plain prediction.")
    boolean tta;

    @Option(names = "--json", description = "Print one JSON object instead of lines.")
    boolean json;

    @Option(names = "--csv", paramLabel = "<file>", description = "Write one CSV row per file of the folder"
            + " (an existing file is kept and a new name chosen unless --force).")
    Path csv;

    @Option(names = "--batch-size", paramLabel = "<n>", description = "With --csv: images per forward pass"
            + " (default: 32).")
    Integer batchSize;

    @Option(names = "--force", description = "With --csv: overwrite the CSV file if it exists.")
    boolean force;

    @Mixin
    EngineOptions engine;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (topK < 1) {
            throw TunaException.usage("--top-k must be at least 1; found " + topK + ".");
        }
        if (csv != null) {
            return writeCsv();
        }
        if (batchSize != null || force) {
            throw TunaException.usage((batchSize != null ? "--batch-size" : "--force") + " applies to --csv only;"
                    + " add --csv <file>, or leave it out.");
        }
        engine.applyFor(model);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Path> images = new ArrayList<>();
        for (Path input : inputs) {
            images.addAll(expand(input));
        }
        int failures = 0;
        JsonArray results = new JsonArray();
        try (Classifier classifier = Classifier.load(model, engine.options(ClassifierOptions.DEFAULTS))) {
            int k = Math.min(topK, classifier.classes().size());
            for (Path image : images) {
                try {
                    Prediction p = classifier.predict(image, tta);
                    List<Prediction.Candidate> top = p.top(k);
                    if (json) {
                        JsonObject o = new JsonObject();
                        o.addProperty("path", image.toString());
                        o.addProperty("label", p.label());
                        o.addProperty("probability", p.probability());
                        JsonArray topArray = new JsonArray();
                        for (Prediction.Candidate c : top) {
                            JsonObject t = new JsonObject();
                            t.addProperty("label", c.label());
                            t.addProperty("probability", c.probability());
                            topArray.add(t);
                        }
                        o.add("top", topArray);
                        results.add(o);
                    } else {
                        StringBuilder line = new StringBuilder(image.toString()).append('\t');
                        for (int i = 0; i < top.size(); i++) {
                            line.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.4f",
                                    top.get(i).label(), top.get(i).probability()));
                        }
                        out.println(line);
                    }
                } catch (TunaException e) {
                    failures++;
                    if (json) {
                        JsonObject o = new JsonObject();
                        o.addProperty("path", image.toString());
                        o.addProperty("error", e.getMessage());
                        results.add(o);
                    } else {
                        err.println("tuna: " + image + ": " + e.getMessage());
                    }
                }
            }
        }
        if (json) {
            JsonObject o = new JsonObject();
            o.add("predictions", results);
            o.addProperty("failed", failures);
            out.println(new GsonBuilder().setPrettyPrinting().create().toJson(o));
        }
        out.flush();
        err.flush();
        return failures == 0 ? TunaCommand.OK : TunaCommand.BAD_INPUT;
    }

    /** {@code --csv}: every file of one folder, in batches, into a CSV file; unusable files are rows too. */
    private int writeCsv() {
        if (json) {
            throw TunaException.usage("--csv and --json are two output formats; choose one.");
        }
        if (inputs.size() != 1 || !Files.isDirectory(inputs.get(0))) {
            throw TunaException.usage("--csv takes exactly one folder; found " + inputs.size() + " input(s)"
                    + (inputs.size() == 1 ? " that is not a folder: " + inputs.get(0) : ": " + inputs) + ".");
        }
        int batch = batchSize != null ? batchSize : ClassifierOptions.DEFAULTS.batchSize();
        if (batch < 1) {
            throw TunaException.usage("--batch-size must be at least 1; found " + batch + ".");
        }
        engine.applyFor(model);
        PrintWriter out = spec.commandLine().getOut();
        Path folder = inputs.get(0);
        Path file = OutputFiles.freshPath(csv, force);
        BatchPredictor.Summary summary;
        ClassifierOptions options = engine.options(ClassifierOptions.DEFAULTS.withBatchSize(batch));
        try (Classifier classifier = Classifier.load(model, options)) {
            summary = BatchPredictor.of(classifier).topK(topK).tta(tta).progress(ConsoleProgress.stderr())
                    .writeCsv(folder, file, force);
        }
        out.printf(Locale.ROOT, "%d files, %d predicted, %d errors; %.1f images/s (batch size %d)%n",
                summary.files(), summary.files() - summary.errors(), summary.errors(), summary.filesPerSecond(), batch);
        out.println("Predictions: " + file.toAbsolutePath());
        out.flush();
        return TunaCommand.OK;
    }

    /** A file as is; a folder as every image inside it (recursively, sorted, hidden files skipped). */
    private static List<Path> expand(Path input) {
        if (!Files.exists(input)) {
            throw TunaException.badData("Not found: " + input + ". Pass image files or folders of images.");
        }
        if (!Files.isDirectory(input)) {
            return List.of(input);
        }
        try (Stream<Path> files = Files.walk(input)) {
            List<Path> images = files.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(PredictCommand::looksLikeImage).sorted().toList();
            if (images.isEmpty()) {
                throw TunaException.badData("No images found in " + input + ". Expected " + ImageFormat.NAMES + " files.");
            }
            return images;
        } catch (IOException e) {
            throw TunaException.badData("Cannot list " + input + ": " + e.getMessage());
        }
    }

    private static boolean looksLikeImage(Path file) {
        byte[] header = new byte[ImageFormat.HEADER_BYTES];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(header, 0, header.length);
            return ImageFormat.sniff(header, n).isPresent() || ImageFormat.hasImageExtension(file.getFileName().toString());
        } catch (IOException e) {
            return ImageFormat.hasImageExtension(file.getFileName().toString());
        }
    }
}
