package dev.tuna.learn;

import ai.djl.ndarray.NDArray;
import dev.tuna.data.Batch;
import dev.tuna.data.BatchIterator;
import dev.tuna.data.DataLoader;
import dev.tuna.data.ImageItem;
import dev.tuna.inference.Predictions;
import dev.tuna.transform.Tta;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Predictions over a loader's batches, already decoded and normalised in memory: validation after each
 * epoch, and {@link Learner#predict(DataLoader, boolean)}. Folders and single images go through
 * {@link dev.tuna.inference.Evaluation} and the {@link dev.tuna.inference.Classifier} instead; both
 * blend test-time augmentation with {@link Tta#blend}.
 */
final class LoaderPredictions {
    private LoaderPredictions() { }

    /** Evaluation-mode predictions, optionally with the learner's test-time augmentation. */
    static Predictions of(Learner learner, DataLoader loader, boolean tta) {
        Function<Batch, NDArray> softmax = batch -> learner.network().forward(batch.images(), false).softmax(1);
        Predictions plain = of(learner, loader, softmax);
        if (!tta) {
            return plain;
        }
        Tta policy = learner.tta();
        float[][][] passes = new float[policy.passes()][][];
        for (int pass = 0; pass < passes.length; pass++) {
            passes[pass] = of(learner, loader.withTta(policy, pass), softmax).probabilities();
        }
        return Predictions.of(plain.classes(), plain.items(), policy.blend(plain.probabilities(), passes),
                plain.targets());
    }

    /** Runs {@code probabilitiesOf} over every batch and gathers the rows in item order. */
    static Predictions of(Learner learner, DataLoader loader, Function<Batch, NDArray> probabilitiesOf) {
        int n = loader.size();
        int classes = learner.network().classes();
        float[][] probabilities = new float[n][];
        int[] targets = new int[n];
        int[] predicted = new int[n];
        float[] losses = new float[n];
        int[] order = new int[n];
        int k = 0;
        try (BatchIterator batches = loader.iterate(learner.manager(), 0)) {
            while (batches.hasNext()) {
                try (Batch batch = batches.next()) {
                    float[] values = probabilitiesOf.apply(batch).toFloatArray();
                    long[] labels = batch.labels().toLongArray();
                    int[] positions = batch.items();
                    for (int i = 0; i < positions.length; i++, k++) {
                        float[] row = Arrays.copyOfRange(values, i * classes, (i + 1) * classes);
                        probabilities[k] = row;
                        targets[k] = (int) labels[i];
                        int best = 0;
                        for (int c = 1; c < classes; c++) {
                            if (row[c] > row[best]) {
                                best = c;
                            }
                        }
                        predicted[k] = best;
                        losses[k] = (float) -Math.log(Math.max(row[targets[k]], 1e-12f));
                        order[k] = positions[i];
                    }
                }
            }
        }
        List<ImageItem> items = loader.items();
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            paths.add(items.get(order[i]).path());
        }
        return new Predictions(learner.data().classes(), paths, Arrays.copyOf(probabilities, k),
                Arrays.copyOf(targets, k), Arrays.copyOf(predicted, k), Arrays.copyOf(losses, k));
    }
}
