package dev.tuna.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.SplittableRandom;

/**
 * Stochastic depth in torchvision's "row" mode ({@code torchvision.ops.StochasticDepth(p, "row")}), the
 * last layer of a residual branch: in training mode each image's branch output is dropped (zero) with
 * probability {@code p} and otherwise scaled by {@code 1 / (1 − p)}; in inference mode, or with
 * {@code p = 0}, it is the identity. The draws come from the network's {@link Draws}, a generator seeded
 * from Tuna's seed, never from libtorch's global generator.
 */
public final class StochasticDepth extends AbstractBlock {
    private final double p;
    private final Draws draws;

    /**
     * Creates the layer.
     *
     * @param p the probability of dropping an image's branch, in [0, 1)
     * @param draws the network's generator
     */
    StochasticDepth(double p, Draws draws) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("stochastic depth probability must be in [0, 1): " + p);
        }
        this.p = p;
        this.draws = draws;
    }

    /**
     * Returns the drop probability.
     *
     * @return p
     */
    double probability() {
        return p;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        if (!training || p == 0) {
            return inputs;
        }
        long[] shape = new long[x.getShape().dimension()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = x.getShape().get(0);
        NDArray noise = x.getManager().create(draws.rows((int) shape[0], p), new Shape(shape));
        NDArray result = x.mul(noise);
        noise.close();
        return new NDList(result);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    /**
     * The random draws of one network's stochastic depth: a generator seeded from the network's seed,
     * which the training loop can restart from a seed of its own (e.g. per epoch, so that a resumed run
     * draws what the uninterrupted one drew). Thread-safe.
     */
    public static final class Draws {
        private SplittableRandom random;

        /**
         * Creates the draws.
         *
         * @param seed the seed
         */
        public Draws(long seed) {
            this.random = new SplittableRandom(seed);
        }

        /**
         * Restarts the draws from a seed.
         *
         * @param seed the seed
         */
        public synchronized void reseed(long seed) {
            random = new SplittableRandom(seed);
        }

        /**
         * One row mask: each of {@code rows} values is {@code 1 / (1 − p)} with probability {@code 1 − p}
         * and 0 otherwise (torchvision's {@code bernoulli_(1 − p).div_(1 − p)}).
         *
         * @param rows the batch size
         * @param p the drop probability
         * @return the mask
         */
        synchronized float[] rows(int rows, double p) {
            double survival = 1 - p;
            float kept = (float) (1 / survival);
            float[] mask = new float[rows];
            for (int i = 0; i < rows; i++) {
                mask[i] = random.nextDouble() < survival ? kept : 0f;
            }
            return mask;
        }
    }
}
