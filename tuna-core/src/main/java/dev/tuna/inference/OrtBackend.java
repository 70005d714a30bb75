package dev.tuna.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.tuna.TunaException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An exported model ({@link OnnxExport}) on ONNX Runtime's CPU provider: no libtorch involved. One
 * session serves concurrent calls (ONNX Runtime allows concurrent {@code run}s on a session).
 */
final class OrtBackend implements InferenceBackend {
    private final OrtEnvironment environment;
    private final OrtSession session;
    private final ArtifactMetadata metadata;

    private OrtBackend(OrtEnvironment environment, OrtSession session, ArtifactMetadata metadata) {
        this.environment = environment;
        this.session = session;
        this.metadata = metadata;
    }

    /**
     * Opens an ONNX file written by {@link OnnxExport}.
     *
     * @param file the file
     * @param threads intra-op threads, 0 for ONNX Runtime's default
     * @return the backend
     * @throws TunaException ({@link TunaException.Kind#BAD_MODEL_FILE}) when the file is missing, not ONNX,
     *     or not a Tuna export
     */
    static OrtBackend open(Path file, int threads) {
        if (!Files.exists(file)) {
            throw ArtifactJson.bad("No model at " + file + ": the path does not exist; pass a Tuna model folder or"
                    + " an .onnx file exported by Tuna.");
        }
        if (!Files.isRegularFile(file)) {
            throw ArtifactJson.bad(file + " is not a file; an ONNX model is one .onnx file (tuna export <model>"
                    + " --onnx <file>).");
        }
        checkLooksLikeProtobuf(file);
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = sessionOptions(threads)) {
            return open(file, environment.createSession(file.toString(), options), environment);
        } catch (OrtException e) {
            throw ArtifactJson.bad(file + " is not a valid ONNX model (ONNX Runtime: " + firstLine(e) + "); expected"
                    + " an .onnx file exported by Tuna (tuna export <model> --onnx <file>): export it again.", e);
        }
    }

    /**
     * Opens an ONNX model held in memory (an in-memory export).
     *
     * @param source where it came from, for messages
     * @param model the bytes of the model
     * @param threads intra-op threads, 0 for ONNX Runtime's default
     * @return the backend
     */
    static OrtBackend open(Path source, byte[] model, int threads) {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = sessionOptions(threads)) {
            return open(source, environment.createSession(model, options), environment);
        } catch (OrtException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "ONNX Runtime refused the model exported from "
                    + source + " (" + firstLine(e) + "); run it on libtorch instead (ModelRuntime.LIBTORCH).", e);
        }
    }

    /** Session options: {@code threads} intra-op threads, or ONNX Runtime's default for 0. */
    private static OrtSession.SessionOptions sessionOptions(int threads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        if (threads > 0) {
            try {
                options.setIntraOpNumThreads(threads);
            } catch (OrtException e) {
                options.close();
                throw e;
            }
        }
        return options;
    }

    private static OrtBackend open(Path file, OrtSession session, OrtEnvironment environment) throws OrtException {
        try {
            ArtifactMetadata metadata = OnnxExport.readProperties(file, session.getMetadata().getCustomMetadata());
            checkSignature(file, session, metadata);
            return new OrtBackend(environment, session, metadata);
        } catch (RuntimeException | OrtException e) {
            session.close();
            throw e;
        }
    }

    /** A cheap first test, so that a JPEG or text file gets a clear message rather than a parser's. */
    private static void checkLooksLikeProtobuf(Path file) {
        byte[] head = new byte[1];
        try (InputStream in = Files.newInputStream(file)) {
            int read = in.read(head);
            // an ONNX ModelProto starts with a field tag: ir_version (0x08) or another field of the message
            if (read < 1 || (head[0] & 0x07) > 5 || (head[0] & 0xFF) < 0x08) {
                throw ArtifactJson.bad(file + " is not an ONNX model (" + (read < 1 ? "it is empty"
                        : "it does not start like one") + "); expected " + "an .onnx file exported by Tuna (tuna"
                        + " export <model> --onnx <file>).");
            }
        } catch (IOException e) {
            throw ArtifactJson.bad("Cannot read " + file + " (" + e + "); check that it is readable.", e);
        }
    }

    /** The graph must take {@code [batch, 3, size, size]} and give {@code [batch, classes]} probabilities. */
    private static void checkSignature(Path file, OrtSession session, ArtifactMetadata metadata)
            throws OrtException {
        Map<String, NodeInfo> inputs = session.getInputInfo();
        Map<String, NodeInfo> outputs = session.getOutputInfo();
        long size = metadata.inputSize();
        long[] in = inputs.containsKey(OnnxExport.INPUT) && inputs.get(OnnxExport.INPUT).getInfo() instanceof TensorInfo t
                ? t.getShape() : null;
        long[] out = outputs.containsKey(OnnxExport.PROBABILITIES)
                && outputs.get(OnnxExport.PROBABILITIES).getInfo() instanceof TensorInfo t ? t.getShape() : null;
        boolean inputFits = in != null && in.length == 4 && in[1] == 3 && in[2] == size && in[3] == size;
        boolean outputFits = out != null && out.length == 2 && out[1] == metadata.classes().size();
        if (!inputFits || !outputFits || inputs.size() != 1) {
            throw ArtifactJson.bad(file + " does not have the graph its metadata describes: expected input '"
                    + OnnxExport.INPUT + "' [batch, 3, " + size + ", " + size + "] and output '"
                    + OnnxExport.PROBABILITIES + "' [batch, " + metadata.classes().size() + "], found inputs "
                    + inputs.keySet() + (in == null ? "" : " " + OnnxExport.shape(in)) + " and outputs "
                    + outputs.keySet() + (out == null ? "" : " " + OnnxExport.shape(out))
                    + "; export the model again.");
        }
    }

    private static String firstLine(Exception e) {
        String message = String.valueOf(e.getMessage());
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    /** The model's description, from its metadata. */
    ArtifactMetadata metadata() {
        return metadata;
    }

    @Override
    public float[] pooledFeatures(float[] input, int n, int size) {
        throw dev.tuna.TunaException.usage("Body features come from the model folder on libtorch; an exported .onnx"
                + " model has only its probabilities and logits. Load the .tuna folder instead.");
    }

    @Override
    public float[][] probabilities(float[] input, int n, int size) {
        int plane = size * size;
        float[] nchw = new float[input.length];
        for (int i = 0; i < n; i++) { // the pipeline writes interleaved RGB; the graph takes planes
            int base = i * 3 * plane;
            for (int p = 0; p < plane; p++) {
                nchw[base + p] = input[base + 3 * p];
                nchw[base + plane + p] = input[base + 3 * p + 1];
                nchw[base + 2 * plane + p] = input[base + 3 * p + 2];
            }
        }
        try (OnnxTensor x = OnnxTensor.createTensor(environment, FloatBuffer.wrap(nchw),
                new long[] {n, 3, size, size});
                OrtSession.Result result = session.run(Map.of(OnnxExport.INPUT, x), Set.of(OnnxExport.PROBABILITIES))) {
            Optional<OnnxValue> value = result.get(OnnxExport.PROBABILITIES);
            float[][] probabilities = (float[][]) value.orElseThrow().getValue();
            if (probabilities.length != n) {
                throw new IllegalStateException("ONNX Runtime returned " + probabilities.length + " rows for " + n
                        + " images: " + Arrays.toString(new long[] {n, 3, size, size}));
            }
            return probabilities;
        } catch (OrtException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "ONNX Runtime failed to run the model ("
                    + firstLine(e) + ").", e);
        }
    }

    @Override
    public ModelRuntime runtime() {
        return ModelRuntime.ONNX_RUNTIME;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "Cannot close the ONNX Runtime session ("
                    + firstLine(e) + ").", e);
        }
    }
}
