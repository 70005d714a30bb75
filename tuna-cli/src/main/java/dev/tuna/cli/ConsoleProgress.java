package dev.tuna.cli;

import dev.tuna.ProgressListener;
import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar on the terminal: redrawn in place when stderr is a terminal, otherwise one line
 * when a task completes.
 */
final class ConsoleProgress implements ProgressListener {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final boolean terminal;
    private String task; // the run being drawn: a new task, or the same one starting over, restarts the clock
    private long start;
    private long startDone;
    private long lastDone;
    private long lastDraw;

    ConsoleProgress(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    static ConsoleProgress stderr() {
        return new ConsoleProgress(System.err, System.console() != null);
    }

    @Override
    public synchronized void update(String name, long done, long total) {
        long now = System.nanoTime();
        if (!name.equals(task) || done < lastDone || lastDone >= total) { // e.g. decoding again at a new size
            task = name;
            start = now;
            startDone = done; // the clock starts at the first report: the items before it are not timed
        }
        lastDone = done;
        boolean finished = done >= total;
        if (!finished && now - lastDraw < 200_000_000L) {
            return;
        }
        lastDraw = now;
        double seconds = (now - start) / 1e9;
        double rate = seconds > 0 ? (done - startDone) / seconds : 0;
        if (terminal) {
            int filled = total > 0 ? (int) (WIDTH * done / total) : WIDTH;
            double eta = rate > 0 ? (total - done) / rate : 0;
            out.printf(Locale.ROOT, "\r%-8s [%s%s] %d/%d  %.0f/s  ETA %s ", name, "#".repeat(filled),
                    ".".repeat(WIDTH - filled), done, total, rate, clock(eta));
            if (finished) {
                out.println();
            }
        } else if (finished) {
            out.printf(Locale.ROOT, "%s: %d/%d in %s (%.0f/s)%n", name, done, total, clock(seconds), rate);
        }
        out.flush();
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }
}
