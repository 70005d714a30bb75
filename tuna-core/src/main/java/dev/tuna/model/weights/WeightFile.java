package dev.tuna.model.weights;

import dev.tuna.TunaException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The tensors read from one weight file, with what the reader learnt about it on the way.
 *
 * @param path the file that was read
 * @param format the file's format
 * @param tensors the tensors by name, in the order the file lists them (unmodifiable)
 * @param metadata the safetensors {@code __metadata__} strings; empty for {@code .pth} files (unmodifiable)
 * @param stateDictKey for a {@code .pth} checkpoint whose top-level dict holds the state dict under a key
 *     ({@code "state_dict"}, {@code "model_state_dict"} or {@code "model"}), that key; empty when the
 *     top-level object is the state dict itself, and for safetensors files
 * @param skipped entries of the state dict that are not tensors, by name, each with a description of
 *     what it holds (e.g. {@code "an int (42)"}); they are left out of {@code tensors} (unmodifiable)
 */
public record WeightFile(Path path, Format format, Map<String, Tensor> tensors, Map<String, String> metadata,
        Optional<String> stateDictKey, Map<String, String> skipped) {

    /** The weight file formats Tuna reads. */
    public enum Format {
        /** A PyTorch {@code torch.save} zip archive (PyTorch 1.6 and later), usually {@code .pth} or {@code .pt}. */
        PTH,
        /** A safetensors file. */
        SAFETENSORS
    }

    /**
     * Checks and copies the components.
     *
     * @param path the file that was read
     * @param format the file's format
     * @param tensors the tensors by name, in file order
     * @param metadata the safetensors metadata
     * @param stateDictKey the key of the state dict in a checkpoint, if any
     * @param skipped the non-tensor entries of the state dict
     */
    public WeightFile {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(stateDictKey, "stateDictKey");
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        skipped = Collections.unmodifiableMap(new LinkedHashMap<>(skipped));
    }

    /**
     * Returns the tensor with the given name.
     *
     * @param name the tensor's name, e.g. {@code "conv1.weight"}
     * @return the tensor
     * @throws TunaException ({@link TunaException.Kind#BAD_MODEL_FILE}) if the file has no such tensor
     */
    public Tensor tensor(String name) {
        Tensor tensor = tensors.get(name);
        if (tensor == null) {
            throw new TunaException(TunaException.Kind.BAD_MODEL_FILE, path + " has no tensor named '" + name
                    + "'; it has " + tensors.size() + " tensors: " + FileProbe.preview(tensors.keySet())
                    + ". Check that the file holds the weights of the expected architecture");
        }
        return tensor;
    }
}
