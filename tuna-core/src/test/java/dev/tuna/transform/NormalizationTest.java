package dev.tuna.transform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class NormalizationTest {
    @Test
    void imagenetStatistics() {
        Normalization n = Normalization.IMAGENET;
        assertThat(n.apply(0, 0)).isCloseTo(-0.485f / 0.229f, within(1e-6f));
        assertThat(n.apply(255, 2)).isCloseTo((1 - 0.406f) / 0.225f, within(1e-6f));
        assertThat(n.apply(128, 1)).isCloseTo((128 / 255f - 0.456f) / 0.224f, within(1e-6f));
    }

    @Test
    void minusOneToOneIsXOver127Point5MinusOne() {
        Normalization n = Normalization.MINUS_ONE_TO_ONE;
        for (int v : new int[] {0, 1, 127, 128, 200, 255}) {
            assertThat(n.apply(v, 1)).isCloseTo(v / 127.5f - 1, within(1e-6f));
        }
    }

    @Test
    void lookupTableMatchesApply() {
        float[][] table = Normalization.IMAGENET.lookupTable();
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                assertThat(table[c][v]).isEqualTo(Normalization.IMAGENET.apply(v, c));
            }
        }
    }

    @Test
    void rejectsBadStatistics() {
        assertThatThrownBy(() -> new Normalization(new float[] {0, 0}, new float[] {1, 1}))
                .hasMessageContaining("3 channels");
        assertThatThrownBy(() -> new Normalization(new float[] {0, 0, 0}, new float[] {1, 0, 1}))
                .hasMessageContaining("std must be positive");
    }
}
