package dev.tuna.inference;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What {@link Classifier#predictEach} and {@link BatchPredictor} give for one file: its prediction, or
 * the reason it could not be classified (exactly one of the two).
 *
 * <pre>{@code
 * for (FilePrediction r : classifier.predictEach(files, false)) {
 *     System.out.println(r.file() + " " + (r.ok() ? r.prediction().label() : "error: " + r.error()));
 * }
 * }</pre>
 *
 * @param file the file
 * @param prediction the prediction, or null when the file could not be classified
 * @param error why the file could not be classified (e.g. "empty file (0 bytes)"), or null when it was
 */
public record FilePrediction(Path file, Prediction prediction, String error) {

    /**
     * Checks that exactly one of prediction and error is given.
     *
     * @param file the file
     * @param prediction the prediction, or null
     * @param error the reason, or null
     * @throws IllegalArgumentException when both or neither are given
     */
    public FilePrediction {
        Objects.requireNonNull(file, "file");
        if ((prediction == null) == (error == null)) {
            throw new IllegalArgumentException("a file has either a prediction or an error; found "
                    + (error == null ? "neither" : "both") + " for " + file);
        }
    }

    /**
     * A file that was classified.
     *
     * @param file the file
     * @param prediction its prediction
     * @return the result
     */
    public static FilePrediction of(Path file, Prediction prediction) {
        return new FilePrediction(file, Objects.requireNonNull(prediction, "prediction"), null);
    }

    /**
     * A file that could not be classified.
     *
     * @param file the file
     * @param error why, e.g. "truncated JPEG file"
     * @return the result
     */
    public static FilePrediction failed(Path file, String error) {
        return new FilePrediction(file, null, Objects.requireNonNull(error, "error"));
    }

    /**
     * Tells whether the file was classified.
     *
     * @return true when {@link #prediction()} is there, false when {@link #error()} says why not
     */
    public boolean ok() {
        return prediction != null;
    }
}
