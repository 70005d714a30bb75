package dev.tuna.learn;


/**
 * The result of {@link Learner#lrFind()}: the smoothed loss for each learning rate tried, and fast.ai's
 * "valley" suggestion (the report package draws it).
 *
 * @param learningRates the rates, increasing exponentially
 * @param losses the smoothed training loss after the step at each rate
 * @param suggestion the suggested learning rate (valley)
 */
public record LrFind(double[] learningRates, double[] losses, double suggestion) {
    /**
     * fast.ai's {@code valley}: ignoring the first 10% and the last 5 points, find the longest run
     * of decreasing losses (a longest decreasing subsequence) and take the point about halfway
     * down it (start + section + section/2, with section a third of its length).
     *
     * @param lrs the learning rates
     * @param losses the smoothed losses
     * @param iterations the planned number of iterations
     * @return the suggested learning rate
     */
    static double valley(double[] lrs, double[] losses, int iterations) {
        int from = iterations / 10;
        int to = losses.length - 5;
        if (to - from < 2) {
            from = 0;
            to = losses.length;
        }
        int n = to - from;
        int[] longest = new int[n];
        int maxStart = 0;
        int maxEnd = 0;
        java.util.Arrays.fill(longest, 1);
        for (int i = 1; i < n; i++) {
            for (int j = 0; j < i; j++) {
                if (losses[from + i] < losses[from + j] && longest[i] < longest[j] + 1) {
                    longest[i] = longest[j] + 1;
                }
            }
            if (longest[maxEnd] < longest[i]) {
                maxEnd = i;
                maxStart = maxEnd - longest[maxEnd];
            }
        }
        double sections = (maxEnd - maxStart) / 3.0;
        int index = maxStart + (int) sections + (int) (sections / 2);
        index = Math.max(0, Math.min(n - 1, index));
        return lrs[from + index];
    }
}
