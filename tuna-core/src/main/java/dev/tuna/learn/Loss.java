package dev.tuna.learn;

import ai.djl.ndarray.NDArray;
import dev.tuna.TunaException;
import java.util.Locale;

/**
 * A training loss of logits against target distributions: one row per image, summing to 1 — one-hot
 * for plain labels, mixtures of two for MixUp and CutMix.
 */
public interface Loss {
    /**
     * The mean loss of a batch.
     *
     * @param logits (N, classes)
     * @param targets (N, classes), rows summing to 1
     * @return a scalar, recorded by autograd
     */
    NDArray of(NDArray logits, NDArray targets);

    /**
     * Cross-entropy, {@code −Σ t · log softmax(logits)}.
     *
     * @return the loss
     */
    static Loss crossEntropy() {
        return new CrossEntropy(0);
    }

    /**
     * fast.ai's {@code LabelSmoothingCrossEntropy}: {@code (1 − ε) · CE(t) + ε · mean over classes of
     * −log p}, i.e. cross-entropy against {@code (1 − ε) t + ε / classes}.
     *
     * @param epsilon ε in [0, 1)
     * @return the loss
     */
    static Loss labelSmoothing(double epsilon) {
        return new CrossEntropy(epsilon);
    }

    /**
     * Cross-entropy against soft targets, with optional label smoothing.
     *
     * @param smoothing ε in [0, 1); 0 for plain cross-entropy
     */
    record CrossEntropy(double smoothing) implements Loss {
        /**
         * Validates ε.
         *
         * @param smoothing ε in [0, 1); 0 for plain cross-entropy
         */
        public CrossEntropy {
            if (!(smoothing >= 0 && smoothing < 1)) {
                throw TunaException.usage(String.format(Locale.ROOT,
                        "Label smoothing must be in [0, 1); found %s.", smoothing));
            }
        }

        @Override
        public NDArray of(NDArray logits, NDArray targets) {
            NDArray logProbabilities = logits.logSoftmax(1);
            NDArray loss = logProbabilities.mul(targets).sum(new int[] {1}).neg();
            if (smoothing > 0) {
                NDArray uniform = logProbabilities.mean(new int[] {1}).neg();
                loss = loss.mul(1 - smoothing).add(uniform.mul(smoothing));
            }
            return loss.mean();
        }
    }
}
