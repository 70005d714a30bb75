package dev.tuna.learn;

/**
 * Stops a fit when the validation loss has not improved by at least {@code minDelta} for
 * {@code patience} epochs (fast.ai's {@code EarlyStoppingCallback} on {@code valid_loss}).
 */
public final class EarlyStopping implements Callback {
    private final int patience;
    private final double minDelta;
    private double best = Double.POSITIVE_INFINITY;
    private int waited;

    /**
     * Creates the callback.
     *
     * @param patience epochs without improvement before stopping (at least 1)
     * @param minDelta the smallest decrease that counts as an improvement
     */
    public EarlyStopping(int patience, double minDelta) {
        if (patience < 1) {
            throw dev.tuna.TunaException.usage("Early-stopping patience must be at least 1; found " + patience + ".");
        }
        this.patience = patience;
        this.minDelta = minDelta;
    }

    @Override
    public void onFitStart(Learner learner, Phase phase, int epochs, int batchesPerEpoch) {
        best = Double.POSITIVE_INFINITY;
        waited = 0;
    }

    @Override
    public void onEpochEnd(Learner learner, EpochRecord record) {
        if (record.validLoss() < best - minDelta) {
            best = record.validLoss();
            waited = 0;
        } else if (++waited >= patience) {
            learner.stop();
        }
    }
}
