package dev.tuna.learn;

import dev.tuna.TunaException;
import java.util.Arrays;

/**
 * Peak learning rates per parameter group, as fast.ai derives them from a number or a slice.
 */
public final class LearningRates {
    private LearningRates() {}

    /**
     * fast.ai's {@code slice(lr)}: the last group gets {@code lr}, every other group {@code lr / 10}.
     *
     * @param lr the head's learning rate
     * @param groups the number of groups
     * @return one rate per group
     */
    public static double[] slice(double lr, int groups) {
        check(lr);
        double[] rates = new double[groups];
        Arrays.fill(rates, lr / 10);
        rates[groups - 1] = lr;
        return rates;
    }

    /**
     * fast.ai's {@code slice(start, stop)}: rates spaced geometrically from {@code start} (first group)
     * to {@code stop} (last group).
     *
     * @param start the first group's rate
     * @param stop the last group's rate
     * @param groups the number of groups
     * @return one rate per group
     */
    public static double[] slice(double start, double stop, int groups) {
        check(start);
        check(stop);
        double[] rates = new double[groups];
        for (int i = 0; i < groups; i++) {
            rates[i] = groups == 1 ? stop : start * Math.pow(stop / start, (double) i / (groups - 1));
        }
        return rates;
    }

    /**
     * The same rate for every group.
     *
     * @param lr the rate
     * @param groups the number of groups
     * @return one rate per group
     */
    public static double[] uniform(double lr, int groups) {
        check(lr);
        double[] rates = new double[groups];
        Arrays.fill(rates, lr);
        return rates;
    }

    private static void check(double lr) {
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw TunaException.usage("Learning rates must be positive numbers; found " + lr + ".");
        }
    }
}
