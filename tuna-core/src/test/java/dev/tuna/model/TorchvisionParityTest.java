package dev.tuna.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuna.model.weights.Tensor;
import dev.tuna.model.weights.WeightFile;
import dev.tuna.model.weights.WeightFiles;
import dev.tuna.testing.PyTorchReference;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Tuna's architectures compute what torchvision computes, on weights saved by real PyTorch. */
@Tag("numerics")
@Tag("slow")
class TorchvisionParityTest {
    static final double TOLERANCE = 1e-4;
    private static NDManager manager;

    @BeforeAll
    static void engine() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    static NDArray array(NDManager m, Tensor t) {
        return m.create(t.toFloats(), new Shape(t.shape()));
    }

    static double maxAbsDiff(NDArray actual, Tensor expected) {
        assertThat(actual.getShape().getShape()).containsExactly(expected.shape());
        float[] a = actual.toFloatArray();
        float[] e = expected.toFloats();
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - e[i]));
        }
        return max;
    }

    @ParameterizedTest(name = "{0} at {1} px, TF SAME {2}")
    @CsvSource({"resnet18,224,false", "resnet18,192,false", "resnet34,224,false", "resnet34,192,false",
        "resnet50,224,false", "resnet50,192,false", "mobilenet_v2,224,false", "mobilenet_v2,192,false",
        "mobilenet_v2,224,true", "mobilenet_v2,192,true", "convnext_tiny,64,false", "convnext_tiny,72,false",
        "efficientnet_b0,64,false", "efficientnet_b0,72,false"})
    void evalOutputMatchesTorchvision(String arch, int size, boolean tfSame) {
        Path ref = PyTorchReference.files();
        WeightFile weights = WeightFiles.read(ref.resolve(arch + ".pth"));
        WeightFile input = WeightFiles.read(ref.resolve(arch + "_input_" + size + ".safetensors"));
        WeightFile expected = WeightFiles.read(ref.resolve(arch + (tfSame ? "_tfsame" : "") + "_expected_" + size
                + ".safetensors"));
        try (Network net = Network.torchvision(Architecture.parse(arch), 1000, tfSame, manager, 0);
             NDManager scope = manager.newSubManager()) {
            LoadReport report = net.load(weights, LoadMode.STRICT);
            assertThat(report.missing()).isEmpty();
            NDArray x = array(scope, input.tensor("input"));
            double logits = maxAbsDiff(net.forward(x, false), expected.tensor("logits"));
            NDArray featureMaps = net.features(x);
            double features = maxAbsDiff(featureMaps, expected.tensor("features"));
            assertThat(featureMaps.abs().max().getFloat()).as("features are not trivially zero").isGreaterThan(0.1f);
            NDArray first = featureMaps.get("0");
            NDArray second = featureMaps.get("1");
            assertThat(first.sub(second).abs().max().getFloat()).as("features depend on the image").isGreaterThan(0.1f);
            System.out.printf("parity %s %d tfSame=%s: max |logits diff| %.2e, max |features diff| %.2e (max |features| %.2f)%n",
                    arch, size, tfSame, logits, features, featureMaps.abs().max().getFloat());
            assertThat(logits).isLessThan(TOLERANCE);
            assertThat(features).isLessThan(TOLERANCE);
        }
    }
}
