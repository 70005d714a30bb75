package dev.tuna.learn;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Prints fast.ai's training table — {@code epoch train_loss valid_loss error_rate time} — one row per
 * epoch, with a progress bar (batches, images/s, ETA) redrawn in place during each epoch when the
 * output is a terminal.
 */
public final class ConsoleReporter implements Callback {
    private static final int BAR = 30;
    private final PrintStream out;
    private final boolean terminal;
    private long lastDraw;

    /**
     * Creates the reporter.
     *
     * @param out where to print
     * @param terminal whether to draw a progress bar in place
     */
    public ConsoleReporter(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    @Override
    public void onFitStart(Learner learner, Phase phase, int epochs, int batchesPerEpoch) {
        out.printf(Locale.ROOT, "%-6s %-10s %-10s %-10s %-6s  (%s, %d batches/epoch)%n", "epoch", "train_loss",
                "valid_loss", "error_rate", "time", phase, batchesPerEpoch);
        out.flush();
    }

    @Override
    public void onBatchEnd(Learner learner, int batch, int batches, BatchRecord record, double imagesPerSecond) {
        if (!terminal) {
            return;
        }
        long now = System.nanoTime();
        if (batch + 1 < batches && now - lastDraw < 250_000_000L) {
            return;
        }
        lastDraw = now;
        int filled = BAR * (batch + 1) / batches;
        double eta = imagesPerSecond > 0 ? (batches - batch - 1) * (double) learner.data().train().batchSize()
                / imagesPerSecond : 0;
        out.printf(Locale.ROOT, "\r[%s%s] %d/%d  %.1f img/s  ETA %s  loss %.4f ", "#".repeat(filled),
                ".".repeat(BAR - filled), batch + 1, batches, imagesPerSecond, clock(eta), record.smoothLoss());
        out.flush();
    }

    @Override
    public void onEpochEnd(Learner learner, EpochRecord r) {
        if (terminal) {
            out.print("\r" + " ".repeat(BAR + 70) + "\r");
        }
        out.printf(Locale.ROOT, "%-6d %-10.6f %-10.6f %-10.6f %-6s  (%.1f img/s)%n", r.epoch(), r.trainLoss(),
                r.validLoss(), r.errorRate(), clock(r.seconds()), r.trainImagesPerSecond());
        out.flush();
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }
}
