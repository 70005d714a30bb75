package dev.tuna.internal.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.model.Network;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Stochastic depth as torchvision's "row" mode, from Tuna's seed. */
class StochasticDepthTest {
    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private NDArray run(StochasticDepth layer, NDArray x, boolean training) {
        return layer.forward(new ParameterStore(manager, false), new NDList(x), training).singletonOrThrow();
    }

    @Test
    void trainingDropsWholeRowsWithProbabilityPAndScalesTheRest() {
        StochasticDepth layer = new StochasticDepth(0.3, new StochasticDepth.Draws(5));
        int rows = 4000;
        float[] out = run(layer, manager.ones(new Shape(rows, 2, 3, 3)), true).toFloatArray();
        int dropped = 0;
        for (int r = 0; r < rows; r++) {
            float first = out[r * 18];
            assertThat(first).isIn(0f, (float) (1 / 0.7));
            for (int i = 1; i < 18; i++) {
                assertThat(out[r * 18 + i]).as("row %d is one draw", r).isEqualTo(first);
            }
            dropped += first == 0f ? 1 : 0;
        }
        assertThat(dropped / (double) rows).isCloseTo(0.3, within(0.03));
    }

    @Test
    void inferenceAndZeroProbabilityAreTheIdentity() {
        NDArray x = manager.randomNormal(new Shape(8, 4, 2, 2));
        assertThat(run(new StochasticDepth(0.5, new StochasticDepth.Draws(1)), x, false)).isSameAs(x);
        assertThat(run(new StochasticDepth(0, new StochasticDepth.Draws(1)), x, true)).isSameAs(x);
    }

    @Test
    void theDrawsAreAFunctionOfTheSeed() {
        StochasticDepth.Draws a = new StochasticDepth.Draws(9);
        StochasticDepth.Draws b = new StochasticDepth.Draws(9);
        float[] first = a.rows(64, 0.5);
        assertThat(b.rows(64, 0.5)).isEqualTo(first);
        assertThat(a.rows(64, 0.5)).isNotEqualTo(first);
        a.reseed(9);
        assertThat(a.rows(64, 0.5)).isEqualTo(first);
    }

    /**
     * ConvNeXt's body in training mode: without stochastic depth it computes what evaluation mode does
     * (layer norm has no running statistics); with torchvision's rate some images lose residual branches,
     * and reseeding repeats the same drops.
     */
    @Test
    void aConvNeXtBodyDropsBranchesOnlyWhenTrainingAndRepeatsItsDrawsFromASeed() {
        NDArray x = manager.randomNormal(new Shape(4, 3, 32, 32));
        try (Network plain = Network.transfer(Architecture.CONVNEXT_TINY, HeadSpec.DEFAULT, 2, false, 0, manager, 3);
             Network dropping = Network.transfer(Architecture.CONVNEXT_TINY, HeadSpec.DEFAULT, 2, false, manager, 3)) {
            // torchvision starts layer scales at 1e-6, which would hide every branch: make them count
            for (Network net : new Network[] {plain, dropping}) {
                net.parameters().forEach((name, p) -> {
                    if (name.endsWith(".layer_scale")) {
                        Arrays2.copyInto(p.getArray(), ones((int) p.getArray().getShape().size()));
                    }
                });
            }
            float[] eval = plain.features(x, false).toFloatArray();
            assertThat(plain.features(x, true).toFloatArray()).containsExactly(eval, within(1e-5f));
            assertThat(dropping.features(x, false).toFloatArray()).containsExactly(eval, within(1e-5f));
            dropping.seedStochasticDepth(11);
            float[] first = dropping.features(x, true).toFloatArray();
            float[] second = dropping.features(x, true).toFloatArray();
            assertThat(maxDiff(first, eval)).isGreaterThan(1e-3);
            assertThat(maxDiff(first, second)).isGreaterThan(1e-3);
            dropping.seedStochasticDepth(11);
            assertThat(dropping.features(x, true).toFloatArray()).containsExactly(first, within(1e-6f));
        }
    }

    private static float[] ones(int n) {
        float[] values = new float[n];
        java.util.Arrays.fill(values, 1f);
        return values;
    }

    private static double maxDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
