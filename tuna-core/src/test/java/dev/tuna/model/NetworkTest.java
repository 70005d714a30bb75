package dev.tuna.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
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
            NDArray images = scope.randomNormal(0.2f, 1f, new Shape(8, 3, 64, 64), ai.djl.ndarray.types.DataType.FLOAT32);
            float[] before = net.forward(images, false).toFloatArray();
            int layers = BatchNormRecalibration.run(net, List.of(images));
            assertThat(layers).isEqualTo(52);
            float[] after = net.forward(images, false).toFloatArray();
            for (int i = 0; i < before.length; i++) {
                assertThat(after[i]).isCloseTo(before[i], org.assertj.core.data.Offset.offset(1e-3f + Math.abs(before[i]) * 1e-4f));
            }
            // running statistics now describe the data: the first layer's mean is the measured one
            float[] mean = net.parameters().get("features.0.1.running_mean").getArray().toFloatArray();
            float[] var = net.parameters().get("features.0.1.running_var").getArray().toFloatArray();
            assertThat(mean).isNotEqualTo(new float[mean.length]);
            for (float v : var) {
                assertThat(v).isPositive();
            }
        }
    }
}
