package dev.tuna.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.Parameter;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonParser;
import dev.tuna.TunaException;
import dev.tuna.internal.nn.Chain;
import dev.tuna.internal.nn.ObservedBatchNorm;
import dev.tuna.internal.nn.OnnxGraph;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.model.LoadMode;
import dev.tuna.model.Network;
import dev.tuna.model.PretrainedWeights;
import dev.tuna.model.WeightCatalog;
import dev.tuna.model.weights.WeightFiles;
import dev.tuna.testing.Datasets;
import dev.tuna.transform.Normalization;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.ResizeMethod;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * ONNX export and the classifier on ONNX Runtime: for every architecture, the exported model run by ONNX
 * Runtime gives the probabilities the libtorch classifier gives, on real flowers-test photos, at batch
 * sizes 1 and 16; the batch dimension is dynamic; the metadata round-trips; bad files are refused clearly.
 */
class OnnxExportTest {
    private static final List<String> CLASSES = List.of("daisy", "dandelion", "roses", "sunflowers", "tulips");
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    /** One small model for the tests of the graph, metadata and bad input: built once. */
    @TempDir
    static Path small;

    // ------------------------------------------------------------------ parity on real photos

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void onnxRuntimeMatchesLibtorchOnFlowersTest(Architecture architecture) throws IOException {
        List<Path> photos = photos(16);
        boolean realWeights = architecture == Architecture.MOBILENET_V2;
        PretrainedWeights weights = PretrainedWeights.MOBILENET_V2_TFLITE;
        Path weightsDir = Datasets.shared("pretrained/mobilenet_v2");
        if (realWeights) {
            Assumptions.assumeTrue(weightsDir != null, "../shared/pretrained/mobilenet_v2 not present: the"
                    + " MobileNetV2 parity test uses its real weights");
        }
        boolean tfSame = realWeights && weights.tfSamePadding();
        Normalization normalization = realWeights ? weights.normalization() : Normalization.IMAGENET;
        int size = 224;
        ArtifactMetadata meta = metadata(architecture, size, ResizeMethod.CROP, normalization, tfSame);
        Path model = dir.resolve("model.tuna");
        try (NDManager manager = NDManager.newBaseManager();
                Network network = Network.transfer(architecture, HeadSpec.DEFAULT, CLASSES.size(), tfSame, manager,
                        7)) {
            if (realWeights) {
                Path file = WeightCatalog.at(weightsDir.getParent().getParent(), dev.tuna.ProgressListener.NONE)
                        .resolve(weights);
                network.load(WeightFiles.read(file), LoadMode.BODY);
            }
            calibrate(network, photos.subList(0, 4), meta, realWeights);
            ModelArtifact.write(model, network, meta, false);
        }
        Path onnx = dir.resolve("model.onnx");
        try (Classifier torch = Classifier.load(model)) {
            assertThat(torch.runtime()).isEqualTo(ModelRuntime.LIBTORCH);
            OnnxExport.write(torch, onnx);
            try (Classifier ort = Classifier.load(onnx)) {
                assertThat(ort.runtime()).isEqualTo(ModelRuntime.ONNX_RUNTIME);
                assertThat(ort.classes()).isEqualTo(CLASSES);
                // batch size 1
                double worst = 0;
                for (Path photo : photos.subList(0, 2)) {
                    worst = Math.max(worst, maxDifference(torch.predict(photo), ort.predict(photo)));
                }
                // batch size 16
                List<Prediction> expected = torch.predictBatch(photos);
                List<Prediction> actual = ort.predictBatch(photos);
                for (int i = 0; i < photos.size(); i++) {
                    worst = Math.max(worst, maxDifference(expected.get(i), actual.get(i)));
                }
                System.out.printf("%s: max |probability difference| libtorch vs ONNX Runtime %.2e%n",
                        architecture.id(), worst);
                assertThat(worst).isLessThan(TOLERANCE);
                assertInformative(expected);
            }
        }
    }

    /** The comparison means something only if the outputs depend on the image and are not saturated. */
    private static void assertInformative(List<Prediction> predictions) {
        float[] first = values(predictions.get(0));
        boolean varies = predictions.stream().anyMatch(p -> maxDifference(values(p), first) > 1e-3);
        boolean unsaturated = predictions.stream().anyMatch(p -> p.probability() < 0.99);
        String seen = predictions.get(0).probabilities() + ", " + predictions.get(1).probabilities();
        assertThat(varies).as("probabilities vary between photos: " + seen).isTrue();
        assertThat(unsaturated).as("some probabilities below 0.99: " + seen).isTrue();
    }

    // ------------------------------------------------------------------ the graph and its metadata

    @Test
    void batchDimensionIsDynamic() throws Exception {
        Path onnx = exportSmall();
        ModelProto proto = ModelProto.parseFrom(Files.readAllBytes(onnx));
        TensorShapeProto.Dimension batch = proto.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0);
        assertThat(batch.getDimParam()).isEqualTo(OnnxGraph.BATCH);
        assertThat(batch.hasDimValue()).isFalse();
        assertThat(proto.getOpsetImport(0).getVersion()).isGreaterThanOrEqualTo(17);
        assertThat(proto.getGraph().getOutputList()).extracting(o -> o.getName())
                .containsExactly(OnnxExport.PROBABILITIES, OnnxExport.LOGITS);
        // inference graph: batch norms folded away, no dropout
        assertThat(proto.getGraph().getNodeList()).extracting(NodeProto::getOpType)
                .doesNotContain("BatchNormalization", "Dropout").contains("Conv", "Softmax");
        assertThat(proto.getGraph().getInitializerList()).extracting(t -> t.getName())
                .contains("conv1+bn1.weight", "layer4.1.conv2+layer4.1.bn2.bias", "head.bn0+head.fc0.weight_t");

        // the same images give the same rows whatever the batch size
        int size = 48;
        SplittableRandom random = new SplittableRandom(3);
        float[] images = new float[7 * 3 * size * size];
        for (int i = 0; i < images.length; i++) {
            images[i] = (float) random.nextGaussian();
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(onnx.toString(), new OrtSession.SessionOptions())) {
            float[][] all = run(env, session, images, 7, size);
            assertThat(all).hasNumberOfRows(7);
            for (int n : new int[] {1, 3}) {
                float[] part = java.util.Arrays.copyOf(images, n * 3 * size * size);
                float[][] rows = run(env, session, part, n, size);
                assertThat(rows).hasNumberOfRows(n);
                for (int i = 0; i < n; i++) {
                    assertThat(maxDifference(rows[i], all[i])).isLessThan(1e-5);
                }
            }
        }
    }

    private static float[][] run(OrtEnvironment env, OrtSession session, float[] images, int n, int size)
            throws Exception {
        try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(images), new long[] {n, 3, size, size});
                OrtSession.Result result = session.run(Map.of(OnnxExport.INPUT, x), Set.of(OnnxExport.PROBABILITIES))) {
            return (float[][]) result.get(0).getValue();
        }
    }

    @Test
    void metadataPropsRoundTrip() throws Exception {
        Path onnx = exportSmall();
        ModelProto proto = ModelProto.parseFrom(Files.readAllBytes(onnx));
        Map<String, String> props = new HashMap<>();
        for (StringStringEntryProto entry : proto.getMetadataPropsList()) {
            props.put(entry.getKey(), entry.getValue());
        }
        assertThat(JsonParser.parseString(props.get(OnnxExport.CLASSES)).getAsJsonArray().asList())
                .extracting(e -> e.getAsString()).isEqualTo(CLASSES);
        assertThat(props).containsEntry(OnnxExport.INPUT_SIZE, "48").containsEntry(OnnxExport.RESIZE_METHOD, "pad")
                .containsEntry(OnnxExport.PAD_MODE, "reflection").containsEntry(OnnxExport.ARCHITECTURE, "resnet18")
                .containsEntry(OnnxExport.MEAN, "[0.485,0.456,0.406]").containsEntry(OnnxExport.STD,
                        "[0.229,0.224,0.225]")
                .containsKeys(OnnxExport.INPUT_LAYOUT, OnnxExport.VALUE_RANGE, OnnxExport.TUNA_MODEL);
        try (Classifier ort = Classifier.load(onnx)) {
            assertThat(ort.metadata()).isEqualTo(metadata(Architecture.RESNET18, 48, ResizeMethod.PAD,
                    Normalization.IMAGENET, false));
            assertThat(ort.artifact()).isNull();
        }
    }

    @Test
    void aModelFolderRunsOnOnnxRuntimeOnRequest() {
        Path model = artifactSmall();
        List<Path> photos = photos(3);
        try (Classifier torch = Classifier.load(model);
                Classifier ort = Classifier.load(model, ClassifierOptions.DEFAULTS.withRuntime(
                        ModelRuntime.ONNX_RUNTIME))) {
            assertThat(ort.runtime()).isEqualTo(ModelRuntime.ONNX_RUNTIME);
            assertThat(ort.artifact()).isNotNull();
            for (Path photo : photos) {
                assertThat(maxDifference(torch.predict(photo), ort.predict(photo))).isLessThan(TOLERANCE);
            }
        }
    }

    @Test
    void onnxRuntimeTakesAThreadCount() {
        Path model = artifactSmall();
        Path photo = photos(1).get(0);
        ClassifierOptions onOrt = ClassifierOptions.DEFAULTS.withRuntime(ModelRuntime.ONNX_RUNTIME);
        try (Classifier plain = Classifier.load(model, onOrt);
                Classifier one = Classifier.load(model, onOrt.withThreads(1))) {
            assertThat(maxDifference(plain.predict(photo), one.predict(photo))).isLessThan(TOLERANCE);
        }
        assertThatThrownBy(() -> onOrt.withThreads(-1)).isInstanceOf(dev.tuna.TunaException.class)
                .hasMessageContaining("thread count").hasMessageContaining("-1");
    }

    // ------------------------------------------------------------------ bad input

    @Test
    void refusesFilesThatAreNotOnnx() throws IOException {
        Path jpeg = Files.write(dir.resolve("photo.onnx"), new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0});
        assertThatThrownBy(() -> Classifier.load(jpeg)).isInstanceOf(TunaException.class)
                .hasMessageContaining("is not an ONNX model").hasMessageContaining("tuna export")
                .extracting(e -> ((TunaException) e).kind()).isEqualTo(TunaException.Kind.BAD_MODEL_FILE);
        Path text = Files.writeString(dir.resolve("notes.onnx"), "this is not a model\n");
        assertThatThrownBy(() -> Classifier.load(text)).isInstanceOf(TunaException.class)
                .hasMessageContaining("not a valid ONNX model")
                .extracting(e -> ((TunaException) e).kind()).isEqualTo(TunaException.Kind.BAD_MODEL_FILE);
        Path empty = Files.write(dir.resolve("empty.onnx"), new byte[0]);
        assertThatThrownBy(() -> Classifier.load(empty)).hasMessageContaining("it is empty");
        assertThatThrownBy(() -> Classifier.load(dir.resolve("missing.onnx"))).isInstanceOf(TunaException.class)
                .hasMessageContaining("does not exist");
    }

    @Test
    void refusesOnnxWithoutOrWithEditedMetadata() throws IOException {
        Path onnx = exportSmall();
        ModelProto proto = ModelProto.parseFrom(Files.readAllBytes(onnx));
        Path bare = Files.write(dir.resolve("bare.onnx"), proto.toBuilder().clearMetadataProps().build().toByteArray());
        assertThatThrownBy(() -> Classifier.load(bare)).isInstanceOf(TunaException.class)
                .hasMessageContaining("without Tuna's metadata").hasMessageContaining(OnnxExport.TUNA_MODEL);
        ModelProto.Builder edited = proto.toBuilder();
        for (int i = 0; i < edited.getMetadataPropsCount(); i++) {
            if (edited.getMetadataProps(i).getKey().equals(OnnxExport.INPUT_SIZE)) {
                edited.setMetadataProps(i, edited.getMetadataProps(i).toBuilder().setValue("64"));
            }
        }
        Path changed = Files.write(dir.resolve("edited.onnx"), edited.build().toByteArray());
        assertThatThrownBy(() -> Classifier.load(changed)).isInstanceOf(TunaException.class)
                .hasMessageContaining("input_size = 64").hasMessageContaining("export the model again");
    }

    @Test
    void refusesWrongTargetsAndRuntimes() throws IOException {
        Path onnx = exportSmall();
        Path model = artifactSmall();
        assertThatThrownBy(() -> OnnxExport.write(ModelArtifact.read(model), onnx)).isInstanceOf(TunaException.class)
                .hasMessageContaining("already exists").hasMessageContaining("--force");
        assertThatThrownBy(() -> OnnxExport.write(ModelArtifact.read(model), dir)).hasMessageContaining("is a folder");
        assertThatThrownBy(() -> Classifier.load(onnx, ClassifierOptions.DEFAULTS.withRuntime(ModelRuntime.LIBTORCH)))
                .isInstanceOf(TunaException.class).hasMessageContaining("runs on ONNX Runtime");
        try (Classifier ort = Classifier.load(onnx)) {
            assertThatThrownBy(() -> OnnxExport.write(ort, dir.resolve("again.onnx")))
                    .hasMessageContaining("already runs an ONNX model");
        }
        OnnxExport.write(ModelArtifact.read(model), onnx, true); // replaced on request
        assertThat(onnx).isNotEmptyFile();
    }

    @Test
    void refusesALayerItCannotTranslate() {
        Chain unknown = new Chain();
        unknown.add(new LambdaBlock(list -> new NDList(list.singletonOrThrow().mul(2))));
        Map<String, Parameter> none = Map.of();
        assertThatThrownBy(() -> OnnxGraph.lower(unknown, none, "input", 8)).isInstanceOf(TunaException.class)
                .hasMessageContaining("does not know the layer ai.djl.nn.LambdaBlock");
    }

    // ------------------------------------------------------------------ helpers

    /** A calibrated ResNet-18 at 48 px ({@code pad}) exported to ONNX, copied into this test's folder. */
    private Path exportSmall() throws IOException {
        Path model = artifactSmall();
        Path onnx = small.resolve("model.onnx");
        synchronized (OnnxExportTest.class) {
            if (!Files.exists(onnx)) {
                OnnxExport.write(ModelArtifact.read(model), onnx);
            }
        }
        return Files.copy(onnx, dir.resolve("model.onnx"));
    }

    /** The same model as a model folder (shared by the tests: read it, never change it). */
    private static synchronized Path artifactSmall() {
        Path model = small.resolve("model.tuna");
        if (Files.exists(model)) {
            return model;
        }
        ArtifactMetadata meta = metadata(Architecture.RESNET18, 48, ResizeMethod.PAD, Normalization.IMAGENET, false);
        try (NDManager manager = NDManager.newBaseManager();
                Network network = Network.transfer(Architecture.RESNET18, HeadSpec.DEFAULT, CLASSES.size(), false,
                        manager, 3)) {
            calibrate(network, photos(4), meta, false);
            ModelArtifact.write(model, network, meta, false);
        }
        return model;
    }

    private static ArtifactMetadata metadata(Architecture architecture, int size, ResizeMethod method,
            Normalization normalization, boolean tfSame) {
        return new ArtifactMetadata(architecture, CLASSES, size, method, PadMode.REFLECTION, normalization, tfSame,
                HeadSpec.DEFAULT, 7, new LibraryVersions("test", "0.36.0", "2.7.1"), Instant.EPOCH, null);
    }

    /** The first {@code n} flowers-test photos, taken round-robin over the classes; skips when absent. */
    private static List<Path> photos(int n) {
        Path test = Datasets.sharedFlowersTest();
        Assumptions.assumeTrue(test != null, "../shared/datasets/flowers-test not present: the ONNX parity tests"
                + " run on its photos");
        List<List<Path>> byClass = new ArrayList<>();
        try (Stream<Path> classes = Files.list(test)) {
            for (Path folder : classes.filter(Files::isDirectory).sorted().toList()) {
                try (Stream<Path> files = Files.list(folder)) {
                    byClass.add(files.filter(Files::isRegularFile).sorted(Comparator.naturalOrder()).toList());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        List<Path> out = new ArrayList<>();
        for (int i = 0; out.size() < n; i++) {
            for (List<Path> files : byClass) {
                if (i < files.size() && out.size() < n) {
                    out.add(files.get(i));
                }
            }
        }
        return out;
    }

    /**
     * Gives a randomly initialised network batch-norm statistics as training would, in one training-mode pass
     * over real photos: each batch norm's running mean and variance become its input's, and its scale and
     * shift are drawn at random, so that evaluation-mode activations stay in range and the folding is
     * exercised with non-trivial values. With real weights ({@code headOnly}) only the head's are touched, on
     * the features of the body in evaluation mode.
     */
    private static void calibrate(Network network, List<Path> photos, ArtifactMetadata meta, boolean headOnly) {
        InputPipeline pipeline = new InputPipeline(meta.inputSize(), meta.resizeMethod(), meta.padMode(),
                meta.normalization());
        int floats = pipeline.floatsPerImage();
        float[] input = new float[photos.size() * floats];
        for (int i = 0; i < photos.size(); i++) {
            pipeline.normalize(pipeline.square(decode(photos.get(i))), input, i * floats);
        }
        Map<String, float[][]> moments = new HashMap<>();
        List<ObservedBatchNorm> layers = network.batchNormLayers().stream()
                .filter(layer -> !headOnly || layer.name().startsWith("head.")).toList();
        for (ObservedBatchNorm layer : layers) {
            layer.observe((name, x) -> {
                long channels = x.getShape().get(1);
                // per channel over every other axis (DJL's PyTorch mean takes one axis at a time)
                NDArray rows = x.getShape().dimension() == 4 ? x.transpose(1, 0, 2, 3).reshape(channels, -1)
                        : x.transpose(1, 0);
                int[] axis = {1};
                NDArray mean = rows.mean(axis);
                NDArray var = rows.sub(rows.mean(axis, true)).square().mean(axis);
                moments.put(name, new float[][] {mean.toFloatArray(), var.toFloatArray()});
            });
        }
        int size = meta.inputSize();
        try (NDManager scope = network.newManager()) {
            NDArray x = scope.create(FloatBuffer.wrap(input), new ai.djl.ndarray.types.Shape(photos.size(), size,
                    size, 3)).transpose(0, 3, 1, 2);
            if (headOnly) { // the body as it is, in evaluation mode; the head in training mode
                network.forwardFrozenBody(x, true);
            } else {
                network.forward(x, true);
            }
        } finally {
            layers.forEach(layer -> layer.observe(null));
        }
        SplittableRandom random = new SplittableRandom(17);
        Map<String, Parameter> parameters = network.parameters();
        for (ObservedBatchNorm layer : layers) {
            float[][] m = moments.get(layer.name());
            set(parameters.get(layer.name() + ".running_mean"), m[0]);
            set(parameters.get(layer.name() + ".running_var"), floored(m[1]));
            set(parameters.get(layer.name() + ".weight"), draw(random, m[0].length, 0.5, 1.5));
            set(parameters.get(layer.name() + ".bias"), draw(random, m[0].length, -0.2, 0.2));
        }
    }

    private static dev.tuna.transform.RgbImage decode(Path photo) {
        try {
            return dev.tuna.data.ImageDecoder.standard().decode(photo);
        } catch (dev.tuna.data.UnreadableImageException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Variances measured on a few photos, plus a quarter of their mean: a channel that barely varied over
     * those photos (a saturated ReLU6, a constant max pool) would otherwise blow other photos up.
     */
    private static float[] floored(float[] variances) {
        double mean = 0;
        for (float v : variances) {
            mean += v / variances.length;
        }
        float[] out = new float[variances.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (variances[i] + 0.25 * mean);
        }
        return out;
    }

    private static float[] draw(SplittableRandom random, int n, double from, double to) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) random.nextDouble(from, to);
        }
        return out;
    }

    private static void set(Parameter parameter, float[] values) {
        dev.tuna.internal.nn.Arrays2.copyInto(parameter.getArray(), values);
    }

    private static float[] values(Prediction p) {
        float[] out = new float[p.probabilities().size()];
        int i = 0;
        for (float v : p.probabilities().values()) {
            out[i++] = v;
        }
        return out;
    }

    private static double maxDifference(Prediction a, Prediction b) {
        assertThat(b.probabilities().size()).isEqualTo(a.probabilities().size());
        return maxDifference(values(a), values(b));
    }

    private static double maxDifference(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
