package dev.tuna.learn;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import com.google.gson.JsonObject;
import dev.tuna.TunaException;
import dev.tuna.internal.io.AtomicFiles;
import dev.tuna.internal.io.Digests;
import dev.tuna.internal.nn.Arrays2;
import dev.tuna.internal.train.FastAdam;
import dev.tuna.model.Network;
import dev.tuna.model.weights.DType;
import dev.tuna.model.weights.SafetensorsReader;
import dev.tuna.model.weights.SafetensorsWriter;
import dev.tuna.model.weights.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A checkpoint's files: the state file (weights, optimizer moments, step records as safetensors), its
 * size and checksum, the manifest replaced by an atomic rename, and the clean-up of older states and
 * of temporaries left by interrupted writes.
 */
final class CheckpointStore {
    private static final String STATE_PREFIX = "state-";
    private static final String STATE_SUFFIX = ".safetensors";
    private static final int STEP_FIELDS = 5;

    private CheckpointStore() { }

    /**
     * Writes a state file, then the manifest (with the state file's name, size and checksum added),
     * then removes older state files.
     */
    static void write(Path folder, Network network, TrainingState state, JsonObject manifest) {
        try {
            Files.createDirectories(folder);
            List<Tensor> tensors = new ArrayList<>();
            JsonObject optimizerSteps = new JsonObject();
            FastAdam.Snapshot optimizer = state.optimizer();
            for (Map.Entry<String, Parameter> e : network.parameters().entrySet()) { // network order: a stable file
                String name = e.getKey();
                NDArray array = e.getValue().getArray();
                long[] shape = array.getShape().getShape();
                tensors.add(Tensor.ofFloats("model." + name, shape, array.toFloatArray()));
                if (optimizer.steps().containsKey(name)) {
                    optimizerSteps.addProperty(name, optimizer.steps().get(name));
                    if (optimizer.averages().containsKey(name)) {
                        tensors.add(Tensor.ofFloats("adam.average." + name, shape, optimizer.averages().get(name)));
                        tensors.add(Tensor.ofFloats("adam.squares." + name, shape, optimizer.squares().get(name)));
                    }
                }
            }
            List<BatchRecord> steps = state.steps();
            if (!steps.isEmpty()) {
                ByteBuffer bytes = ByteBuffer.allocate(steps.size() * STEP_FIELDS * Double.BYTES)
                        .order(ByteOrder.LITTLE_ENDIAN);
                for (BatchRecord r : steps) {
                    bytes.putDouble(r.iteration()).putDouble(r.loss()).putDouble(r.smoothLoss())
                            .putDouble(r.learningRate()).putDouble(r.momentum());
                }
                tensors.add(Tensor.of("steps", DType.F64, new long[] {steps.size(), STEP_FIELDS}, bytes.array()));
            }
            String name = String.format(Locale.ROOT, "%s%d-%08x%s", STATE_PREFIX, state.epochsSeen(),
                    ThreadLocalRandom.current().nextInt(), STATE_SUFFIX);
            Path stateFile = folder.resolve(name);
            SafetensorsWriter.write(stateFile, tensors, Map.of("format", Checkpoint.FORMAT));
            manifest.add("optimizerSteps", optimizerSteps);
            JsonObject stateJson = new JsonObject();
            stateJson.addProperty("file", name);
            stateJson.addProperty("bytes", Files.size(stateFile));
            stateJson.addProperty("sha256", Digests.sha256Hex(stateFile));
            manifest.add("state", stateJson);
            writeManifest(folder, manifest);
            for (Path file : list(folder)) { // older state files and leftovers of interrupted writes
                String other = file.getFileName().toString();
                if (isOurs(other) && !other.equals(name)) {
                    Files.deleteIfExists(file);
                }
            }
        } catch (IOException e) {
            throw cannotWrite(folder, e);
        }
    }

    /** Replaces the manifest atomically. */
    static void writeManifest(Path folder, JsonObject manifest) {
        try {
            AtomicFiles.write(folder.resolve(Checkpoint.MANIFEST), manifest.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw cannotWrite(folder, e);
        }
    }

    /**
     * Checks the state file the manifest names (name, size, checksum), puts its weights into the network
     * and returns the rest of the training state.
     */
    static TrainingState restore(Path folder, JsonObject manifest, Network network, TrainingState position) {
        Map<String, Tensor> tensors = readState(folder, manifest);
        for (Map.Entry<String, Parameter> e : network.parameters().entrySet()) {
            NDArray array = e.getValue().getArray();
            Arrays2.copyInto(array, floats(folder, tensors, "model." + e.getKey(), array.getShape().getShape()));
        }
        Map<String, Integer> steps = new HashMap<>();
        Map<String, float[]> averages = new HashMap<>();
        Map<String, float[]> squares = new HashMap<>();
        Map<String, Parameter> parameters = network.parameters();
        for (var e : manifest.getAsJsonObject("optimizerSteps").entrySet()) {
            String name = e.getKey();
            Parameter parameter = parameters.get(name);
            if (parameter == null) {
                throw new IllegalStateException("optimizer state for unknown parameter '" + name + "'");
            }
            long[] shape = parameter.getArray().getShape().getShape();
            steps.put(name, e.getValue().getAsInt());
            if (tensors.containsKey("adam.average." + name)) {
                averages.put(name, floats(folder, tensors, "adam.average." + name, shape));
                squares.put(name, floats(folder, tensors, "adam.squares." + name, shape));
            }
        }
        List<BatchRecord> records = new ArrayList<>();
        Tensor stepTensor = tensors.get("steps");
        if (stepTensor != null) {
            double[] values = stepTensor.toDoubles();
            if (stepTensor.rank() != 2 || stepTensor.shape()[1] != STEP_FIELDS) {
                throw new IllegalStateException("steps tensor has shape " + Arrays.toString(stepTensor.shape()));
            }
            for (int i = 0; i + STEP_FIELDS <= values.length; i += STEP_FIELDS) {
                records.add(new BatchRecord((long) values[i], values[i + 1], values[i + 2], values[i + 3],
                        values[i + 4]));
            }
        }
        return new TrainingState(position.stage(), position.epochsSeen(), position.iterations(),
                position.frozenGroups(), position.smoothing(), position.history(), records,
                new FastAdam.Snapshot(steps, averages, squares));
    }

    private static Map<String, Tensor> readState(Path folder, JsonObject manifest) {
        String name;
        long bytes;
        String sha;
        try {
            JsonObject state = manifest.getAsJsonObject("state");
            name = state.get("file").getAsString();
            bytes = state.get("bytes").getAsLong();
            sha = state.get("sha256").getAsString();
        } catch (RuntimeException e) {
            throw damaged(folder, Checkpoint.MANIFEST + " does not name its state file (" + e.getMessage() + ")", e);
        }
        if (!isState(name) || name.contains("/") || name.contains("\\")) {
            throw damaged(folder, Checkpoint.MANIFEST + " names an invalid state file '" + name + "'", null);
        }
        Path file = folder.resolve(name);
        try {
            long size = Files.size(file);
            if (size != bytes) {
                throw damaged(folder, "the state file " + name + " has " + size + " bytes, expected " + bytes
                        + " (truncated?)", null);
            }
            String actual = Digests.sha256Hex(file);
            if (!actual.equals(sha)) {
                throw damaged(folder, "the state file " + name + " does not match its checksum (SHA-256 " + actual
                        + ", expected " + sha + ")", null);
            }
        } catch (NoSuchFileException e) {
            throw damaged(folder, "its state file " + name + " is missing", e);
        } catch (IOException e) {
            throw damaged(folder, "cannot read its state file " + name + " (" + e + ")", e);
        }
        try {
            return SafetensorsReader.read(file).tensors();
        } catch (TunaException e) {
            throw damaged(folder, "its state file cannot be read (" + e.getMessage() + ")", e);
        }
    }

    private static float[] floats(Path folder, Map<String, Tensor> tensors, String name, long[] shape) {
        Tensor tensor = tensors.get(name);
        if (tensor == null) {
            throw damaged(folder, "its state file has no tensor '" + name + "'", null);
        }
        if (!Arrays.equals(tensor.shape(), shape)) {
            throw damaged(folder, "tensor '" + name + "' has shape " + Arrays.toString(tensor.shape()) + ", the"
                    + " network needs " + Arrays.toString(shape), null);
        }
        return tensor.toFloats();
    }

    /** Deletes the manifest and every file a checkpoint writes, then the folder if nothing else is in it. */
    static void delete(Path folder) throws IOException {
        Files.deleteIfExists(folder.resolve(Checkpoint.MANIFEST));
        for (Path file : list(folder)) {
            if (isOurs(file.getFileName().toString())) {
                Files.deleteIfExists(file);
            }
        }
        if (list(folder).isEmpty()) {
            Files.deleteIfExists(folder);
        }
    }

    private static boolean isState(String name) {
        return name.startsWith(STATE_PREFIX) && name.endsWith(STATE_SUFFIX);
    }

    /** Files a checkpoint writes: state files and the hidden temporaries of interrupted writes. */
    private static boolean isOurs(String name) {
        return isState(name) || name.startsWith("." + STATE_PREFIX) && name.contains(".tmp-")
                || name.startsWith("." + Checkpoint.MANIFEST + ".tmp-");
    }

    private static List<Path> list(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.toList();
        }
    }

    static TunaException damaged(Path folder, String what, Throwable cause) {
        return new TunaException(TunaException.Kind.BAD_MODEL_FILE, "The checkpoint in " + folder + " is damaged: "
                + what + ". It cannot be resumed; delete the folder and start a new run (without --resume).", cause);
    }

    private static TunaException cannotWrite(Path folder, IOException e) {
        return new TunaException(TunaException.Kind.RUNTIME, "Cannot write the checkpoint to " + folder + " (" + e
                + "); check that the folder is writable and has free space.", e);
    }
}
