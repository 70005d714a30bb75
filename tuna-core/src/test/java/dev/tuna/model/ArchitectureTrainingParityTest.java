package dev.tuna.model;

import static dev.tuna.model.TorchvisionParityTest.array;
import static dev.tuna.model.TorchvisionParityTest.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.tuna.model.weights.Tensor;
import dev.tuna.model.weights.WeightFile;
import dev.tuna.model.weights.WeightFiles;
import dev.tuna.testing.PyTorchReference;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ConvNeXt-Tiny and EfficientNet-B0 in training mode match PyTorch: the body's output with batch norm on
 * batch statistics (and layer norm, which has no mode), the running statistics it leaves, and the
 * gradients of a fixed loss on it. Stochastic depth is off on both sides (rate 0 here, every
 * {@code StochasticDepth.p = 0} in make_reference.py): its draws are random by design, and it is tested
 * on its own in {@code StochasticDepthTest}.
 */
@Tag("numerics")
@Tag("slow")
class ArchitectureTrainingParityTest {
    private static NDManager manager;

    @BeforeAll
    static void engine() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"convnext_tiny", "efficientnet_b0"})
    void trainingModeBodyAndGradientsMatchTorchvision(String arch) {
        Path ref = PyTorchReference.files();
        WeightFile weights = WeightFiles.read(ref.resolve(arch + ".pth"));
        WeightFile input = WeightFiles.read(ref.resolve(arch + "_input_96.safetensors"));
        WeightFile expected = WeightFiles.read(ref.resolve(arch + "_train_reference.safetensors"));
        try (Network net = Network.torchvision(Architecture.parse(arch), 1000, false, 0, manager, 0);
             NDManager scope = manager.newSubManager()) {
            net.load(weights, LoadMode.STRICT);
            NDArray x = array(scope, input.tensor("input"));
            NDArray upstream = array(scope, expected.tensor("upstream"));
            double features;
            double loss;
            NDArray trainFeatures;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                trainFeatures = net.features(x, true);
                features = maxAbsDiff(trainFeatures, expected.tensor("train_features"));
                NDArray value = trainFeatures.mul(upstream).sum().div(x.getShape().get(0));
                // relative to the sum of the terms' magnitudes: a sum of 10^4 terms that mostly cancel
                double scale = trainFeatures.abs().mul(upstream.abs()).sum().getFloat() / x.getShape().get(0);
                loss = Math.abs(value.getFloat() - expected.tensor("loss").toFloats()[0]) / scale;
                collector.backward(value);
            }
            // batch statistics matter for EfficientNet's batch norms; ConvNeXt's layer norms have no mode
            double modes = maxAbsDiff(net.features(x, false), expected.tensor("train_features"));
            System.out.printf("training parity %s 96: max |features diff| %.2e, |loss diff| / sum |terms| %.2e,"
                    + " train vs eval features %.2e%n", arch, features, loss, modes);
            assertThat(features).isLessThan(1e-4);
            assertThat(loss).isLessThan(1e-4);
            if (arch.equals("efficientnet_b0")) {
                assertThat(modes).as("training mode uses batch statistics").isGreaterThan(0.1);
            } else {
                assertThat(modes).as("layer norm is the same in both modes").isLessThan(1e-4);
            }
            int gradients = 0;
            for (Map.Entry<String, Tensor> e : expected.tensors().entrySet()) {
                String key = e.getKey();
                if (key.startsWith("grad.")) {
                    String name = key.substring("grad.".length());
                    NDArray gradient = net.parameters().get(name).getArray().getGradient();
                    double scale = Math.max(1, maxAbs(e.getValue().toFloats()));
                    double diff = maxAbsDiff(gradient, e.getValue()) / scale;
                    System.out.printf("  gradient %s: max |diff| / max(1, max |g|) %.2e (max |g| %.3g)%n", name, diff,
                            scale);
                    assertThat(diff).as(name).isLessThan(1e-4);
                    gradients++;
                } else if (key.endsWith(".running_mean") || key.endsWith(".running_var")) {
                    double diff = maxAbsDiff(net.parameters().get(key).getArray(), e.getValue());
                    System.out.printf("  %s after one training forward: max |diff| %.2e%n", key, diff);
                    assertThat(diff).as(key).isLessThan(1e-4);
                }
            }
            assertThat(gradients).isGreaterThanOrEqualTo(8);
        }
    }

    private static double maxAbs(float[] values) {
        double max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
