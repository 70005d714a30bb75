package dev.tuna.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuna.internal.nn.Numerics;
import dev.tuna.model.weights.Tensor;
import dev.tuna.model.weights.WeightFile;
import dev.tuna.model.weights.WeightFiles;
import dev.tuna.testing.Datasets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The MobileNetV2 ImageNet weights in ../shared reproduce their documented outputs. */
@Tag("numerics")
class SharedMobileNetTest {
    @Test
    void reproducesExpectedLogitsAndTopOne() throws Exception {
        check();
    }

    /** The second file (TF2, per-channel post-training quantization) through its own catalogue entry. */
    @Test
    void theTf2WeightsReproduceTheirExpectedLogitsToo() throws Exception {
        check(PretrainedWeights.MOBILENET_V2_TF2_PTQ);
    }

    /**
     * With the 1×1 kernel made wrong on purpose in the shapes the AMD Zen 5 fault hit (320 and 1,280
     * output channels), the start-up check routes them to the matrix product and the logits stay right.
     */
    @Test
    void reproducesExpectedLogitsWhenTheOneByOneKernelIsWrong() throws Exception {
        Numerics before = Numerics.current();
        try {
            Numerics numerics = Numerics.reset("pointwise_conv:1280");
            assertThat(numerics.route(Numerics.Kind.POINTWISE_CONV)).isEqualTo(Numerics.Route.MATMUL);
            check();
        } finally {
            Numerics.install(before);
        }
    }

    /**
     * Same, with the fault only in a shape no start-up probe has (MobileNetV2's 96 -> 576 expansions at
     * 14x14): each such convolution's first-use check catches it and switches that shape.
     */
    @Test
    void reproducesExpectedLogitsWhenAShapeTheStartCheckMissesIsWrong() throws Exception {
        Numerics before = Numerics.current();
        try {
            Numerics numerics = Numerics.reset("pointwise_conv:576");
            assertThat(numerics.route(Numerics.Kind.POINTWISE_CONV)).isEqualTo(Numerics.Route.FAST);
            check();
            assertThat(numerics.notes()).singleElement().asString().contains("96->576 channels", "14x14 input");
        } finally {
            Numerics.install(before);
        }
    }

    private static void check() throws Exception {
        check(PretrainedWeights.MOBILENET_V2_TFLITE);
    }

    private static void check(PretrainedWeights entry) throws Exception {
        Path dir = Datasets.shared("pretrained/mobilenet_v2");
        Assumptions.assumeTrue(dir != null, "../shared/pretrained/mobilenet_v2 not present");
        Path weightsFile = WeightCatalog.at(dir.getParent().getParent(), dev.tuna.ProgressListener.NONE).resolve(entry);
        WeightFile weights = WeightFiles.read(weightsFile);
        Tensor images = WeightFiles.read(dir.resolve("testdata/inputs_224_u8.safetensors")).tensor("images");
        Tensor expected = WeightFiles.read(dir.resolve("testdata/expected_logits.safetensors"))
                .tensor(entry.fileName().replace(".tv.safetensors", ".tf"));
        JsonObject top5 = JsonParser.parseString(Files.readString(dir.resolve("testdata/expected_top5.json")))
                .getAsJsonObject().getAsJsonObject("expected").getAsJsonObject(entry.fileName()).getAsJsonObject("tf");
        String[] names = {"cat.bmp", "grace_hopper.bmp", "bird.bmp", "dragonfly.bmp"};
        try (NDManager manager = NDManager.newBaseManager();
             Network net = Network.torchvision(entry.architecture(), 1000, entry.tfSamePadding(), manager, 0)) {
            net.load(weights, LoadMode.STRICT);
            float[] pixels = images.toFloats(); // NHWC uint8
            NDArray x = manager.create(pixels, new Shape(4, 224, 224, 3)).transpose(0, 3, 1, 2)
                    .div(127.5f).sub(1f).toType(DataType.FLOAT32, false);
            float[] logits = net.forward(x, false).toFloatArray();
            float[] reference = expected.toFloats();
            double max = 0;
            for (int i = 0; i < logits.length; i++) {
                max = Math.max(max, Math.abs(logits[i] - reference[i]));
            }
            System.out.printf("shared MobileNetV2 %s: max |logit diff| %.2e%n", entry.name(), max);
            assertThat(max).isLessThan(1e-3);
            for (int image = 0; image < 4; image++) {
                int best = 0;
                for (int c = 1; c < 1000; c++) {
                    if (logits[image * 1000 + c] > logits[image * 1000 + best]) {
                        best = c;
                    }
                }
                int expectedTop1 = top5.getAsJsonArray(names[image]).get(0).getAsJsonObject().get("index").getAsInt();
                assertThat(best).as(names[image]).isEqualTo(expectedTop1);
            }
        }
    }
}
