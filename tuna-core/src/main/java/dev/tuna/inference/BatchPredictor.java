package dev.tuna.inference;

import dev.tuna.ProgressListener;
import dev.tuna.TunaException;
import dev.tuna.internal.io.AtomicFiles;
import java.io.IOException;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Predicts every file of a folder with a {@link Classifier}, batch by batch, and writes the results as
 * CSV: the library side of {@code tuna predict <model> <folder> --csv out.csv}. A file that cannot be
 * classified (not an image, empty, truncated, unreadable) is a row with the reason, never a failure.
 *
 * <pre>{@code
 * try (Classifier classifier = Classifier.load(Path.of("flowers.tuna"), ClassifierOptions.DEFAULTS.withBatchSize(32))) {
 *     BatchPredictor.Summary s = BatchPredictor.of(classifier).topK(3)
 *             .writeCsv(Path.of("photos"), Path.of("predictions.csv"), false);
 *     System.out.println(s.files() + " files, " + s.errors() + " errors");
 * }
 * }</pre>
 *
 * <p>The CSV has the header {@link #CSV_HEADER}: {@code path} relative to the folder (with {@code /}),
 * {@code label} and {@code probability} (6 decimals), {@code top_k} as {@code label:probability}
 * pairs joined by {@code ;}, most probable first, and {@code error}, empty for a classified file (the
 * other three are empty for one that was not). Quoting follows RFC 4180; lines end with {@code \n}.
 * Immutable; the {@code with}-style methods return copies.
 */
public final class BatchPredictor {
    /** The CSV columns, in order. */
    public static final List<String> CSV_HEADER = List.of("path", "label", "probability", "top_k", "error");

    private static final Logger LOG = LoggerFactory.getLogger(BatchPredictor.class);

    private final Classifier classifier;
    private final int topK;
    private final boolean tta;
    private final ProgressListener progress;

    private BatchPredictor(Classifier classifier, int topK, boolean tta, ProgressListener progress) {
        this.classifier = classifier;
        this.topK = topK;
        this.tta = tta;
        this.progress = progress;
    }

    /**
     * How a run went.
     *
     * @param files the files predicted (rows written)
     * @param errors how many of them could not be classified
     * @param seconds the wall time, listing the folder included
     */
    public record Summary(int files, int errors, double seconds) {
        /**
         * Returns the throughput.
         *
         * @return files per second (0 when no time passed)
         */
        public double filesPerSecond() {
            return seconds > 0 ? files / seconds : 0;
        }
    }

    /**
     * A predictor over a classifier: top-1 only, no test-time augmentation, no progress. Batches are
     * the classifier's {@link ClassifierOptions#batchSize()}.
     *
     * @param classifier the model (not closed by the predictor)
     * @return the predictor
     */
    public static BatchPredictor of(Classifier classifier) {
        return new BatchPredictor(Objects.requireNonNull(classifier, "classifier"), 1, false, ProgressListener.NONE);
    }

    /**
     * Returns a copy that lists the {@code k} most probable classes in the {@code top_k} column.
     *
     * @param k at least 1; more than the model's classes lists them all
     * @return the predictor
     * @throws TunaException ({@link TunaException.Kind#USAGE}) when {@code k} is less than 1
     */
    public BatchPredictor topK(int k) {
        if (k < 1) {
            throw TunaException.usage("The top-k count must be at least 1; found " + k + ".");
        }
        return new BatchPredictor(classifier, k, tta, progress);
    }

    /**
     * Returns a copy that predicts with the model's test-time augmentation ({@link Classifier#tta()}).
     *
     * @param enabled whether to blend in augmented views
     * @return the predictor
     */
    public BatchPredictor tta(boolean enabled) {
        return new BatchPredictor(classifier, topK, enabled, progress);
    }

    /**
     * Returns a copy that reports {@code "predict"} progress in files.
     *
     * @param listener the listener
     * @return the predictor
     */
    public BatchPredictor progress(ProgressListener listener) {
        return new BatchPredictor(classifier, topK, tta, Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Lists the files of a folder to predict: every file at any depth (symbolic links followed, loops
     * not), whatever its name or content, except hidden files, hidden folders and {@code __MACOSX}
     * folders; sorted by path relative to the folder, so the order is the same on every run.
     *
     * @param folder the folder
     * @return the files
     * @throws TunaException ({@link TunaException.Kind#BAD_DATA}) when the folder is missing, not a
     *     folder or cannot be listed
     */
    public static List<Path> files(Path folder) {
        if (!Files.isDirectory(folder)) {
            throw TunaException.badData((Files.exists(folder) ? "Not a folder: " : "Folder not found: ") + folder
                    + ". Pass a folder of images.");
        }
        Path base = folder.toAbsolutePath().normalize();
        List<Path> files = new ArrayList<>();
        try {
            Files.walkFileTree(base, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE,
                    new SimpleFileVisitor<>() {
                        @Override
                        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                            String name = dir.equals(base) ? "" : dir.getFileName().toString();
                            return name.startsWith(".") || name.equals("__MACOSX") ? FileVisitResult.SKIP_SUBTREE
                                    : FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                            if (!file.getFileName().toString().startsWith(".")) {
                                files.add(file); // broken links and pipes too: their row says what they are
                            }
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFileFailed(Path file, IOException e) {
                            if (e instanceof FileSystemLoopException) {
                                LOG.debug("skipping {}: symbolic link loop", file);
                            } else {
                                files.add(file); // its row gives the reason it cannot be read
                            }
                            return FileVisitResult.CONTINUE;
                        }
                    });
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.BAD_DATA, "Cannot list the folder " + folder + ": "
                    + e.getMessage() + ". Check that it is readable.", e);
        }
        files.sort(Comparator.comparing(f -> relative(base, f)));
        return files;
    }

    /**
     * Predicts every file of {@link #files(Path) the folder}, handing each result to {@code sink} in
     * file order as soon as its batch is done.
     *
     * @param folder the folder
     * @param sink receives one result per file
     * @return the counts and time
     * @throws TunaException ({@link TunaException.Kind#BAD_DATA}) when the folder cannot be listed
     */
    public Summary predict(Path folder, Consumer<FilePrediction> sink) {
        long start = System.nanoTime();
        List<Path> files = files(folder);
        int batch = classifier.options().batchSize();
        int errors = 0;
        progress.update("predict", 0, files.size());
        for (int from = 0; from < files.size(); from += batch) {
            int to = Math.min(files.size(), from + batch);
            for (FilePrediction result : classifier.predictEach(files.subList(from, to), tta)) {
                if (!result.ok()) {
                    errors++;
                    LOG.debug("cannot classify {}: {}", result.file(), result.error());
                }
                sink.accept(result);
            }
            progress.update("predict", to, files.size());
        }
        Summary summary = new Summary(files.size(), errors, (System.nanoTime() - start) / 1e9);
        LOG.info("predicted {} files under {} ({} errors) in {} s", summary.files(), folder, summary.errors(),
                String.format(Locale.ROOT, "%.1f", summary.seconds()));
        return summary;
    }

    /**
     * Predicts every file of the folder into a CSV file ({@link #CSV_HEADER}), written atomically: the
     * rows go to a hidden temporary sibling, which is forced to disk and renamed into place, so
     * {@code csv} never holds a partial result.
     *
     * @param folder the folder
     * @param csv the CSV file to write (its folder must exist)
     * @param overwrite whether an existing {@code csv} is replaced
     * @return the counts and time
     * @throws TunaException ({@link TunaException.Kind#USAGE}) when {@code csv} exists and
     *     {@code overwrite} is false; ({@link TunaException.Kind#BAD_DATA}) when the folder cannot be
     *     listed; ({@link TunaException.Kind#RUNTIME}) when the file cannot be written
     */
    public Summary writeCsv(Path folder, Path csv, boolean overwrite) {
        Path base = folder.toAbsolutePath().normalize();
        Summary[] summary = new Summary[1];
        try {
            AtomicFiles.write(csv, channel -> {
                Writer writer = Channels.newWriter(channel, StandardCharsets.UTF_8);
                CSVPrinter printer = new CSVPrinter(writer, CSVFormat.RFC4180.builder().setRecordSeparator('\n')
                        .setHeader(CSV_HEADER.toArray(String[]::new)).get());
                IOException[] failure = new IOException[1];
                summary[0] = predict(folder, result -> {
                    if (failure[0] == null) {
                        try {
                            printer.printRecord(row(relative(base, result.file()), result, topK));
                        } catch (IOException e) {
                            failure[0] = e;
                        }
                    }
                });
                if (failure[0] != null) {
                    throw failure[0];
                }
                printer.flush(); // not closed: the channel is closed and renamed by AtomicFiles
            }, overwrite);
        } catch (FileAlreadyExistsException e) {
            throw TunaException.usage("The file " + csv + " already exists; choose another name or allow"
                    + " overwriting it (--force).");
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "Cannot write " + csv + " (" + e
                    + "); check that its folder exists, is writable and has free space.", e);
        }
        return summary[0];
    }

    /**
     * One CSV row: path, label, probability, top-k and error, as in {@link #CSV_HEADER}.
     *
     * @param path the path to write
     * @param result the result
     * @param k how many classes in {@code top_k}
     * @return the five values
     */
    static List<String> row(String path, FilePrediction result, int k) {
        if (!result.ok()) {
            return List.of(path, "", "", "", result.error());
        }
        Prediction p = result.prediction();
        StringBuilder top = new StringBuilder();
        for (Prediction.Candidate c : p.top(k)) {
            top.append(top.isEmpty() ? "" : ";").append(c.label()).append(':').append(format(c.probability()));
        }
        return List.of(path, p.label(), format(p.probability()), top.toString(), "");
    }

    private static String format(float probability) {
        return String.format(Locale.ROOT, "%.6f", probability);
    }

    /** A file's path relative to the folder, with {@code /} between names on every platform. */
    private static String relative(Path base, Path file) {
        return base.relativize(file.toAbsolutePath().normalize()).toString()
                .replace(file.getFileSystem().getSeparator(), "/");
    }
}
