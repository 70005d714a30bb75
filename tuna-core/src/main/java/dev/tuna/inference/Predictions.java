package dev.tuna.inference;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A model's predictions on a labelled set, with what is needed to judge them: accuracy, the
 * confusion matrix, the most confused pairs and the items with the highest loss.
 *
 * @param classes the vocabulary; indices below refer to it
 * @param items the image files, in prediction order
 * @param probabilities {@code [item][class]} softmax probabilities
 * @param targets the true class of each item
 * @param predicted the most probable class of each item
 * @param losses each item's cross-entropy loss
 */
public record Predictions(List<String> classes, List<Path> items, float[][] probabilities, int[] targets,
        int[] predicted, float[] losses) {

    /**
     * Builds predictions from probabilities: each item's predicted class is its most probable one, its
     * loss {@code −log p(target)} (at least 1e-12 inside the logarithm).
     *
     * @param classes the class names
     * @param items the items' paths
     * @param probabilities one row per item
     * @param targets the true classes
     * @return the predictions
     */
    public static Predictions of(List<String> classes, List<Path> items, float[][] probabilities, int[] targets) {
        int n = probabilities.length;
        int[] predicted = new int[n];
        float[] losses = new float[n];
        for (int i = 0; i < n; i++) {
            float[] row = probabilities[i];
            int best = 0;
            for (int c = 1; c < row.length; c++) {
                if (row[c] > row[best]) {
                    best = c;
                }
            }
            predicted[i] = best;
            losses[i] = (float) -Math.log(Math.max(row[targets[i]], 1e-12f));
        }
        return new Predictions(classes, items, probabilities, targets, predicted, losses);
    }

    /** A pair of classes the model mixes up. */
    public record Confusion(String actual, String predicted, int count) {}

    /**
     * One item and how wrong the model was about it.
     *
     * @param item the item's position
     * @param path its file
     * @param actual its true class
     * @param predicted the predicted class
     * @param probability the predicted class's probability
     * @param loss its loss
     */
    public record Loss(int item, Path path, String actual, String predicted, float probability, float loss) {}

    /**
     * Precision and recall of one class.
     *
     * @param name the class
     * @param precision correct predictions of the class / all predictions of it (NaN when never predicted)
     * @param recall correct predictions of the class / all its items (NaN without items)
     * @param support number of items of the class
     */
    public record ClassMetrics(String name, double precision, double recall, int support) {}

    /**
     * Returns the number of items.
     *
     * @return the total
     */
    public int total() {
        return targets.length;
    }

    /**
     * Returns the number of correctly classified items.
     *
     * @return correct predictions
     */
    public int correct() {
        int n = 0;
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] == predicted[i]) {
                n++;
            }
        }
        return n;
    }

    /**
     * Returns the accuracy.
     *
     * @return correct / total, NaN for an empty set
     */
    public double accuracy() {
        return total() == 0 ? Double.NaN : (double) correct() / total();
    }

    /**
     * Returns the error rate.
     *
     * @return 1 − accuracy
     */
    public double errorRate() {
        return 1 - accuracy();
    }

    /**
     * Returns the mean loss.
     *
     * @return the average cross-entropy
     */
    public double meanLoss() {
        double sum = 0;
        for (float loss : losses) {
            sum += loss;
        }
        return losses.length == 0 ? Double.NaN : sum / losses.length;
    }

    /**
     * Formats the accuracy line, e.g. {@code Test accuracy: 98.40% (246/250)}.
     *
     * @param label the set's name, e.g. "Test"
     * @return the line
     */
    public String accuracyLine(String label) {
        return String.format(Locale.ROOT, "%s accuracy: %.2f%% (%d/%d)", label, 100 * accuracy(), correct(), total());
    }

    /**
     * Returns the confusion matrix: rows are actual classes, columns predicted classes.
     *
     * @return counts
     */
    public int[][] confusionMatrix() {
        int[][] matrix = new int[classes.size()][classes.size()];
        for (int i = 0; i < targets.length; i++) {
            matrix[targets[i]][predicted[i]]++;
        }
        return matrix;
    }

    /**
     * Returns the off-diagonal cells of the confusion matrix with at least {@code minCount} items,
     * most frequent first.
     *
     * @param minCount the smallest count listed
     * @return the pairs
     */
    public List<Confusion> mostConfused(int minCount) {
        int[][] matrix = confusionMatrix();
        List<Confusion> pairs = new ArrayList<>();
        for (int a = 0; a < matrix.length; a++) {
            for (int p = 0; p < matrix.length; p++) {
                if (a != p && matrix[a][p] >= Math.max(1, minCount)) {
                    pairs.add(new Confusion(classes.get(a), classes.get(p), matrix[a][p]));
                }
            }
        }
        pairs.sort(Comparator.comparingInt(Confusion::count).reversed()
                .thenComparing(Confusion::actual).thenComparing(Confusion::predicted));
        return pairs;
    }

    /**
     * Returns the {@code k} items with the highest loss.
     *
     * @param k how many
     * @return the items, highest loss first
     */
    public List<Loss> topLosses(int k) {
        List<Loss> all = new ArrayList<>();
        for (int i = 0; i < targets.length; i++) {
            all.add(new Loss(i, items.get(i), classes.get(targets[i]), classes.get(predicted[i]),
                    probabilities[i][predicted[i]], losses[i]));
        }
        all.sort(Comparator.comparingDouble(Loss::loss).reversed());
        return all.subList(0, Math.min(k, all.size()));
    }

    /**
     * Returns precision and recall per class.
     *
     * @return one entry per class, in vocabulary order
     */
    public List<ClassMetrics> perClass() {
        int[][] matrix = confusionMatrix();
        List<ClassMetrics> out = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            int predictedAs = 0;
            int actual = 0;
            for (int k = 0; k < classes.size(); k++) {
                predictedAs += matrix[k][c];
                actual += matrix[c][k];
            }
            out.add(new ClassMetrics(classes.get(c), predictedAs == 0 ? Double.NaN : (double) matrix[c][c] / predictedAs,
                    actual == 0 ? Double.NaN : (double) matrix[c][c] / actual, actual));
        }
        return out;
    }

    /**
     * Formats the confusion matrix as a text table.
     *
     * @return multi-line text
     */
    public String confusionTable() {
        int[][] matrix = confusionMatrix();
        int width = Math.max(6, classes.stream().mapToInt(String::length).max().orElse(6));
        StringBuilder out = new StringBuilder();
        int first = Math.max(width, 16);
        out.append(String.format(Locale.ROOT, "%-" + first + "s", "actual\\predicted"));
        for (String c : classes) {
            out.append(String.format(Locale.ROOT, " %" + width + "s", c));
        }
        out.append('\n');
        for (int a = 0; a < matrix.length; a++) {
            out.append(String.format(Locale.ROOT, "%-" + first + "s", classes.get(a)));
            for (int p = 0; p < matrix.length; p++) {
                out.append(String.format(Locale.ROOT, " %" + width + "d", matrix[a][p]));
            }
            out.append('\n');
        }
        return out.toString();
    }
}
