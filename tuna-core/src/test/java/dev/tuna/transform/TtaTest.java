package dev.tuna.transform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.tuna.TunaException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** fast.ai's test-time augmentation: the blend, and views that depend only on the image and the pass. */
class TtaTest {
    @Test
    void blendsTheMeanOfTheViewsWithThePlainPrediction() {
        Tta tta = Tta.fastai(AugTransforms.FASTAI);
        assertThat(tta.passes()).isEqualTo(4);
        assertThat(tta.beta()).isEqualTo(0.25);
        float[] plain = {0.7f, 0.2f, 0.1f};
        float[][] views = {{0.1f, 0.8f, 0.1f}, {0.3f, 0.6f, 0.1f}, {0.5f, 0.4f, 0.1f}, {0.3f, 0.6f, 0.1f}};
        float[] blended = tta.blend(plain, views);
        // mean of views (0.3, 0.6, 0.1); 0.75 * that + 0.25 * plain
        assertThat(blended[0]).isCloseTo(0.75f * 0.3f + 0.25f * 0.7f, within(1e-6f));
        assertThat(blended[1]).isCloseTo(0.75f * 0.6f + 0.25f * 0.2f, within(1e-6f));
        assertThat(blended[2]).isCloseTo(0.1f, within(1e-6f));
        assertThat(blended[0] + blended[1] + blended[2]).isCloseTo(1f, within(1e-6f));
    }

    @Test
    void viewsDependOnlyOnThePixelsAndThePass() {
        Tta tta = Tta.fastai(AugTransforms.FASTAI);
        byte[] a = new byte[16 * 16 * 3];
        new SplittableRandom(4).nextBytes(a);
        byte[] b = a.clone();
        b[7] ^= 1;
        assertThat(tta.draw(a, 16, 16, 16, 0).matrix()).containsExactly(tta.draw(a.clone(), 16, 16, 16, 0).matrix());
        assertThat(tta.draw(a, 16, 16, 16, 0).matrix()).isNotEqualTo(tta.draw(a, 16, 16, 16, 1).matrix());
        assertThat(tta.draw(a, 16, 16, 16, 0).matrix()).isNotEqualTo(tta.draw(b, 16, 16, 16, 0).matrix());
    }

    @Test
    void withoutTrainingTransformsTheViewsAreFlipsOnly() {
        Tta tta = Tta.fastai(null);
        assertThat(tta.transforms()).isEqualTo(Tta.FLIPS);
        byte[] image = new byte[8 * 8 * 3];
        int flips = 0;
        for (int i = 0; i < 200; i++) {
            image[0] = (byte) i;
            AugTransforms.Draw d = tta.draw(image, 8, 8, 8, 0);
            assertThat(d.lights()).isFalse();
            assertThat(Math.abs(d.matrix()[0])).isCloseTo(1.0, within(1e-12));
            flips += d.matrix()[0] < 0 ? 1 : 0;
        }
        assertThat(flips).isBetween(70, 130);
    }

    @Test
    void badSettingsAreRefused() {
        assertThatThrownBy(() -> new Tta(0, 0.25, AugTransforms.FASTAI)).isInstanceOf(TunaException.class)
                .hasMessageContaining("at least 1 pass");
    }
}
