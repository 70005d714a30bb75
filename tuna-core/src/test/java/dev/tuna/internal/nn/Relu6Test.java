package dev.tuna.internal.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assumptions.assumeThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.tuna.internal.engine.ProcessMemory;
import dev.tuna.internal.engine.TorchOps;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** ReLU6 through libtorch's hardtanh (the training path) against the DJL-only composition. */
@Tag("numerics")
class Relu6Test {
    private static final Shape SHAPE = new Shape(4, 16, 12, 12);

    @Test
    void theNativeBindingIsMadeOnLinuxX8664WithTheSupportedLibtorch() {
        assumeThat(System.getProperty("os.name")).startsWith("Linux");
        assumeThat(System.getProperty("os.arch")).isIn("amd64", "x86_64");
        Relu6 block = new Relu6(); // binds, as building a network does
        assertThat(block).isNotNull();
        assertThat(TorchOps.available()).as(TorchOps.status()).isTrue();
        assertThat(TorchOps.status()).contains("in use");
    }

    @Test
    void nativeAndFallbackTrainingPathsAgreeInValuesAndGradients() {
        Relu6 nativePath = new Relu6(true);
        Relu6 fallback = new Relu6(false);
        assumeThat(TorchOps.available()).as(TorchOps.status()).isTrue();
        float[] input = values(SHAPE, 7);
        float[] upstream = values(SHAPE, 8);
        Result a = trainStep(nativePath, input, upstream);
        Result b = trainStep(fallback, input, upstream);
        for (int i = 0; i < input.length; i++) {
            assertThat(a.output[i]).as("value at %s", input[i]).isCloseTo(b.output[i], within(1e-5f));
            assertThat(a.gradient[i]).as("gradient at %s", input[i]).isEqualTo(b.gradient[i]);
            float expected = input[i] > 0 && input[i] < 6 ? upstream[i] : 0f;
            assertThat(a.gradient[i]).as("gradient at %s", input[i]).isEqualTo(expected);
        }
    }

    @Test
    void inferenceIsOneClampOnEitherPath() {
        float[] input = values(new Shape(64), 9);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.create(input);
            float[] a = new Relu6(true).forward(new ParameterStore(manager, false), new NDList(x), false)
                    .singletonOrThrow().toFloatArray();
            float[] b = new Relu6(false).forward(new ParameterStore(manager, false), new NDList(x), false)
                    .singletonOrThrow().toFloatArray();
            for (int i = 0; i < input.length; i++) {
                assertThat(a[i]).isEqualTo(Math.min(Math.max(input[i], 0f), 6f)).isEqualTo(b[i]);
            }
        }
    }

    @Test
    void nativeResultsAreReleasedWithTheirManager() {
        Relu6 block = new Relu6(true);
        assumeThat(TorchOps.available()).as(TorchOps.status()).isTrue();
        assumeThat(ProcessMemory.nativeAllocatedBytes()).as("jemalloc statistics").isGreaterThan(0);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.randomNormal(new Shape(1 << 20));
            Runnable round = () -> {
                for (int i = 0; i < 200; i++) {
                    try (NDManager step = manager.newSubManager()) {
                        NDArray in = x.duplicate();
                        in.attach(step);
                        block.forward(new ParameterStore(step, false), new NDList(in), true);
                    }
                }
            };
            round.run(); // warm up the allocator
            long before = ProcessMemory.nativeAllocatedBytes();
            round.run();
            long growth = ProcessMemory.nativeAllocatedBytes() - before;
            // 200 leaked 4 MB outputs would be 800 MB; allow allocator noise only
            assertThat(growth).isLessThan(16L << 20);
        }
    }

    private record Result(float[] output, float[] gradient) {}

    private static Result trainStep(Relu6 block, float[] input, float[] upstream) {
        try (NDManager manager = NDManager.newBaseManager()) {
            // channels-last, as the network sees its activations
            NDArray x = manager.create(input, new Shape(4, 12, 12, 16)).transpose(0, 3, 1, 2);
            x.setRequiresGradient(true);
            NDArray grad = manager.create(upstream, new Shape(4, 12, 12, 16)).transpose(0, 3, 1, 2);
            float[] out;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray y = block.forward(new ParameterStore(manager, false), new NDList(x), true).singletonOrThrow();
                out = y.transpose(0, 2, 3, 1).toFloatArray();
                collector.backward(y.mul(grad).sum());
            }
            return new Result(out, x.getGradient().transpose(0, 2, 3, 1).toFloatArray());
        }
    }

    /** Values spread over [-10, 16), never exactly 0 or 6, where the two paths' derivatives differ. */
    private static float[] values(Shape shape, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < v.length; i++) {
            float f;
            do {
                f = (float) (random.nextDouble() * 26 - 10);
            } while (f == 0f || f == 6f);
            v[i] = f;
        }
        return v;
    }
}
