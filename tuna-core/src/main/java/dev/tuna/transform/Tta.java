package dev.tuna.transform;

import dev.tuna.TunaException;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.zip.CRC32;

/**
 * Test-time augmentation as fast.ai's {@code Learner.tta} does it: {@code passes} predictions of each
 * image under the training transforms, averaged, blended with the plain prediction:
 * {@code (1 − beta) · mean(augmented) + beta · plain} (fast.ai: 4 passes, beta 0.25).
 *
 * <p>Each image's draws depend only on its pixels and the pass number (a CRC-32 of the presized image
 * seeds them), so the same image gets the same augmented views whether it is predicted by the learner
 * or by the exported model, alone or in any batch, in any order.
 *
 * @param passes augmented passes, at least 1
 * @param beta weight of the plain prediction, in [0, 1]
 * @param transforms the training transforms the passes use
 */
public record Tta(int passes, double beta, AugTransforms transforms) {
    /** fast.ai's number of augmented passes. */
    public static final int FASTAI_PASSES = 4;
    /** fast.ai's weight of the plain prediction. */
    public static final double FASTAI_BETA = 0.25;
    /** The transforms used when training had none to reuse: random horizontal flips. */
    public static final AugTransforms FLIPS = new AugTransforms(0.5, 0, 1, 1, 0, 0, 0, 0, 1);

    /**
     * Validates the settings.
     *
     * @param passes augmented passes, at least 1
     * @param beta weight of the plain prediction, in [0, 1]
     * @param transforms the training transforms the passes use
     */
    public Tta {
        if (passes < 1 || !(beta >= 0 && beta <= 1) || transforms == null) {
            throw TunaException.usage(String.format(Locale.ROOT, "Test-time augmentation needs at least 1 pass, a"
                    + " beta between 0 and 1 and transforms; found %d passes, beta %s.", passes, beta));
        }
    }

    /**
     * fast.ai's defaults over the given training transforms.
     *
     * @param transforms the training transforms, or null for {@link #FLIPS}
     * @return 4 passes, beta 0.25
     */
    public static Tta fastai(AugTransforms transforms) {
        return new Tta(FASTAI_PASSES, FASTAI_BETA, transforms == null ? FLIPS : transforms);
    }

    /**
     * Draws the transform of one image for one pass.
     *
     * @param pixels the presized image, RGB bytes (at least {@code width × height × 3})
     * @param width its width
     * @param height its height
     * @param size the output side
     * @param pass the pass, from 0
     * @return the transform
     */
    public AugTransforms.Draw draw(byte[] pixels, int width, int height, int size, int pass) {
        CRC32 crc = new CRC32();
        crc.update(pixels, 0, width * height * 3);
        long seed = crc.getValue() * 0x9E3779B97F4A7C15L + (pass + 1) * 0xBF58476D1CE4E5B9L;
        return transforms.draw(new SplittableRandom(seed), width, height, size);
    }

    /**
     * Blends a batch: {@link #blend(float[], float[][])} for every image.
     *
     * @param plain one row of probabilities per image
     * @param passes per pass, one row per image, in the same order
     * @return the blended rows
     */
    public float[][] blend(float[][] plain, float[][][] passes) {
        float[][] out = new float[plain.length][];
        for (int i = 0; i < plain.length; i++) {
            float[][] views = new float[passes.length][];
            for (int pass = 0; pass < passes.length; pass++) {
                views[pass] = passes[pass][i];
            }
            out[i] = blend(plain[i], views);
        }
        return out;
    }

    /**
     * Writes pass {@code pass}'s view of one presized image as normalised network input.
     *
     * @param pixels the presized image, RGB bytes
     * @param width its width
     * @param height its height
     * @param size the output side
     * @param pass the pass, from 0
     * @param normalization the input normalisation
     * @param plainTable {@code normalization.lookupTable()}, reused when the view is not lit
     * @param out where the {@code size × size × 3} values go (channels last)
     * @param offset where in {@code out} the image starts
     */
    public void view(byte[] pixels, int width, int height, int size, int pass, Normalization normalization,
            float[][] plainTable, float[] out, int offset) {
        AugTransforms.Draw draw = draw(pixels, width, height, size, pass);
        AugTransforms.resample(pixels, width, height, draw, AugTransforms.table(draw, normalization, plainTable), size,
                out, offset);
    }

    /**
     * Blends one image's probabilities.
     *
     * @param plain the plain prediction
     * @param augmented one prediction per pass
     * @return {@code (1 − beta) · mean(augmented) + beta · plain}
     */
    public float[] blend(float[] plain, float[][] augmented) {
        float[] out = new float[plain.length];
        for (int c = 0; c < plain.length; c++) {
            double sum = 0;
            for (float[] pass : augmented) {
                sum += pass[c];
            }
            out[c] = (float) ((1 - beta) * (sum / augmented.length) + beta * plain[c]);
        }
        return out;
    }
}
