package dev.tuna.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import dev.tuna.ProgressListener;
import dev.tuna.TunaException;
import dev.tuna.testing.Datasets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What each architecture's spec says, checked against torchvision's numbers and fast.ai's rules. */
class ArchitectureSpecTest {
    /** torchvision's {@code sum(p.numel() for p in models.<arch>().parameters())}, 1000 classes. */
    private static final Map<Architecture, Long> TORCHVISION_PARAMETERS = Map.of(
            Architecture.RESNET18, 11_689_512L, Architecture.RESNET34, 21_797_672L,
            Architecture.RESNET50, 25_557_032L, Architecture.MOBILENET_V2, 3_504_872L,
            Architecture.CONVNEXT_TINY, 28_589_128L, Architecture.EFFICIENTNET_B0, 5_288_548L);

    private static NDManager manager;

    @TempDir
    Path home;

    @BeforeAll
    static void engine() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @Test
    void everyArchitectureIsKnownInTheSpecTest() {
        assertThat(TORCHVISION_PARAMETERS).containsOnlyKeys(Architecture.values());
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void torchvisionsParameterCountAndGroupsInNetworkOrder(Architecture arch) {
        try (Network net = Network.torchvision(arch, 1000, false, manager, 1)) {
            long count = 0;
            List<Integer> groups = new ArrayList<>();
            for (Map.Entry<String, Parameter> e : net.parameters().entrySet()) {
                String name = e.getKey();
                if (name.endsWith(".running_mean") || name.endsWith(".running_var")) {
                    continue;
                }
                count += e.getValue().getArray().getShape().size();
                groups.add(net.group(name));
                boolean classifier = name.startsWith("fc.") || name.startsWith("classifier.");
                assertThat(net.group(name) == 2).as(name).isEqualTo(classifier);
            }
            assertThat(count).isEqualTo(TORCHVISION_PARAMETERS.get(arch));
            // fast.ai's split: the early body, then the late body, then the classifier, each non-empty
            assertThat(groups).isSorted().contains(0, 1, 2);
        }
    }

    @Test
    void theLateGroupStartsAtTheLastTwoResolutionStages() {
        assertThat(Architecture.RESNET18.group("layer2.1.bn2.weight")).isZero();
        assertThat(Architecture.RESNET18.group("layer3.0.downsample.0.weight")).isEqualTo(1);
        assertThat(Architecture.CONVNEXT_TINY.group("features.3.2.block.5.weight")).isZero();
        assertThat(Architecture.CONVNEXT_TINY.group("features.4.1.weight")).isEqualTo(1);
        assertThat(Architecture.CONVNEXT_TINY.group("features.7.2.layer_scale")).isEqualTo(1);
        assertThat(Architecture.EFFICIENTNET_B0.group("features.3.1.block.2.fc1.weight")).isZero();
        assertThat(Architecture.EFFICIENTNET_B0.group("features.4.0.block.0.0.weight")).isEqualTo(1);
        assertThat(Architecture.EFFICIENTNET_B0.group("features.8.1.bias")).isEqualTo(1);
        assertThat(Architecture.EFFICIENTNET_B0.group("head.fc1.weight")).isEqualTo(2);
        assertThatThrownBy(() -> Architecture.EFFICIENTNET_B0.group("layer1.0.conv1.weight"))
                .hasMessageContaining("not a parameter of efficientnet_b0");
    }

    @Test
    void newIdentifiersParseAndUnknownOnesListEveryArchitecture() {
        assertThat(Architecture.parse("ConvNeXt-Tiny")).isEqualTo(Architecture.CONVNEXT_TINY);
        assertThat(Architecture.parse("efficientnet_b0")).isEqualTo(Architecture.EFFICIENTNET_B0);
        assertThat(Architecture.parse("EfficientNetB0")).isEqualTo(Architecture.EFFICIENTNET_B0);
        assertThatThrownBy(() -> Architecture.parse("convnext_base")).isInstanceOf(TunaException.class)
                .hasMessageContaining("resnet18, resnet34, resnet50, mobilenet_v2, convnext_tiny, efficientnet_b0");
    }

    @Test
    void layerNormsAreNormsButNotBatchNorms() {
        try (Network net = Network.transfer(Architecture.CONVNEXT_TINY, HeadSpec.DEFAULT, 3, false, manager, 2)) {
            assertThat(net.isNorm("features.0.1.weight")).isTrue();
            assertThat(net.isNorm("features.1.0.block.2.bias")).isTrue();
            assertThat(net.isNorm("features.6.0.weight")).isTrue();
            assertThat(net.isBatchNorm("features.1.0.block.2.weight")).isFalse();
            assertThat(net.isNorm("features.1.0.layer_scale")).isFalse();
            assertThat(net.isNorm("features.1.0.block.3.weight")).isFalse();
            assertThat(net.isNorm("head.bn0.weight")).isTrue();
            assertThat(net.isBatchNorm("head.bn0.weight")).isTrue();
            // torchvision's starting values: layer norms 1 and 0, layer scales 1e-6
            assertThat(net.parameters().get("features.1.0.block.2.weight").getArray().toFloatArray()).containsOnly(1f);
            assertThat(net.parameters().get("features.1.0.block.2.bias").getArray().toFloatArray()).containsOnly(0f);
            assertThat(net.parameters().get("features.5.8.layer_scale").getArray().toFloatArray()).containsOnly(1e-6f);
        }
        try (Network net = Network.transfer(Architecture.EFFICIENTNET_B0, HeadSpec.DEFAULT, 3, false, manager, 3)) {
            assertThat(net.isBatchNorm("features.2.0.block.1.1.weight")).isTrue();
            assertThat(net.isNorm("features.2.0.block.1.1.running_var")).isTrue();
            assertThat(net.isNorm("features.2.0.block.2.fc1.weight")).isFalse();
        }
    }

    @Test
    void everyArchitectureDefaultsToTorchvisionsDownloadableWeights() {
        for (Architecture arch : Architecture.values()) {
            PretrainedWeights weights = PretrainedWeights.defaultFor(arch);
            assertThat(arch.weights()).first().isEqualTo(weights);
            assertThat(weights.architecture()).isEqualTo(arch);
            assertThat(weights.name()).isEqualTo(arch.id());
            assertThat(weights.url()).contains("https://download.pytorch.org/models/" + weights.fileName());
            assertThat(weights.fileName()).startsWith(arch.id()).endsWith("-" + weights.sha256() + ".pth");
            assertThat(weights.normalization()).isEqualTo(arch.normalization());
        }
        assertThat(PretrainedWeights.named("convnext_tiny").fileName()).isEqualTo("convnext_tiny-983f1562.pth");
        assertThat(PretrainedWeights.named("efficientnet_b0").fileName())
                .isEqualTo("efficientnet_b0_rwightman-7f5810bc.pth");
    }

    @Test
    void thePreferredWeightsAreTheFirstOnDiskElseTorchvisions() throws Exception {
        WeightCatalog empty = WeightCatalog.at(home, ProgressListener.NONE);
        for (Architecture arch : Architecture.values()) {
            assertThat(empty.preferred(arch)).isEqualTo(PretrainedWeights.defaultFor(arch));
        }
        // a damaged copy of the TFLite weights does not count
        Path damaged = home.resolve("pretrained/mobilenet_v2/mobilenet_v2_1.0_224_quant.tv.safetensors");
        Files.createDirectories(damaged.getParent());
        Files.writeString(damaged, "damaged");
        assertThat(empty.preferred(Architecture.MOBILENET_V2)).isEqualTo(PretrainedWeights.MOBILENET_V2);
        Path shared = Datasets.shared("pretrained/mobilenet_v2/mobilenet_v2_1.0_224_quant.tv.safetensors");
        Assumptions.assumeTrue(shared != null, "../shared/pretrained not here");
        WeightCatalog sharedHome = WeightCatalog.at(shared.getParent().getParent().getParent(), ProgressListener.NONE);
        assertThat(sharedHome.preferred(Architecture.MOBILENET_V2)).isEqualTo(PretrainedWeights.MOBILENET_V2_TFLITE);
        assertThat(sharedHome.preferred(Architecture.RESNET18)).isEqualTo(PretrainedWeights.RESNET18);
    }

    @Test
    void stochasticDepthRatesAreCheckedAtTheBoundary() {
        assertThat(Architecture.CONVNEXT_TINY.stochasticDepth()).isEqualTo(0.1);
        assertThat(Architecture.EFFICIENTNET_B0.stochasticDepth()).isEqualTo(0.2);
        assertThat(Architecture.RESNET50.stochasticDepth()).isZero();
        assertThatThrownBy(() -> Network.transfer(Architecture.RESNET18, HeadSpec.DEFAULT, 3, false, 0.1, manager, 1))
                .isInstanceOf(TunaException.class).hasMessageContaining("resnet18 has no stochastic depth")
                .hasMessageContaining("Pass 0");
        assertThatThrownBy(() -> Network.torchvision(Architecture.CONVNEXT_TINY, 10, false, 1.0, manager, 1))
                .isInstanceOf(TunaException.class).hasMessageContaining("must be in [0, 1); found 1.0");
    }
}
