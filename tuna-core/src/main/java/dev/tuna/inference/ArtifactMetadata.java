package dev.tuna.inference;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import dev.tuna.TunaException;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.transform.Normalization;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.ResizeMethod;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything a {@link ModelArtifact} records about a model except its weights: what network to
 * build, how to turn an image into its input, which classes its outputs mean, and how it was made.
 *
 * <p>Immutable. {@link #of} fills in the library versions and the creation time; the canonical
 * constructor takes them as given (as {@link ModelArtifact#read} does).
 *
 * @param architecture the pretrained body
 * @param classes the class names, in output order (at least two, unique, not blank)
 * @param inputSize the side of the square network input in pixels
 * @param resizeMethod how an image of any shape became that square in training
 * @param padMode how {@link ResizeMethod#PAD} filled borders
 * @param normalization the per-channel input normalisation
 * @param tfSamePadding whether strided convolutions use TensorFlow "SAME" padding
 * @param head the shape of the classification head
 * @param seed the seed of the training run
 * @param libraryVersions the libraries that made the model
 * @param createdAt when the model was made
 * @param training what the trainer chose to record (history, settings), stored and returned as is;
 *     {@link JsonNull} when there is nothing
 */
public record ArtifactMetadata(Architecture architecture, List<String> classes, int inputSize,
        ResizeMethod resizeMethod, PadMode padMode, Normalization normalization, boolean tfSamePadding,
        HeadSpec head, long seed, LibraryVersions libraryVersions, Instant createdAt, JsonElement training) {

    /** The largest input size accepted (larger ones are certainly a mistake or a damaged file). */
    public static final int MAX_INPUT_SIZE = 8192;

    /**
     * Validates and copies.
     *
     * @param architecture the pretrained body
     * @param classes the class names, in output order
     * @param inputSize the side of the square network input in pixels
     * @param resizeMethod how images were resized in training
     * @param padMode how {@link ResizeMethod#PAD} filled borders
     * @param normalization the input normalisation
     * @param tfSamePadding whether strided convolutions use TensorFlow "SAME" padding
     * @param head the shape of the classification head
     * @param seed the seed of the training run
     * @param libraryVersions the libraries that made the model
     * @param createdAt when the model was made
     * @param training the trainer's record, or null for none
     * @throws TunaException ({@link TunaException.Kind#USAGE}) naming the invalid value
     */
    public ArtifactMetadata {
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(resizeMethod, "resizeMethod");
        Objects.requireNonNull(padMode, "padMode");
        Objects.requireNonNull(normalization, "normalization");
        Objects.requireNonNull(head, "head");
        Objects.requireNonNull(libraryVersions, "libraryVersions");
        Objects.requireNonNull(createdAt, "createdAt");
        classes = List.copyOf(classes);
        if (classes.size() < 2) {
            throw TunaException.usage("A model needs at least 2 classes; found " + classes.size() + " " + classes
                    + ".");
        }
        Set<String> seen = new HashSet<>();
        for (String name : classes) {
            if (name.isBlank()) {
                throw TunaException.usage("Class names must not be blank; found " + classes + ".");
            }
            if (!seen.add(name)) {
                throw TunaException.usage("Class names must be unique; '" + name + "' appears twice in " + classes
                        + ".");
            }
        }
        if (inputSize < 1 || inputSize > MAX_INPUT_SIZE) {
            throw TunaException.usage("The input size must be 1 to " + MAX_INPUT_SIZE + " pixels; found " + inputSize
                    + ".");
        }
        training = training == null ? JsonNull.INSTANCE : training.deepCopy();
    }

    /**
     * Describes a model made now by this Tuna: records the current {@link LibraryVersions} and time.
     *
     * @param architecture the pretrained body
     * @param classes the class names, in output order
     * @param inputSize the side of the square network input in pixels
     * @param resizeMethod how images were resized in training
     * @param padMode how {@link ResizeMethod#PAD} filled borders
     * @param normalization the input normalisation
     * @param tfSamePadding whether strided convolutions use TensorFlow "SAME" padding
     * @param head the shape of the classification head
     * @param seed the seed of the training run
     * @param training what the trainer records (history, settings), or null
     * @return the metadata
     * @throws TunaException ({@link TunaException.Kind#USAGE}) naming an invalid value
     */
    public static ArtifactMetadata of(Architecture architecture, List<String> classes, int inputSize,
            ResizeMethod resizeMethod, PadMode padMode, Normalization normalization, boolean tfSamePadding,
            HeadSpec head, long seed, JsonElement training) {
        return new ArtifactMetadata(architecture, classes, inputSize, resizeMethod, padMode, normalization,
                tfSamePadding, head, seed, LibraryVersions.current(), Instant.now(), training);
    }

    /**
     * Returns a copy of what the trainer recorded.
     *
     * @return the training record; {@link JsonNull} when there is none
     */
    @Override
    public JsonElement training() {
        return training.deepCopy();
    }

    /**
     * Returns this metadata with another training record.
     *
     * @param newTraining the record (history, settings), or null
     * @return the new metadata
     */
    public ArtifactMetadata withTraining(JsonElement newTraining) {
        return new ArtifactMetadata(architecture, classes, inputSize, resizeMethod, padMode, normalization,
                tfSamePadding, head, seed, libraryVersions, createdAt, newTraining);
    }
}
