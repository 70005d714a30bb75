package dev.tuna.transform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.tuna.TunaException;
import dev.tuna.transform.AugTransforms.Draw;
import dev.tuna.transform.AugTransforms.Params;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Each of fast.ai's augmentations does what it says, on marked images. */
class AugTransformsTest {
    private static final int SIZE = 32;

    /** A black image with one white pixel at (x, y). */
    private static byte[] marked(int x, int y) {
        byte[] pixels = new byte[SIZE * SIZE * 3];
        int p = (y * SIZE + x) * 3;
        pixels[p] = (byte) 255;
        pixels[p + 1] = (byte) 255;
        pixels[p + 2] = (byte) 255;
        return pixels;
    }

    private static float[] apply(byte[] source, int width, int height, Draw draw) {
        float[] out = new float[SIZE * SIZE * 3];
        AugTransforms.resample(source, width, height, draw, AugTransforms.byteTable(draw), SIZE, out, 0);
        return out;
    }

    /** Position of the brightest pixel: {x, y}. */
    private static int[] brightest(float[] image) {
        int best = 0;
        for (int i = 0; i < SIZE * SIZE; i++) {
            if (image[i * 3] > image[best * 3]) {
                best = i;
            }
        }
        return new int[] {best % SIZE, best / SIZE};
    }

    private static Params with(boolean flip, double degrees) {
        Params p = Params.IDENTITY;
        return new Params(p.area(), p.leftPct(), p.topPct(), flip, degrees, p.zoom(), p.columnPct(), p.rowPct(),
                p.warpX(), p.warpY(), p.brightness(), p.contrast());
    }

    @Test
    void theIdentityReproducesTheImage() {
        byte[] source = new byte[SIZE * SIZE * 3];
        new SplittableRandom(1).nextBytes(source);
        float[] out = apply(source, SIZE, SIZE, Params.IDENTITY.draw(SIZE, SIZE, SIZE));
        for (int i = 0; i < out.length; i++) {
            assertThat(out[i]).isCloseTo(source[i] & 0xFF, within(1e-3f));
        }
    }

    @Test
    void aFlipMirrorsTheMark() {
        float[] out = apply(marked(3, 10), SIZE, SIZE, with(true, 0).draw(SIZE, SIZE, SIZE));
        assertThat(brightest(out)).containsExactly(SIZE - 1 - 3, 10);
        assertThat(out[(10 * SIZE + SIZE - 1 - 3) * 3]).isCloseTo(255f, within(1e-3f));
    }

    @Test
    void aQuarterTurnMovesTheMarkWhereExpected() {
        // fast.ai's rotation matrix [[cos, sin], [-sin, cos]] samples the source at (y, -x) for output (x, y):
        // a mark at source (3, 10) appears at output (31 - 10, 3)
        float[] out = apply(marked(3, 10), SIZE, SIZE, with(false, 90).draw(SIZE, SIZE, SIZE));
        assertThat(brightest(out)).containsExactly(SIZE - 1 - 10, 3);
        assertThat(out[(3 * SIZE + SIZE - 1 - 10) * 3]).isCloseTo(255f, within(1e-2f));
    }

    @Test
    void theCropWindowComesFromTheLongerSideOfACachedImage() {
        // a 48 x 32 cached image: the centred window starts at x = 8; leftPct 0 starts it at x = 0
        byte[] source = new byte[48 * 32 * 3];
        int p = (5 * 48 + 8) * 3;
        source[p] = (byte) 255;
        Params left = new Params(1, 0, 0.5, false, 0, 1, 0.5, 0.5, 0, 0, 0.5, 1);
        assertThat(brightest(apply(source, 48, 32, Params.IDENTITY.draw(48, 32, SIZE)))).containsExactly(0, 5);
        assertThat(brightest(apply(source, 48, 32, left.draw(48, 32, SIZE)))).containsExactly(8, 5);
    }

    @Test
    void brightnessAndContrastWorkInLogitSpace() {
        byte[] gray = new byte[SIZE * SIZE * 3];
        java.util.Arrays.fill(gray, (byte) 100);
        double v = 100 / 255.0;
        Params p = Params.IDENTITY;
        Params bright = new Params(1, 0.5, 0.5, false, 0, 1, 0.5, 0.5, 0, 0, 0.6, 1);
        Params contrast = new Params(1, 0.5, 0.5, false, 0, 1, 0.5, 0.5, 0, 0, 0.5, 1.25);
        assertThat(p.draw(SIZE, SIZE, SIZE).lights()).isFalse();
        double logit = Math.log(v / (1 - v));
        double expectedBright = 255 / (1 + Math.exp(-(logit + Math.log(0.6 / 0.4))));
        double expectedContrast = 255 / (1 + Math.exp(-(logit * 1.25)));
        assertThat(mean(apply(gray, SIZE, SIZE, bright.draw(SIZE, SIZE, SIZE)))).isCloseTo(expectedBright, within(1e-2));
        assertThat(mean(apply(gray, SIZE, SIZE, contrast.draw(SIZE, SIZE, SIZE))))
                .isCloseTo(expectedContrast, within(1e-2));
        // brightness 0.6 on mid-grey gives exactly 0.6: the drawn factor
        assertThat(bright.draw(SIZE, SIZE, SIZE).light(0.5)).isCloseTo(0.6, within(1e-9));
        assertThat(expectedBright).isGreaterThan(100);
        assertThat(expectedContrast).isLessThan(100); // below mid-grey, more contrast is darker
    }

    private static double mean(float[] image) {
        double sum = 0;
        for (float f : image) {
            sum += f;
        }
        return sum / image.length;
    }

    @Test
    void theWarpSendsTheMovedCornersBackToTheCorners() {
        double x = 0.15;
        double y = -0.1;
        double[] h = AugTransforms.warpMatrix(x, y);
        double[][] from = {{-1 - y, -1 - x}, {-1 + y, 1 + x}, {1 + y, -1 + x}, {1 - y, 1 - x}};
        double[][] to = {{-1, -1}, {-1, 1}, {1, -1}, {1, 1}};
        for (int i = 0; i < 4; i++) {
            double w = h[6] * from[i][0] + h[7] * from[i][1] + h[8];
            assertThat((h[0] * from[i][0] + h[1] * from[i][1] + h[2]) / w).isCloseTo(to[i][0], within(1e-12));
            assertThat((h[3] * from[i][0] + h[4] * from[i][1] + h[5]) / w).isCloseTo(to[i][1], within(1e-12));
        }
        assertThat(AugTransforms.warpMatrix(0, 0)).containsExactly(1, 0, 0, 0, 1, 0, 0, 0, 1);
    }

    @Test
    void zoomStaysInsideTheImage() {
        for (double pct : new double[] {0, 0.3, 1}) {
            double[] m = AugTransforms.zoomMatrix(1.1, pct, 1 - pct);
            for (double corner : new double[] {-1, 1}) {
                assertThat(Math.abs(m[0] * corner + m[2])).isLessThanOrEqualTo(1 + 1e-12);
                assertThat(Math.abs(m[4] * corner + m[5])).isLessThanOrEqualTo(1 + 1e-12);
            }
        }
    }

    @Test
    void reflectionPaddingMirrorsAboutTheEdgePixels() {
        assertThat(AugTransforms.reflect(-1.5, 31)).isEqualTo(1.5);
        assertThat(AugTransforms.reflect(32.0, 31)).isEqualTo(30.0);
        assertThat(AugTransforms.reflect(65.0, 31)).isEqualTo(3.0);
        assertThat(AugTransforms.reflect(7.0, 0)).isEqualTo(0.0);
    }

    @Test
    void fastaiDefaultsDrawWithTheirProbabilitiesAndRanges() {
        SplittableRandom random = new SplittableRandom(3);
        int n = 20_000;
        int flips = 0;
        int lit = 0;
        for (int i = 0; i < n; i++) {
            Draw d = AugTransforms.FASTAI.draw(random, SIZE, SIZE, SIZE);
            flips += d.matrix()[0] < 0 ? 1 : 0; // a flip makes the x-to-x entry negative (|rotation| <= 10 deg)
            lit += d.lights() ? 1 : 0;
            assertThat(Math.exp(d.brightnessLogit()) / (1 + Math.exp(d.brightnessLogit()))).isBetween(0.4, 0.6);
            assertThat(d.contrast()).isBetween(0.8, 1.25);
        }
        assertThat(flips / (double) n).isCloseTo(0.5, within(0.02));
        // brightness and contrast each with p = 0.75: some lighting with 1 - 0.25^2 = 0.9375
        assertThat(lit / (double) n).isCloseTo(0.9375, within(0.01));
    }

    @Test
    void badSettingsAreRefusedWithTheRange() {
        assertThatThrownBy(() -> AugTransforms.FASTAI.withMinScale(0))
                .isInstanceOf(TunaException.class)
                .hasMessageContaining("minimum crop scale must be between 0.01 and 1");
    }
}
