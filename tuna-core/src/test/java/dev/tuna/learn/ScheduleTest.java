package dev.tuna.learn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Schedules against fast.ai's formulas: SchedCos, combined_cos, fit_one_cycle and lr ranges. */
class ScheduleTest {
    @Test
    void cosineGoesFromStartToEndThroughTheMidpoint() {
        Schedule s = Schedule.cosine(2, 10);
        assertThat(s.at(0)).isCloseTo(2, within(1e-12));
        assertThat(s.at(0.5)).isCloseTo(6, within(1e-12));
        assertThat(s.at(1)).isCloseTo(10, within(1e-12));
        assertThat(s.at(0.25)).isCloseTo(2 + (1 + Math.cos(Math.PI * 0.75)) * 8 / 2, within(1e-12));
    }

    @Test
    void oneCycleLearningRateMatchesFastaiAtTheKeyPoints() {
        Schedule lr = OneCycle.DEFAULT.learningRate(1e-3);
        assertThat(lr.at(0)).isCloseTo(1e-3 / 25, within(1e-15));
        assertThat(lr.at(0.125)).isCloseTo(1e-3 / 25 + (1e-3 - 1e-3 / 25) / 2, within(1e-15));
        assertThat(lr.at(0.25)).isCloseTo(1e-3, within(1e-15));
        assertThat(lr.at(0.625)).isCloseTo(1e-3 + (1e-8 - 1e-3) / 2, within(1e-15));
        assertThat(lr.at(1)).isCloseTo(1e-8, within(1e-18));
    }

    @Test
    void oneCycleMomentumMirrorsTheLearningRate() {
        Schedule mom = OneCycle.DEFAULT.momentum();
        assertThat(mom.at(0)).isCloseTo(0.95, within(1e-12));
        assertThat(mom.at(0.25)).isCloseTo(0.85, within(1e-12));
        assertThat(mom.at(1)).isCloseTo(0.95, within(1e-12));
    }

    @Test
    void fineTuneFrozenPhaseWarmsUpAlmostAllTheWay() {
        Schedule lr = OneCycle.DEFAULT.withPctStart(0.99).learningRate(2e-3);
        assertThat(lr.at(0)).isCloseTo(2e-3 / 25, within(1e-15));
        assertThat(lr.at(0.99)).isCloseTo(2e-3, within(1e-15));
        Schedule unfrozen = OneCycle.DEFAULT.withPctStart(0.3).withDiv(5).learningRate(1e-3);
        assertThat(unfrozen.at(0)).isCloseTo(2e-4, within(1e-15));
        assertThat(unfrozen.at(0.3)).isCloseTo(1e-3, within(1e-15));
        assertThat(unfrozen.at(1)).isCloseTo(1e-8, within(1e-18));
    }

    @Test
    void sliceSpreadsRatesLikeFastai() {
        assertThat(LearningRates.slice(2e-3, 3)).containsExactly(2e-4, 2e-4, 2e-3);
        double[] spread = LearningRates.slice(1e-5, 1e-3, 3);
        assertThat(spread[0]).isCloseTo(1e-5, within(1e-18));
        assertThat(spread[1]).isCloseTo(1e-4, within(1e-17));
        assertThat(spread[2]).isCloseTo(1e-3, within(1e-16));
    }
}
