package dev.tuna.inference;

import dev.tuna.TunaException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link Classifier} predicts for one image: the most probable class and the softmax
 * probability of every class.
 *
 * @param label the most probable class (the first of equally probable ones)
 * @param probability its probability
 * @param index its position in the model's class list
 * @param probabilities every class's probability, in the model's class order (unmodifiable)
 */
public record Prediction(String label, float probability, int index, Map<String, Float> probabilities) {

    /**
     * One class and its probability, as ranked by {@link #top(int)}.
     *
     * @param label the class
     * @param probability its probability
     * @param index its position in the model's class list
     */
    public record Candidate(String label, float probability, int index) {
    }

    /**
     * Checks the components and copies the probabilities, keeping their order.
     *
     * @param label the most probable class
     * @param probability its probability
     * @param index its position in the class list
     * @param probabilities every class's probability, in class order
     * @throws IllegalArgumentException when {@code label} and {@code index} do not name the same class
     */
    public Prediction {
        Objects.requireNonNull(label, "label");
        probabilities = Collections.unmodifiableMap(new LinkedHashMap<>(probabilities));
        List<String> names = new ArrayList<>(probabilities.keySet());
        if (index < 0 || index >= names.size() || !names.get(index).equals(label)) {
            throw new IllegalArgumentException("class " + index + " of " + names + " is not '" + label + "'");
        }
    }

    /**
     * Builds a prediction from probabilities in class order.
     *
     * @param classes the class names
     * @param values the probabilities, one per class
     * @return the prediction of the first most probable class
     */
    static Prediction of(List<String> classes, float[] values) {
        Map<String, Float> map = new LinkedHashMap<>();
        int best = 0;
        for (int i = 0; i < values.length; i++) {
            map.put(classes.get(i), values[i]);
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return new Prediction(classes.get(best), values[best], best, map);
    }

    /**
     * Returns the {@code k} most probable classes, most probable first (ties in class order).
     *
     * @param k how many; more than the number of classes returns them all
     * @return the candidates
     * @throws TunaException ({@link TunaException.Kind#USAGE}) when {@code k} is less than 1
     */
    public List<Candidate> top(int k) {
        if (k < 1) {
            throw TunaException.usage("top(k) needs k of at least 1; found " + k + ".");
        }
        List<Candidate> all = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, Float> entry : probabilities.entrySet()) {
            all.add(new Candidate(entry.getKey(), entry.getValue(), i++));
        }
        all.sort(Comparator.comparingDouble((Candidate c) -> c.probability()).reversed()
                .thenComparingInt(Candidate::index));
        return List.copyOf(all.subList(0, Math.min(k, all.size())));
    }
}
