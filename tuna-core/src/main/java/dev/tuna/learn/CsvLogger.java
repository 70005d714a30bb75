package dev.tuna.learn;

import dev.tuna.TunaException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/** Appends one CSV row per epoch: {@code phase,epoch,train_loss,valid_loss,error_rate,seconds} (fast.ai's {@code CSVLogger}). */
public final class CsvLogger implements Callback {
    private static final String HEADER = "phase,epoch,train_loss,valid_loss,error_rate,seconds\n";
    private final Path file;

    /**
     * Creates the logger; the header is written when the file is new or empty.
     *
     * @param file the CSV file
     */
    public CsvLogger(Path file) {
        this.file = file;
    }

    @Override
    public void onEpochEnd(Learner learner, EpochRecord r) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            boolean fresh = !Files.exists(file) || Files.size(file) == 0;
            String row = String.format(Locale.ROOT, "%s%s,%d,%.6f,%.6f,%.6f,%.1f%n", fresh ? HEADER : "", r.phase(),
                    r.epoch(), r.trainLoss(), r.validLoss(), r.errorRate(), r.seconds());
            Files.writeString(file, row, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "Cannot write the training log " + file + ": "
                    + e.getMessage(), e);
        }
    }
}
