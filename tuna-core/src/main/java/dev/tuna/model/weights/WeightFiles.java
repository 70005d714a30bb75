package dev.tuna.model.weights;

import dev.tuna.TunaException;
import java.nio.file.Path;

/**
 * Reads a weight file of either format Tuna supports, recognised by its content rather than its name.
 *
 * <pre>{@code
 * WeightFile weights = WeightFiles.read(Path.of("resnet34.pth")); // or a .safetensors file
 * for (Tensor tensor : weights.tensors().values()) {
 *     System.out.println(tensor); // Tensor[conv1.weight, F32, [64, 3, 7, 7]] ...
 * }
 * }</pre>
 */
public final class WeightFiles {
    private WeightFiles() {
    }

    /**
     * Reads a {@code torch.save} file ({@link PthReader}) or a safetensors file ({@link SafetensorsReader}),
     * whichever the file's first bytes show it to be.
     *
     * @param path the weight file
     * @return its tensors
     * @throws TunaException ({@code BAD_MODEL_FILE}) if the file is missing, of another kind, or
     *     unreadable; the message says what was found and how to fix it
     */
    public static WeightFile read(Path path) {
        long size = FileProbe.checkFile(path);
        byte[] head = FileProbe.head(path);
        if (FileProbe.isZip(head) || FileProbe.isPickle(head)) {
            return PthReader.read(path);
        }
        if (FileProbe.mayBeSafetensors(head)) {
            return SafetensorsReader.read(path);
        }
        throw FileProbe.bad("expected a .pth (torch.save) or .safetensors file, found " + FileProbe.describe(head, size)
                + " at " + path + "; check the path, or convert the weights in Python: torch.save(model.state_dict(),"
                + " 'weights.pth')");
    }
}
