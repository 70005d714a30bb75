package dev.tuna.learn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.tuna.TunaException;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * fast.ai's MixUp and CutMix: each training batch is mixed with a shuffled copy of itself, images and
 * target distributions alike, before the forward pass. Used as a {@link Callback}; the draws depend
 * only on the learner's seed, the epoch and the batch, so runs repeat and resume exactly.
 *
 * <ul>
 *   <li>{@link #mixup(double)}: a weight λ per image from Beta(α, α), taken as max(λ, 1 − λ); the image
 *       becomes {@code λ x + (1 − λ) x'} and its target {@code λ y + (1 − λ) y'} (fast.ai α = 0.4).
 *   <li>{@link #cutmix(double)}: one λ per batch from Beta(α, α); a box of about {@code 1 − λ} of the
 *       image is pasted from the shuffled copy, and the targets are weighted by the box's actual area
 *       (fast.ai α = 1).
 * </ul>
 */
public final class BatchMix implements Callback {
    /** Which mixing. */
    public enum Kind {
        /** MixUp (Zhang et al. 2018). */
        MIXUP,
        /** CutMix (Yun et al. 2019). */
        CUTMIX
    }

    private final Kind kind;
    private final double alpha;

    private BatchMix(Kind kind, double alpha) {
        if (!(alpha > 0 && alpha <= 100)) {
            throw TunaException.usage(String.format(Locale.ROOT, "The %s alpha must be in (0, 100]; found %s.",
                    kind.name().toLowerCase(Locale.ROOT), alpha));
        }
        this.kind = kind;
        this.alpha = alpha;
    }

    /**
     * MixUp with Beta(α, α) weights.
     *
     * @param alpha α (fast.ai: 0.4)
     * @return the callback
     */
    public static BatchMix mixup(double alpha) {
        return new BatchMix(Kind.MIXUP, alpha);
    }

    /**
     * CutMix with a Beta(α, α) area.
     *
     * @param alpha α (fast.ai: 1.0)
     * @return the callback
     */
    public static BatchMix cutmix(double alpha) {
        return new BatchMix(Kind.CUTMIX, alpha);
    }

    /**
     * Returns which mixing this is.
     *
     * @return MixUp or CutMix
     */
    public Kind kind() {
        return kind;
    }

    /**
     * Returns the name used in model files, checkpoints and reports.
     *
     * @return "mixup" or "cutmix"
     */
    public String id() {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    /**
     * Returns α.
     *
     * @return the Beta distribution's parameter
     */
    public double alpha() {
        return alpha;
    }

    @Override
    public boolean changesInputs() {
        return true;
    }

    @Override
    public StepInput beforeStep(Learner learner, int epoch, int batch, StepInput input) {
        SplittableRandom random = new SplittableRandom(learner.seed() * 0x9E3779B97F4A7C15L
                + epoch * 0xBF58476D1CE4E5B9L + batch * 0x94D049BB133111EBL + kind.ordinal());
        return mix(input, random);
    }

    /**
     * Mixes one batch with the given randomness.
     *
     * @param input images (N, C, H, W) and targets (N, classes)
     * @param random the draws
     * @return the mixed batch
     */
    StepInput mix(StepInput input, SplittableRandom random) {
        NDArray x = input.images();
        NDArray y = input.targets();
        int n = (int) x.getShape().get(0);
        long[] permutation = permutation(n, random);
        NDManager manager = x.getManager();
        NDArray order = manager.create(permutation);
        NDArray shuffledX = x.get(new NDIndex("{}", order));
        NDArray shuffledY = y.get(new NDIndex("{}", order));
        if (kind == Kind.MIXUP) {
            float[] weights = new float[n];
            for (int i = 0; i < n; i++) {
                double lambda = beta(random, alpha);
                weights[i] = (float) Math.max(lambda, 1 - lambda);
            }
            NDArray lambdaX = manager.create(weights, new Shape(n, 1, 1, 1));
            NDArray lambdaY = manager.create(weights, new Shape(n, 1));
            return new StepInput(mixed(x, shuffledX, lambdaX), mixed(y, shuffledY, lambdaY), weights);
        }
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        double lambda = beta(random, alpha);
        double cut = Math.sqrt(1 - lambda);
        long cutW = (long) (w * cut);
        long cutH = (long) (h * cut);
        long cx = random.nextLong(w);
        long cy = random.nextLong(h);
        long x1 = Math.max(cx - cutW / 2, 0);
        long x2 = Math.min(cx + cutW / 2, w);
        long y1 = Math.max(cy - cutH / 2, 0);
        long y2 = Math.min(cy + cutH / 2, h);
        float[] mask = new float[(int) (h * w)];
        for (long r = y1; r < y2; r++) {
            for (long c = x1; c < x2; c++) {
                mask[(int) (r * w + c)] = 1f;
            }
        }
        float kept = (float) (1 - (double) ((x2 - x1) * (y2 - y1)) / (w * h));
        NDArray box = manager.create(mask, new Shape(1, 1, h, w));
        NDArray images = x.mul(box.neg().add(1f)).add(shuffledX.mul(box));
        float[] weights = new float[n];
        java.util.Arrays.fill(weights, kept);
        NDArray lambdaY = manager.create(weights, new Shape(n, 1));
        return new StepInput(images, mixed(y, shuffledY, lambdaY), weights);
    }

    /** {@code λ a + (1 − λ) b}. */
    private static NDArray mixed(NDArray a, NDArray b, NDArray lambda) {
        return a.mul(lambda).add(b.mul(lambda.neg().add(1f)));
    }

    private static long[] permutation(int n, SplittableRandom random) {
        long[] p = new long[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** A Beta(α, α) draw as G1 / (G1 + G2) with Gamma(α) draws. */
    static double beta(SplittableRandom random, double alpha) {
        double a = gamma(random, alpha);
        double b = gamma(random, alpha);
        return a + b == 0 ? 0.5 : a / (a + b);
    }

    /** Marsaglia and Tsang's Gamma(shape, 1); shapes below 1 boosted by U^(1/shape). */
    static double gamma(SplittableRandom random, double shape) {
        if (shape < 1) {
            double u = random.nextDouble();
            return gamma(random, shape + 1) * Math.pow(u, 1 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double z;
            double v;
            do {
                z = normal(random);
                v = 1 + c * z;
            } while (v <= 0);
            v = v * v * v;
            double u = random.nextDouble();
            if (u < 1 - 0.0331 * z * z * z * z || Math.log(u) < 0.5 * z * z + d * (1 - v + Math.log(v))) {
                return d * v;
            }
        }
    }

    private static double normal(SplittableRandom random) {
        double u = 1 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}
