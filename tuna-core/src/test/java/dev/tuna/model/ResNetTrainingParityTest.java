package dev.tuna.model;

import static dev.tuna.model.TorchvisionParityTest.array;
import static dev.tuna.model.TorchvisionParityTest.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.tuna.model.weights.WeightFile;
import dev.tuna.model.weights.WeightFiles;
import dev.tuna.testing.PyTorchReference;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Training-mode batch norm and one SGD step of ResNet-18 match PyTorch. */
@Tag("numerics")
@Tag("slow")
class ResNetTrainingParityTest {
    private static NDManager manager;
    private static Path ref;
    private static WeightFile weights;
    private static WeightFile input;
    private static WeightFile expected;

    @BeforeAll
    static void setUp() {
        ref = PyTorchReference.files();
        manager = NDManager.newBaseManager();
        weights = WeightFiles.read(ref.resolve("resnet18.pth"));
        input = WeightFiles.read(ref.resolve("resnet18_input_224.safetensors"));
        expected = WeightFiles.read(ref.resolve("resnet18_train_reference.safetensors"));
    }

    @AfterAll
    static void close() {
        if (manager != null) {
            manager.close();
        }
    }

    @Test
    void trainModeBatchNormUsesBatchStatisticsAndUpdatesRunningStats() {
        try (Network net = Network.torchvision(Architecture.RESNET18, 1000, false, manager, 0);
             NDManager scope = manager.newSubManager()) {
            net.load(weights, LoadMode.STRICT);
            NDArray logits = net.forward(array(scope, input.tensor("input")), true);
            assertThat(maxAbsDiff(logits, expected.tensor("train_logits"))).isLessThan(1e-4);
            Map<String, Parameter> p = net.parameters();
            assertThat(maxAbsDiff(p.get("bn1.running_mean").getArray(), expected.tensor("bn1.running_mean")))
                    .isLessThan(1e-4);
            assertThat(maxAbsDiff(p.get("bn1.running_var").getArray(), expected.tensor("bn1.running_var")))
                    .isLessThan(1e-4);
        }
    }

    @Test
    void oneSgdStepUpdatesWeightsLikePyTorch() {
        try (Network net = Network.torchvision(Architecture.RESNET18, 1000, false, manager, 0);
             NDManager scope = manager.newSubManager()) {
            net.load(weights, LoadMode.STRICT);
            NDArray x = array(scope, input.tensor("input"));
            NDArray targets = scope.create(new long[] {1, 3});
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray logits = net.forward(x, true);
                NDArray loss = logits.logSoftmax(1).mul(targets.oneHot(1000)).sum(new int[] {1}).neg().mean();
                assertThat(Math.abs(loss.getFloat() - expected.tensor("sgd_loss").toFloats()[0])).isLessThan(1e-4f);
                collector.backward(loss);
            }
            for (Parameter parameter : net.parameters().values()) {
                if (parameter.requiresGradient()) {
                    NDArray w = parameter.getArray();
                    w.subi(w.getGradient().mul(0.1f));
                }
            }
            Map<String, Parameter> p = net.parameters();
            for (String name : new String[] {"conv1.weight", "fc.weight", "fc.bias", "layer4.1.bn2.weight"}) {
                double diff = maxAbsDiff(p.get(name).getArray(), expected.tensor("sgd." + name));
                System.out.printf("sgd step %s: max |diff| %.2e%n", name, diff);
                assertThat(diff).as(name).isLessThan(1e-4);
            }
        }
    }
}
