package dev.tuna.inference;

import dev.tuna.ProgressListener;
import dev.tuna.data.ImageFolder;
import dev.tuna.data.ImageItem;
import dev.tuna.data.ImageList;
import dev.tuna.data.SkippedFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates a {@link Classifier} on a labelled folder ({@code <folder>/<class>/<image>}) with exactly
 * the preprocessing it applies to any image, so the numbers are what a service using it would see.
 */
public final class Evaluation {
    /**
     * The predictions and the files that could not be used.
     *
     * @param predictions the predictions on the usable images
     * @param skipped unreadable files, with reasons
     */
    public record Result(Predictions predictions, List<SkippedFile> skipped) {}

    private Evaluation() {}

    /**
     * Predicts every image of a labelled folder.
     *
     * @param classifier the model
     * @param folder the folder; its class folders must be among the model's classes
     * @param progress receives "evaluate" progress
     * @return predictions and skipped files
     */
    public static Result run(Classifier classifier, Path folder, ProgressListener progress) {
        return run(classifier, folder, progress, false);
    }

    /**
     * Predicts every image of a labelled folder, optionally with the model's test-time augmentation.
     *
     * @param classifier the model
     * @param folder the folder; its class folders must be among the model's classes
     * @param progress receives "evaluate" progress
     * @param tta whether to blend in augmented views ({@link Classifier#tta()})
     * @return predictions and skipped files
     */
    public static Result run(Classifier classifier, Path folder, ProgressListener progress, boolean tta) {
        ImageList list = ImageFolder.from(folder).scan();
        List<String> classes = classifier.classes();
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < classes.size(); i++) {
            index.put(classes.get(i), i);
        }
        List<String> unknown = list.classes().stream().filter(c -> !index.containsKey(c)).toList();
        if (list.items().isEmpty()) {
            throw dev.tuna.TunaException.badData("No images found under " + folder + ". Expected <folder>/<class>/<image>"
                    + " with the model's classes " + classes + ".");
        }
        if (!unknown.isEmpty()) {
            throw dev.tuna.TunaException.badData("The folder " + folder + " has classes the model does not know: "
                    + unknown + ". The model's classes are " + classes + ". Remove or rename those folders.");
        }
        List<SkippedFile> skipped = new ArrayList<>(list.unreadable());
        List<Path> paths = new ArrayList<>();
        List<Integer> targets = new ArrayList<>();
        List<Prediction> predictions = new ArrayList<>();
        List<ImageItem> items = list.items();
        int chunk = Math.max(1, classifier.options().batchSize());
        for (int from = 0; from < items.size(); from += chunk) {
            List<ImageItem> part = items.subList(from, Math.min(items.size(), from + chunk));
            List<Prediction> results;
            try {
                results = classifier.predictBatch(part.stream().map(ImageItem::path).toList(), tta);
            } catch (InvalidImageException e) {
                results = new ArrayList<>();
                for (ImageItem item : part) { // one bad file: predict the chunk one by one
                    try {
                        results.add(classifier.predict(item.path(), tta));
                    } catch (InvalidImageException bad) {
                        results.add(null);
                        skipped.add(new SkippedFile(item.path(), bad.reason()));
                    }
                }
            }
            for (int i = 0; i < part.size(); i++) {
                if (results.get(i) != null) {
                    paths.add(part.get(i).path());
                    targets.add(index.get(part.get(i).label()));
                    predictions.add(results.get(i));
                }
            }
            progress.update("evaluate", Math.min(items.size(), from + chunk), items.size());
        }
        int n = predictions.size();
        float[][] probabilities = new float[n][];
        int[] target = new int[n];
        int[] predicted = new int[n];
        float[] losses = new float[n];
        for (int i = 0; i < n; i++) {
            Prediction p = predictions.get(i);
            float[] row = new float[classes.size()];
            for (int c = 0; c < row.length; c++) {
                row[c] = p.probabilities().get(classes.get(c));
            }
            probabilities[i] = row;
            target[i] = targets.get(i);
            predicted[i] = p.index();
            losses[i] = (float) -Math.log(Math.max(row[target[i]], 1e-12f));
        }
        return new Result(new Predictions(classes, paths, probabilities, target, predicted, losses), skipped);
    }
}
