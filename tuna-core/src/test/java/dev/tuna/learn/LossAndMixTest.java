package dev.tuna.learn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuna.TunaException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The losses' values against hand computations; MixUp and CutMix mix what they say they mix. */
class LossAndMixTest {
    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private static double[] logSoftmax(double[] z) {
        double max = Math.max(z[0], Math.max(z[1], z[2]));
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v - max);
        }
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = z[i] - max - Math.log(sum);
        }
        return out;
    }

    @Test
    void crossEntropyAndLabelSmoothingMatchTheirFormulas() {
        double[][] z = {{2.0, -1.0, 0.5}, {0.1, 0.2, 3.0}};
        int[] labels = {0, 1};
        NDArray logits = manager.create(new float[] {2f, -1f, 0.5f, 0.1f, 0.2f, 3f}, new Shape(2, 3));
        NDArray targets = manager.create(new float[] {1, 0, 0, 0, 1, 0}, new Shape(2, 3));
        double ce = 0;
        double smooth = 0;
        double eps = 0.1;
        for (int i = 0; i < 2; i++) {
            double[] lp = logSoftmax(z[i]);
            ce += -lp[labels[i]] / 2;
            // fast.ai: (1 - eps) * nll + eps * mean over classes of -log p
            smooth += ((1 - eps) * -lp[labels[i]] + eps * -(lp[0] + lp[1] + lp[2]) / 3) / 2;
        }
        assertThat((double) Loss.crossEntropy().of(logits, targets).getFloat()).isCloseTo(ce, within(1e-5));
        assertThat((double) Loss.labelSmoothing(eps).of(logits, targets).getFloat()).isCloseTo(smooth, within(1e-5));
        // soft targets: the loss is linear in them (what MixUp relies on)
        NDArray mixed = manager.create(new float[] {0.7f, 0.3f, 0, 0, 0.6f, 0.4f}, new Shape(2, 3));
        double expected = 0;
        double[][] t = {{0.7, 0.3, 0}, {0, 0.6, 0.4}};
        for (int i = 0; i < 2; i++) {
            double[] lp = logSoftmax(z[i]);
            expected += -(t[i][0] * lp[0] + t[i][1] * lp[1] + t[i][2] * lp[2]) / 2;
        }
        assertThat((double) Loss.crossEntropy().of(logits, mixed).getFloat()).isCloseTo(expected, within(1e-5));
        assertThatThrownBy(() -> Loss.labelSmoothing(1)).isInstanceOf(TunaException.class)
                .hasMessageContaining("Label smoothing must be in [0, 1)");
    }

    /**
     * Label smoothing by hand. Logits (ln 2, 0, 0) give p = (1/2, 1/4, 1/4), so -log p = (ln 2, 2 ln 2, 2 ln 2); for
     * target 0 and eps 0.1 the loss is 0.9 ln 2 + 0.1 (5 ln 2) / 3 = (16/15) ln 2 = 0.739357. Smoothing also
     * moves the best prediction off certainty: the loss is lowest at p = (1 - eps + eps/3, eps/3, eps/3) =
     * (0.9333, 0.0333, 0.0333), where it is that distribution's entropy, 0.291140; a surer (0.99, 0.005, 0.005)
     * or a less sure (0.8, 0.1, 0.1) prediction costs more.
     */
    @Test
    void labelSmoothingHasItsHandComputedValueAndPrefersASmoothedPrediction() {
        NDArray target = manager.create(new float[] {1, 0, 0}, new Shape(1, 3));
        Loss smoothing = Loss.labelSmoothing(0.1);
        NDArray logits = manager.create(new float[] {(float) Math.log(2), 0, 0}, new Shape(1, 3));
        assertThat((double) smoothing.of(logits, target).getFloat()).isCloseTo(0.739357, within(1e-6));
        assertThat((double) Loss.crossEntropy().of(logits, target).getFloat()).isCloseTo(0.693147, within(1e-6));

        double best = smoothing.of(logitsOf(14 / 15.0, 1 / 30.0, 1 / 30.0), target).getFloat();
        assertThat(best).isCloseTo(0.291140, within(1e-5));
        assertThat((double) smoothing.of(logitsOf(0.99, 0.005, 0.005), target).getFloat()).isGreaterThan(best + 0.05);
        assertThat((double) smoothing.of(logitsOf(0.8, 0.1, 0.1), target).getFloat()).isGreaterThan(best + 0.01);
    }

    private NDArray logitsOf(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.log(probabilities[i]);
        }
        return manager.create(logits, new Shape(1, logits.length));
    }

    private StepInput batch(int n, int classes, int size) {
        float[] pixels = new float[n * 3 * size * size];
        SplittableRandom random = new SplittableRandom(9);
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) random.nextDouble();
        }
        float[] onehot = new float[n * classes];
        for (int i = 0; i < n; i++) {
            onehot[i * classes + i % classes] = 1;
        }
        return new StepInput(manager.create(pixels, new Shape(n, 3, size, size)),
                manager.create(onehot, new Shape(n, classes)), null);
    }

    @Test
    void mixupBlendsImagesAndTargetsWithTheDrawnWeights() {
        StepInput in = batch(6, 3, 4);
        StepInput out = BatchMix.mixup(0.4).mix(in, new SplittableRandom(1));
        float[] x = in.images().toFloatArray();
        float[] y = in.targets().toFloatArray();
        float[] mixedX = out.images().toFloatArray();
        float[] mixedY = out.targets().toFloatArray();
        int per = 3 * 4 * 4;
        for (int i = 0; i < 6; i++) {
            float lambda = out.weights()[i];
            assertThat(lambda).isBetween(0.5f, 1f);
            assertThat(mixedY[i * 3] + mixedY[i * 3 + 1] + mixedY[i * 3 + 2]).isCloseTo(1f, within(1e-6f));
            // the image's own class keeps at least weight lambda
            int own = i % 3;
            assertThat(mixedY[i * 3 + own]).isGreaterThanOrEqualTo(lambda - 1e-6f);
            // which partner: the j whose blend reproduces the pixels
            boolean found = false;
            for (int j = 0; j < 6 && !found; j++) {
                boolean all = true;
                for (int k = 0; k < per && all; k++) {
                    float expected = lambda * x[i * per + k] + (1 - lambda) * x[j * per + k];
                    all = Math.abs(mixedX[i * per + k] - expected) < 1e-5f;
                }
                if (all) {
                    found = true;
                    for (int c = 0; c < 3; c++) {
                        assertThat(mixedY[i * 3 + c]).isCloseTo(lambda * y[i * 3 + c] + (1 - lambda) * y[j * 3 + c],
                                within(1e-6f));
                    }
                }
            }
            assertThat(found).as("image %d is a blend of itself and a partner", i).isTrue();
        }
    }

    @Test
    void cutmixPastesABoxAndWeighsTargetsByItsArea() {
        StepInput in = batch(4, 2, 16);
        StepInput out = BatchMix.cutmix(1.0).mix(in, new SplittableRandom(5));
        float[] x = in.images().toFloatArray();
        float[] mixedX = out.images().toFloatArray();
        float kept = out.weights()[0];
        int per = 3 * 16 * 16;
        for (int i = 0; i < 4; i++) {
            int same = 0;
            for (int k = 0; k < per; k++) {
                same += mixedX[i * per + k] == x[i * per + k] ? 1 : 0;
            }
            // pixels outside the box are the image's own; inside, its partner's (the same image keeps all)
            assertThat(same / (double) per).isGreaterThanOrEqualTo(kept - 1e-6);
            float[] t = out.targets().toFloatArray();
            assertThat(t[i * 2] + t[i * 2 + 1]).isCloseTo(1f, within(1e-6f));
        }
    }

    @Test
    void betaDrawsHaveTheirMeanAndVariance() {
        SplittableRandom random = new SplittableRandom(2);
        int n = 40_000;
        double sum = 0;
        double squares = 0;
        for (int i = 0; i < n; i++) {
            double b = BatchMix.beta(random, 0.4);
            assertThat(b).isBetween(0.0, 1.0);
            sum += b;
            squares += b * b;
        }
        double mean = sum / n;
        double variance = squares / n - mean * mean;
        assertThat(mean).isCloseTo(0.5, within(0.01));
        assertThat(variance).isCloseTo(1 / (4 * (2 * 0.4 + 1)), within(0.005)); // Beta(a, a): 1 / (4 (2a + 1))
    }
}
