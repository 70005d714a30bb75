package dev.tuna.internal.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import dev.tuna.TunaException;
import dev.tuna.internal.nn.Numerics.Kind;
import dev.tuna.internal.nn.Numerics.Route;
import dev.tuna.model.Architecture;
import dev.tuna.model.Network;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The kernels Tuna computes with, in the shapes where oneDNN's AVX-512 1×1 kernel was seen to be wrong
 * (AMD Zen 5), compared with float64; and the self-check, proven by simulating a wrong kernel.
 */
@Tag("numerics")
class NumericsTest {
    /** Tolerance against float64: float32 rounding is ~1e-5 here, the Zen 5 fault was 4 to 13. */
    private static final double LIMIT = 1e-3;

    private Numerics before;
    private NDManager manager;

    @BeforeEach
    void setUp() {
        before = Numerics.current();
        manager = NDManager.newBaseManager(null, "PyTorch");
    }

    @AfterEach
    void tearDown() {
        Numerics.install(before);
        manager.close();
    }

    @Test
    void theAffectedOneByOneShapesMatchFloat64InBothLayouts() {
        // {batch, in, out, size}: MobileNetV2's 960->320 and 320->1280 at 224 px (7x7) and 192 px (6x6),
        // inference and training batches, and ResNet-50's layer4 1x1 convolutions
        int[][] shapes = {{1, 320, 1280, 7}, {4, 320, 1280, 7}, {1, 960, 320, 7}, {4, 960, 320, 7},
            {64, 960, 320, 6}, {64, 320, 1280, 6}, {1, 160, 960, 14}, {4, 2048, 512, 7}, {4, 512, 2048, 7}};
        Numerics numerics = Numerics.current();
        for (int[] s : shapes) {
            for (boolean channelsLast : new boolean[] {true, false}) {
                NDArray x = input(s[0], s[1], s[3], channelsLast, 11);
                NDArray w = weight(s[2], s[1], 1, 1, 12);
                NDArray y = numerics.conv(x, w, null, 1, 0, 1);
                NDArray reference = float64Conv(x, w, 1, 0, 1);
                assertThat(Numerics.relativeDiff(y, reference))
                        .as("batch %d, %d->%d, %dx%d, channels-last %s", s[0], s[1], s[2], s[3], s[3], channelsLast)
                        .isLessThan(LIMIT);
            }
        }
    }

    @Test
    void stridedOneByOneConvolutionsAsMatrixProductsMatchFloat64() {
        // ResNet's downsampling shortcuts, 1x1 stride 2, on odd and even sizes
        int[][] shapes = {{2, 256, 512, 14}, {3, 64, 128, 15}, {1, 128, 256, 28}};
        for (int[] s : shapes) {
            NDArray x = input(s[0], s[1], s[3], true, 13);
            NDArray w = weight(s[2], s[1], 1, 1, 14);
            NDArray reference = float64Conv(x, w, 2, 0, 1);
            NDArray y = Numerics.current().conv(Route.MATMUL, x, w, null, 2, 0, 1);
            assertThat(y.getShape()).isEqualTo(reference.getShape());
            assertThat(Numerics.relativeDiff(y, reference)).as("%s", java.util.Arrays.toString(s)).isLessThan(LIMIT);
        }
    }

    @Test
    void anImageGivesTheSameOutputAloneAndInABatch() {
        Numerics numerics = Numerics.current();
        NDArray batch = input(4, 320, 7, true, 21);
        NDArray w = weight(1280, 320, 1, 1, 22);
        float[] together = numerics.conv(batch, w, null, 1, 0, 1).get("1:2").toFloatArray();
        NDArray alone = batch.get("1:2");
        float[] single = numerics.conv(alone, w, null, 1, 0, 1).toFloatArray();
        for (int i = 0; i < single.length; i++) {
            assertThat(together[i]).isCloseTo(single[i], within(1e-3f));
        }
    }

    @Test
    void trainingShapesHaveRightGradientsOnEveryRoute() {
        // MobileNetV2's final 1x1 at 192 px, batch 16 (the fault's training shape, smaller batch)
        NDArray x32 = input(16, 320, 6, true, 31);
        NDArray w32 = weight(1280, 320, 1, 1, 32);
        NDArray upstream = input(16, 1280, 6, false, 33);
        float[][] reference = gradients(x32, w32, upstream, Route.FLOAT64);
        for (Route route : Route.values()) {
            float[][] got = gradients(x32, w32, upstream, route);
            for (int part = 0; part < 3; part++) {
                double scale = 1;
                double diff = 0;
                for (int i = 0; i < got[part].length; i++) {
                    scale = Math.max(scale, Math.abs(reference[part][i]));
                    diff = Math.max(diff, Math.abs(got[part][i] - reference[part][i]));
                }
                assertThat(diff / scale).as("%s, part %d", route, part).isLessThan(LIMIT);
            }
        }
    }

    @Test
    void theFloat64ReferenceIsItselfRightOnATinyConvolutionComputedByHand() {
        // 2 images, 3->2 channels, 4x4, 3x3 kernel, padding 1, against a direct sum in Java
        int n = 2;
        int c = 3;
        int o = 2;
        int size = 4;
        float[] xs = floats(n * c * size * size, 41);
        float[] ws = floats(o * c * 9, 42);
        NDArray x = manager.create(xs, new Shape(n, c, size, size));
        NDArray w = manager.create(ws, new Shape(o, c, 3, 3));
        float[] got = Numerics.current().conv(Route.FLOAT64, x, w, null, 1, 1, 1).toFloatArray();
        float[] fast = Numerics.current().conv(x, w, null, 1, 1, 1).toFloatArray();
        int index = 0;
        for (int b = 0; b < n; b++) {
            for (int k = 0; k < o; k++) {
                for (int i = 0; i < size; i++) {
                    for (int j = 0; j < size; j++) {
                        double sum = 0;
                        for (int ch = 0; ch < c; ch++) {
                            for (int di = 0; di < 3; di++) {
                                for (int dj = 0; dj < 3; dj++) {
                                    int ii = i + di - 1;
                                    int jj = j + dj - 1;
                                    if (ii >= 0 && ii < size && jj >= 0 && jj < size) {
                                        sum += (double) xs[((b * c + ch) * size + ii) * size + jj]
                                                * ws[((k * c + ch) * 3 + di) * 3 + dj];
                                    }
                                }
                            }
                        }
                        assertThat((double) got[index]).isCloseTo(sum, within(1e-5));
                        assertThat((double) fast[index]).isCloseTo(sum, within(1e-4));
                        index++;
                    }
                }
            }
        }
    }

    @Test
    void aWrongOneByOneKernelIsCaughtAtStartAndReplacedByAMatrixProduct() {
        List<String> heard = new ArrayList<>();
        Consumer<String> listener = heard::add;
        Numerics.addListener(listener);
        try {
            Numerics numerics = Numerics.reset("pointwise_conv:1280");
            assertThat(numerics.route(Kind.POINTWISE_CONV)).isEqualTo(Route.MATMUL);
            assertThat(numerics.notes()).singleElement().asString()
                    .contains("1x1 convolution gave wrong numbers", "320->1280", "as a matrix product");
            assertThat(heard).isEqualTo(numerics.notes());
            for (Kind kind : Kind.values()) {
                if (kind != Kind.POINTWISE_CONV) {
                    assertThat(numerics.route(kind)).as(kind.name()).isEqualTo(Route.FAST);
                }
            }
            NDArray x = input(2, 320, 7, true, 51);
            NDArray w = weight(1280, 320, 1, 1, 52);
            assertThat(Numerics.relativeDiff(numerics.conv(x, w, null, 1, 0, 1), float64Conv(x, w, 1, 0, 1)))
                    .isLessThan(LIMIT);
            // the simulated fault is real on the fast path: this is what the check caught
            assertThat(Numerics.relativeDiff(numerics.conv(Route.FAST, x, w, null, 1, 0, 1), float64Conv(x, w, 1, 0, 1)))
                    .isGreaterThan(0.1);
        } finally {
            Numerics.removeListener(listener);
        }
    }

    @Test
    void aWrongKernelInAShapeTheStartCheckDoesNotCoverIsCaughtOnFirstUse() {
        // 96 output channels appear in no start-up probe: only the first-use check of the shape can see it
        Numerics numerics = Numerics.reset("pointwise_conv:96");
        assertThat(numerics.route(Kind.POINTWISE_CONV)).isEqualTo(Route.FAST);
        assertThat(numerics.notes()).isEmpty();
        NDArray x = input(3, 576, 7, true, 61);
        NDArray w = weight(96, 576, 1, 1, 62);
        NDArray reference = float64Conv(x, w, 1, 0, 1);
        assertThat(Numerics.relativeDiff(numerics.conv(x, w, null, 1, 0, 1), reference)).isLessThan(LIMIT);
        assertThat(numerics.notes()).singleElement().asString()
                .contains("1x1 convolution", "576->96 channels", "7x7 input, batch 3", "matrix product");
        // the second batch of that shape takes the safe path directly, with no new note
        assertThat(Numerics.relativeDiff(numerics.conv(x, w, null, 1, 0, 1), reference)).isLessThan(LIMIT);
        assertThat(numerics.notes()).hasSize(1);
        // other shapes of the same kind stay on the fast path
        NDArray other = weight(64, 576, 1, 1, 63);
        assertThat(Numerics.relativeDiff(numerics.conv(x, other, null, 1, 0, 1), float64Conv(x, other, 1, 0, 1)))
                .isLessThan(LIMIT);
        assertThat(numerics.notes()).hasSize(1);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void everyKindWithAWrongKernelIsSwitchedToASafePathAtStartAndNetworksStayRight(Kind kind) {
        float[][] right = logits(kind);
        Numerics numerics = Numerics.reset(kind.name().toLowerCase(java.util.Locale.ROOT));
        Route expected = kind == Kind.POINTWISE_CONV ? Route.MATMUL : Route.FLOAT64;
        assertThat(numerics.routes()).containsEntry(kind, expected);
        assertThat(numerics.routes().values().stream().filter(r -> r != Route.FAST)).hasSize(1);
        assertThat(numerics.notes()).singleElement().asString().contains(kind.label());
        numerics.checkTraining(); // values were wrong, gradients right: training goes on
        float[][] got = logits(kind);
        for (int net = 0; net < right.length; net++) {
            for (int i = 0; i < right[net].length; i++) {
                assertThat(got[net][i]).as("network %d, logit %d", net, i).isCloseTo(right[net][i], within(1e-4f));
            }
        }
    }

    @Test
    void wrongGradientsWithoutASafePathRefuseTraining() {
        Numerics numerics = Numerics.reset("linear:grad");
        assertThat(numerics.route(Kind.LINEAR)).isEqualTo(Route.FLOAT64);
        assertThat(numerics.notes()).hasSize(2).last().asString()
                .contains("training is refused", "linear layer gives wrong gradients", "input gradient");
        assertThatThrownBy(numerics::checkTraining).isInstanceOfSatisfying(TunaException.class,
                e -> assertThat(e.kind()).isEqualTo(TunaException.Kind.RUNTIME))
                .hasMessageContaining("Cannot train on this machine").hasMessageContaining("ONEDNN_MAX_CPU_ISA=AVX2");
        // a 1x1 convolution's matrix product has gradients of its own: no refusal there
        Numerics pointwise = Numerics.reset("pointwise_conv:grad");
        assertThat(pointwise.route(Kind.POINTWISE_CONV)).isEqualTo(Route.MATMUL);
        pointwise.checkTraining();
    }

    /**
     * Inference logits with random weights, batch 2 at 64 px, of ResNet-18 and MobileNetV2 (TF-SAME); for
     * layer norm and the smooth activations, of the architectures that use them, ConvNeXt-Tiny and
     * EfficientNet-B0.
     */
    private float[][] logits(Kind kind) {
        float[][] result = new float[2][];
        boolean newer = kind == Kind.LAYER_NORM || kind == Kind.ACTIVATION;
        Architecture[] archs = newer ? new Architecture[] {Architecture.CONVNEXT_TINY, Architecture.EFFICIENTNET_B0}
                : new Architecture[] {Architecture.RESNET18, Architecture.MOBILENET_V2};
        for (int i = 0; i < archs.length; i++) {
            try (NDManager scope = manager.newSubManager();
                 Network net = Network.torchvision(archs[i], 10, i == 1 && !newer, scope, 5)) {
                NDArray x = scope.create(floats(2 * 3 * 64 * 64, 81), new Shape(2, 64, 64, 3)).transpose(0, 3, 1, 2);
                result[i] = net.forward(x, false).toFloatArray();
            }
        }
        return result;
    }

    @Test
    void batchNormInFloat64UpdatesTheRunningStatisticsAsTheFastPathDoes() {
        NDArray x = input(8, 16, 5, true, 71);
        float[][] fast = batchNormStep(x, Route.FAST);
        float[][] wide = batchNormStep(x, Route.FLOAT64);
        for (int part = 0; part < 3; part++) {
            for (int i = 0; i < fast[part].length; i++) {
                assertThat(wide[part][i]).as("part %d at %d", part, i).isCloseTo(fast[part][i], within(1e-4f));
            }
        }
        // and the statistics moved: momentum 0.1 towards the batch's
        assertThat(fast[1][0]).isNotEqualTo(0.5f);
    }

    @Test
    void theStartCheckTakesWellUnderASecond() {
        Numerics numerics = Numerics.reset("");
        System.out.printf("numerics start-up check: %.3f s%n", numerics.checkSeconds());
        assertThat(numerics.checkSeconds()).isLessThan(2.0);
    }

    // ------------------------------------------------------------------ helpers

    private float[][] batchNormStep(NDArray x, Route route) {
        long channels = x.getShape().get(1);
        NDArray mean = manager.full(new Shape(channels), 0.5f);
        NDArray var = manager.full(new Shape(channels), 2f);
        NDArray gamma = manager.create(floats((int) channels, 72));
        NDArray beta = manager.create(floats((int) channels, 73));
        NDArray y = route == Route.FAST
                ? Numerics.current().batchNorm(x, mean, var, gamma, beta, Torchvision.BN_MOMENTUM_DJL,
                        Torchvision.BN_EPS, true)
                : Numerics.batchNormFloat64(x, mean, var, gamma, beta, Torchvision.BN_MOMENTUM_DJL,
                        Torchvision.BN_EPS, true);
        return new float[][] {y.toFloatArray(), mean.toFloatArray(), var.toFloatArray()};
    }

    private float[][] gradients(NDArray x0, NDArray w0, NDArray upstream, Route route) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = x0.duplicate();
            NDArray w = w0.duplicate();
            x.attach(scope);
            w.attach(scope);
            x.setRequiresGradient(true);
            w.setRequiresGradient(true);
            float[] y;
            try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray out = Numerics.current().conv(route, x, w, null, 1, 0, 1);
                y = out.toFloatArray();
                collector.backward(out.mul(upstream).sum());
            }
            return new float[][] {y, x.getGradient().toFloatArray(), w.getGradient().toFloatArray()};
        }
    }

    private NDArray float64Conv(NDArray x, NDArray w, int stride, int padding, int groups) {
        return Conv2d.conv2d(x.toType(DataType.FLOAT64, true), w.toType(DataType.FLOAT64, true), null,
                new Shape(stride, stride), new Shape(padding, padding), new Shape(1, 1), groups)
                .singletonOrThrow().toType(DataType.FLOAT32, true);
    }

    private NDArray input(int batch, int channels, int size, boolean channelsLast, int seed) {
        float[] values = floats(batch * channels * size * size, seed);
        return channelsLast
                ? manager.create(values, new Shape(batch, size, size, channels)).transpose(0, 3, 1, 2)
                : manager.create(values, new Shape(batch, channels, size, size));
    }

    private NDArray weight(int out, int in, int kernel, int groups, int seed) {
        float scale = (float) Math.sqrt(2.0 / (in / groups * kernel * kernel));
        return manager.create(floats(out * in / groups * kernel * kernel, seed), new Shape(out, in / groups, kernel,
                kernel)).mul(scale);
    }

    private static float[] floats(int count, int seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}
