package dev.tuna.examples;

import dev.tuna.TunaException;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.Prediction;
import java.nio.file.Path;

/**
 * Loads a model written by {@code tuna train} (or {@code Learner.export}) and prints the three most
 * probable classes of one image.
 *
 * <pre>
 * java -jar target/tuna-example.jar flowers-mobilenet_v2.tuna photo.jpg
 * </pre>
 */
public final class PredictImage {
    private PredictImage() {}

    /**
     * Entry point.
     *
     * @param args the model folder and the image
     */
    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: java -jar tuna-example.jar <model folder> <image>");
            System.exit(1);
        }
        try (Classifier classifier = Classifier.load(Path.of(args[0]))) {
            Prediction prediction = classifier.predict(Path.of(args[1]));
            for (Prediction.Candidate candidate : prediction.top(3)) {
                System.out.printf("%-12s %.4f%n", candidate.label(), candidate.probability());
            }
        } catch (TunaException e) { // a bad model folder or image: the message says what and how to fix it
            System.err.println(e.getMessage());
            System.exit(2);
        }
    }
}
