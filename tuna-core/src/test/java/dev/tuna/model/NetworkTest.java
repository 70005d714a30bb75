package dev.tuna.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.tuna.TunaException;
import dev.tuna.model.weights.Tensor;
import dev.tuna.model.weights.WeightFile;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class NetworkTest {
    private static NDManager manager;

    @BeforeAll
    static void engine() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static WeightFile file(Map<String, Tensor> tensors) {
        return new WeightFile(Path.of("test.pth"), WeightFile.Format.PTH, tensors, Map.of(), Optional.empty(), Map.of());
    }

    private static Map<String, Tensor> stateDict(Network net) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : net.parameters().entrySet()) {
            NDArray a = e.getValue().getArray();
            tensors.put(e.getKey(), Tensor.ofFloats(e.getKey(), a.getShape().getShape(), a.toFloatArray()));
        }
        return tensors;
    }

    @Test
    void fastaiHeadHasTheDocumentedLayersAndInitialisation() {
        try (Network net = Network.transfer(Architecture.RESNET18, HeadSpec.DEFAULT, 5, false, manager, 1)) {
            Map<String, Parameter> p = net.parameters();
            assertThat(p.get("head.bn0.weight").getArray().getShape()).isEqualTo(new Shape(1024));
            assertThat(p.get("head.fc0.weight").getArray().getShape()).isEqualTo(new Shape(512, 1024));
            assertThat(p.get("head.bn1.weight").getArray().getShape()).isEqualTo(new Shape(512));
            assertThat(p.get("head.fc1.weight").getArray().getShape()).isEqualTo(new Shape(5, 512));
            assertThat(p).doesNotContainKeys("head.fc0.bias", "head.fc1.bias", "fc.weight");
            assertThat(p.get("head.bn0.weight").getArray().toFloatArray()).containsOnly(1f);
            assertThat(p.get("head.bn1.bias").getArray().toFloatArray()).containsOnly(1e-3f);
            float[] w = p.get("head.fc0.weight").getArray().toFloatArray();
            double sumSquares = 0;
            for (float v : w) {
                sumSquares += v * v;
            }
            assertThat(Math.sqrt(sumSquares / w.length)).isCloseTo(Math.sqrt(2.0 / 1024), org.assertj.core.data.Offset.offset(0.002));
            assertThat(net.group("layer2.0.conv1.weight")).isZero();
            assertThat(net.group("layer3.0.conv1.weight")).isEqualTo(1);
            assertThat(net.group("head.fc1.weight")).isEqualTo(2);
            try (NDManager scope = manager.newSubManager()) {
                NDArray out = net.forward(scope.randomNormal(new Shape(2, 3, 64, 64)), false);
                assertThat(out.getShape()).isEqualTo(new Shape(2, 5));
            }
        }
    }

    @Test
    void mobilenetGroupsSplitFeaturesAtTen() {
        assertThat(Architecture.MOBILENET_V2.group("features.9.conv.0.0.weight")).isZero();
        assertThat(Architecture.MOBILENET_V2.group("features.10.conv.0.0.weight")).isEqualTo(1);
        assertThat(Architecture.MOBILENET_V2.group("features.18.1.bias")).isEqualTo(1);
        assertThat(Architecture.parse("MobileNet-V2")).isEqualTo(Architecture.MOBILENET_V2);
        assertThatThrownBy(() -> Architecture.parse("vgg16")).hasMessageContaining("resnet18, resnet34, resnet50");
    }

    @Test
    void strictLoadingListsEveryProblemAtOnce() {
        try (Network source = Network.torchvision(Architecture.RESNET18, 1000, false, manager, 2);
             Network target = Network.torchvision(Architecture.RESNET18, 1000, false, manager, 3)) {
            Map<String, Tensor> tensors = stateDict(source);
            tensors.remove("layer1.0.conv1.weight");
            tensors.put("extra.weight", Tensor.ofFloats("extra.weight", new long[] {1}, new float[] {1}));
            tensors.put("fc.bias", Tensor.ofFloats("fc.bias", new long[] {10}, new float[10]));
            tensors.put("bn1.num_batches_tracked", Tensor.ofFloats("x", new long[] {}, new float[] {0}));
            assertThatThrownBy(() -> target.load(file(tensors), LoadMode.STRICT))
                    .isInstanceOf(TunaException.class)
                    .hasMessageContaining("1 missing (layer1.0.conv1.weight)")
                    .hasMessageContaining("1 unexpected (extra.weight)")
                    .hasMessageContaining("1 shape mismatch (fc.bias: file [10] vs network [1000])")
                    .satisfies(e -> assertThat(((TunaException) e).kind()).isEqualTo(TunaException.Kind.BAD_MODEL_FILE));
            LoadReport report = target.load(file(tensors), LoadMode.PARTIAL);
            assertThat(report.missing()).containsExactly("layer1.0.conv1.weight");
            assertThat(report.loaded()).contains("conv1.weight").doesNotContain("fc.bias");
            assertThat(target.parameters().get("conv1.weight").getArray().toFloatArray())
                    .isEqualTo(source.parameters().get("conv1.weight").getArray().toFloatArray());
        }
    }

    @Test
    void bodyLoadingIgnoresTheImagenetClassifierAndKeepsTheHead() {
        try (Network imagenet = Network.torchvision(Architecture.RESNET18, 1000, false, manager, 4);
             Network transfer = Network.transfer(Architecture.RESNET18, HeadSpec.DEFAULT, 3, false, manager, 5)) {
            float[] head = transfer.parameters().get("head.fc1.weight").getArray().toFloatArray();
            LoadReport report = transfer.load(file(stateDict(imagenet)), LoadMode.BODY);
            assertThat(report.unexpected()).containsExactly("fc.bias", "fc.weight");
            assertThat(report.missing()).allMatch(n -> n.startsWith("head."));
            assertThat(transfer.parameters().get("head.fc1.weight").getArray().toFloatArray()).isEqualTo(head);
            Map<String, Tensor> wrong = stateDict(imagenet);
            wrong.remove("layer4.1.bn2.running_var");
            assertThatThrownBy(() -> transfer.load(file(wrong), LoadMode.BODY))
                    .hasMessageContaining("missing (layer4.1.bn2.running_var)");
        }
    }

    @Test
    void recalibrationKeepsEvalOutputAndMatchesBatchStatistics() {
        try (Network net = Network.transfer(Architecture.MOBILENET_V2, HeadSpec.DEFAULT, 4, true, manager, 6);
             NDManager scope = manager.newSubManager()) {
            // two batches with different means: the statistics must be those of both together, not an average
            NDArray first = scope.randomNormal(0.2f, 1f, new Shape(4, 3, 64, 64), DataType.FLOAT32);
            NDArray second = scope.randomNormal(-0.5f, 2f, new Shape(3, 3, 64, 64), DataType.FLOAT32);
            NDArray both = first.concat(second);
            float[] before = net.forward(both, false).toFloatArray();
            Map<String, float[]> old = new LinkedHashMap<>();
            for (String name : List.of("weight", "bias", "running_mean", "running_var")) {
                old.put(name, net.parameters().get("features.0.1." + name).getArray().toFloatArray());
            }
            float[] kernel = net.parameters().get("features.0.0.weight").getArray().toFloatArray();

            int layers = BatchNormRecalibration.run(net, List.of(first, second));

            assertThat(layers).isEqualTo(52);
            float[] after = net.forward(both, false).toFloatArray();
            for (int i = 0; i < before.length; i++) {
                assertThat(after[i]).isCloseTo(before[i], Offset.offset(1e-3f + Math.abs(before[i]) * 1e-4f));
            }
            // the first batch norm's input, computed here: features.0.0 is a 3x3 stride-2 convolution from 3 to
            // 32 channels without bias; TF "SAME" padding on 64 px pads one row and column after, none before
            double[][] moments = firstConvolutionMoments(both.toFloatArray(), 7, kernel, 32);
            float[] mean = net.parameters().get("features.0.1.running_mean").getArray().toFloatArray();
            float[] var = net.parameters().get("features.0.1.running_var").getArray().toFloatArray();
            float[] weight = net.parameters().get("features.0.1.weight").getArray().toFloatArray();
            float[] bias = net.parameters().get("features.0.1.bias").getArray().toFloatArray();
            double eps = 1e-5; // torchvision's batch-norm epsilon
            for (int c = 0; c < 32; c++) {
                double mu = moments[0][c];
                double sigma2 = moments[1][c];
                assertThat((double) mean[c]).as("running mean of channel %d", c).isCloseTo(mu, within(1e-4 + 1e-4 * Math.abs(mu)));
                assertThat((double) var[c]).as("running variance of channel %d", c).isCloseTo(sigma2, within(1e-4 * sigma2));
                double oldStd = Math.sqrt(old.get("running_var")[c] + eps);
                double w = old.get("weight")[c] * Math.sqrt(sigma2 + eps) / oldStd;
                double b = old.get("bias")[c] + old.get("weight")[c] * (mu - old.get("running_mean")[c]) / oldStd;
                assertThat((double) weight[c]).as("weight of channel %d", c).isCloseTo(w, within(1e-5 + 1e-4 * Math.abs(w)));
                assertThat((double) bias[c]).as("bias of channel %d", c).isCloseTo(b, within(1e-5 + 1e-4 * Math.abs(b)));
            }
        }
    }

    /**
     * Per output channel, the mean and the (population) variance over images and pixels of a 3x3 stride-2
     * convolution of {@code [n, 3, 64, 64]} images, padded by one row and column after the image.
     */
    private static double[][] firstConvolutionMoments(float[] images, int n, float[] kernel, int channels) {
        int size = 64;
        int out = 32;
        double[] sum = new double[channels];
        double[] squares = new double[channels];
        for (int image = 0; image < n; image++) {
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < out; y++) {
                    for (int x = 0; x < out; x++) {
                        double value = 0;
                        for (int k = 0; k < 3; k++) {
                            for (int dy = 0; dy < 3; dy++) {
                                for (int dx = 0; dx < 3; dx++) {
                                    int iy = 2 * y + dy;
                                    int ix = 2 * x + dx;
                                    if (iy < size && ix < size) {
                                        value += (double) kernel[((c * 3 + k) * 3 + dy) * 3 + dx]
                                                * images[((image * 3 + k) * size + iy) * size + ix];
                                    }
                                }
                            }
                        }
                        sum[c] += value;
                        squares[c] += value * value;
                    }
                }
            }
        }
        double count = (double) n * out * out;
        double[] mean = new double[channels];
        double[] variance = new double[channels];
        for (int c = 0; c < channels; c++) {
            mean[c] = sum[c] / count;
            variance[c] = squares[c] / count - mean[c] * mean[c];
        }
        return new double[][] {mean, variance};
    }
}
