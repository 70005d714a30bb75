package dev.tuna.model;

import static dev.tuna.model.TorchvisionParityTest.array;
import static dev.tuna.model.TorchvisionParityTest.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.learn.Learner;
import dev.tuna.model.weights.WeightFile;
import dev.tuna.model.weights.WeightFiles;
import dev.tuna.testing.Datasets;
import dev.tuna.testing.PyTorchReference;
import dev.tuna.transform.ResizeMethod;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** ConvNeXt-Tiny and EfficientNet-B0 as transfer-learning bodies: torchvision's features, fast.ai's head. */
@Tag("slow")
class ArchitectureTransferTest {
    private static NDManager manager;

    @TempDir
    Path dir;

    @BeforeAll
    static void engine() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    /**
     * torchvision's file loads into the body by name (its classifier is cut off), the body computes
     * torchvision's {@code features}, and a training step reaches every part from the head to the stem.
     */
    @Tag("numerics")
    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"CONVNEXT_TINY", "EFFICIENTNET_B0"})
    void theBodyLoadsTorchvisionsFileAndTrainsUnderFastaisHead(Architecture arch) {
        Path ref = PyTorchReference.files();
        WeightFile weights = WeightFiles.read(ref.resolve(arch.id() + ".pth"));
        WeightFile input = WeightFiles.read(ref.resolve(arch.id() + "_input_64.safetensors"));
        WeightFile expected = WeightFiles.read(ref.resolve(arch.id() + "_expected_64.safetensors"));
        try (Network net = Network.transfer(arch, HeadSpec.DEFAULT, 3, false, manager, 7);
             NDManager scope = manager.newSubManager()) {
            LoadReport report = net.load(weights, LoadMode.BODY);
            assertThat(report.unexpected()).isNotEmpty().allMatch(n -> n.startsWith("classifier."));
            assertThat(report.missing()).isNotEmpty().allMatch(n -> n.startsWith("head."));
            assertThat(report.mismatched()).isEmpty();
            assertThat(net.parameters().get("head.bn0.weight").getArray().getShape().get(0))
                    .isEqualTo(2L * arch.bodyChannels());
            NDArray x = array(scope, input.tensor("input"));
            assertThat(maxAbsDiff(net.features(x), expected.tensor("features"))).isLessThan(1e-4);
            NDArray targets = scope.create(new long[] {0, 2});
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray logits = net.forward(x, true);
                assertThat(logits.getShape().getShape()).containsExactly(2, 3);
                NDArray loss = logits.logSoftmax(1).mul(targets.oneHot(3)).sum(new int[] {1}).neg().mean();
                assertThat(Double.isFinite(loss.getFloat())).isTrue();
                collector.backward(loss);
            }
            String stem = "features.0.0.weight";
            String lateNorm = arch == Architecture.CONVNEXT_TINY ? "features.7.2.block.2.weight" : "features.8.1.weight";
            for (String name : List.of(stem, lateNorm, "head.bn0.weight", "head.fc1.weight")) {
                float[] gradient = net.parameters().get(name).getArray().getGradient().toFloatArray();
                double max = 0;
                for (float g : gradient) {
                    assertThat(Float.isFinite(g)).as(name).isTrue();
                    max = Math.max(max, Math.abs(g));
                }
                assertThat(max).as("gradient of %s", name).isGreaterThan(0);
            }
        }
    }

    /** The learner trains these bodies as it trains the others: one epoch on a tiny folder moves every group. */
    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"CONVNEXT_TINY", "EFFICIENTNET_B0"})
    void aLearnerTrainsOneEpochOnATinyFolder(Architecture arch) {
        Datasets.folder(dir.resolve("data"), Map.of("a", 8, "b", 8));
        try (DataLoaders data = ImageFolder.from(dir.resolve("data")).resize(32, ResizeMethod.SQUISH).batchSize(4)
                .dataloaders();
             Learner learner = Learner.builder(data).architecture(arch).weights(null).console(null, false).build()) {
            Network net = learner.network();
            String early = arch == Architecture.CONVNEXT_TINY ? "features.1.0.block.0.weight"
                    : "features.1.0.block.0.0.weight";
            String norm = arch == Architecture.CONVNEXT_TINY ? "features.6.0.weight" : "features.8.1.weight";
            String head = "head.fc1.weight";
            Map<String, float[]> before = Map.of(early, values(net, early), norm, values(net, norm), head,
                    values(net, head));
            assertThat(net.group(early)).isZero();
            assertThat(net.group(norm)).isEqualTo(1);
            learner.fit(1, new double[] {1e-3, 1e-3, 1e-3});
            assertThat(learner.history()).singleElement().satisfies(r -> {
                assertThat(Double.isFinite(r.trainLoss())).isTrue();
                assertThat(Double.isFinite(r.validLoss())).isTrue();
            });
            before.forEach((name, values) -> assertThat(values(net, name)).as(name).isNotEqualTo(values));
        }
    }

    private static float[] values(Network net, String name) {
        return net.parameters().get(name).getArray().toFloatArray();
    }
}
