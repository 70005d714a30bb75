package dev.tuna.serve;

import ai.djl.ndarray.NDManager;
import dev.tuna.inference.ArtifactMetadata;
import dev.tuna.inference.ModelArtifact;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.model.LoadMode;
import dev.tuna.model.Network;
import dev.tuna.model.PretrainedWeights;
import dev.tuna.model.weights.WeightFiles;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.ResizeMethod;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A small model for server tests, made without training: MobileNetV2 with the shared ImageNet body
 * (when {@code ../shared} is there; random weights otherwise) and a fresh head, exported with the
 * artifact API, and the shared flowers test images.
 */
final class TestModel {
    private TestModel() {}

    /** A path under ../shared found from the working directory or its parents, or null. */
    static Path shared(String relative) {
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 4 && dir != null; i++, dir = dir.getParent()) {
            for (Path candidate : List.of(dir.resolve("shared").resolve(relative),
                    dir.resolveSibling("shared").resolve(relative))) {
                if (Files.exists(candidate)) {
                    return candidate;
                }
            }
        }
        return null;
    }

    /** Up to {@code perClass} images of each class of the shared flowers test set, or none when absent. */
    static List<Path> flowersTest(int perClass) {
        Path root = shared("datasets/flowers-test");
        if (root == null) {
            return List.of();
        }
        try (Stream<Path> classes = Files.list(root)) {
            return classes.filter(Files::isDirectory).sorted().flatMap(dir -> {
                try (Stream<Path> files = Files.list(dir)) {
                    return files.filter(f -> f.toString().endsWith(".jpg")).sorted().limit(perClass).toList().stream();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes the model.
     *
     * @param dir the artifact folder to create
     * @param size the input size
     * @return the folder
     */
    static Path write(Path dir, int size) {
        Path weights = shared("pretrained/mobilenet_v2/" + PretrainedWeights.MOBILENET_V2_TFLITE.fileName());
        List<String> classes = List.of("daisy", "dandelion", "rose", "sunflower", "tulip");
        try (NDManager manager = NDManager.newBaseManager();
             Network network = Network.transfer(Architecture.MOBILENET_V2, HeadSpec.DEFAULT, classes.size(), true,
                     manager, 42)) {
            if (weights != null) {
                network.load(WeightFiles.read(weights), LoadMode.BODY);
            }
            ModelArtifact.write(dir, network, ArtifactMetadata.of(Architecture.MOBILENET_V2, classes, size,
                    ResizeMethod.SQUISH, PadMode.REFLECTION, PretrainedWeights.MOBILENET_V2_TFLITE.normalization(),
                    true, HeadSpec.DEFAULT, 42, null), false);
        }
        return dir;
    }
}
