package dev.tuna.bench;

import dev.tuna.inference.BatchPredictor;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.ClassifierOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code predict <model> <folder> [rounds] [batch]}: images per second of {@code tuna predict --csv}'s
 * path ({@link BatchPredictor#writeCsv}: listing, parallel decoding, batched forward passes, the CSV
 * written) against one {@link Classifier#predict(java.nio.file.Path)} call per image, in one process on
 * the same model and files. The two alternate, first one then the other, so that the load of a shared
 * machine weighs on both alike; the ratio is the figure to compare across machines.
 */
final class PredictBench {
    private PredictBench() {}

    static void run(String[] args) {
        Path model = Path.of(args[1]);
        Path folder = Path.of(args[2]);
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        int batch = args.length > 4 ? Integer.parseInt(args[4]) : ClassifierOptions.DEFAULTS.batchSize();
        System.out.println(Machine.cpu());
        try (Classifier classifier = Classifier.load(model, ClassifierOptions.DEFAULTS.withBatchSize(batch))) {
            List<Path> files = BatchPredictor.files(folder);
            BatchPredictor batched = BatchPredictor.of(classifier).topK(3);
            Path csv = Files.createTempFile("predict-bench", ".csv");
            System.out.printf(Locale.ROOT, "predict: %s on %s (%d files), batch size %d, %d cores%n", model, folder,
                    files.size(), batch, Runtime.getRuntime().availableProcessors());
            single(classifier, files.subList(0, Math.min(8, files.size()))); // warm-up: first shapes, JIT
            batched.writeCsv(folder, csv, true);
            List<Double> ratios = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                double one;
                double many;
                if (round % 2 == 1) {
                    one = single(classifier, files);
                    many = batched.writeCsv(folder, csv, true).seconds();
                } else {
                    many = batched.writeCsv(folder, csv, true).seconds();
                    one = single(classifier, files);
                }
                ratios.add(one / many);
                System.out.printf(Locale.ROOT, "round %d: single-image predict %.1f images/s, batched CSV %.1f images/s,"
                        + " ratio %.2fx%n", round, files.size() / one, files.size() / many, one / many);
            }
            ratios.sort(null);
            int mid = ratios.size() / 2;
            double median = ratios.size() % 2 == 1 ? ratios.get(mid) : (ratios.get(mid - 1) + ratios.get(mid)) / 2;
            System.out.printf(Locale.ROOT, "median ratio (batched / single): %.2fx%n", median);
            Files.deleteIfExists(csv);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Seconds for one {@code predict} call per file, in order (bad files are skipped, as a loop would). */
    private static double single(Classifier classifier, List<Path> files) {
        long start = System.nanoTime();
        for (Path file : files) {
            try {
                classifier.predict(file);
            } catch (dev.tuna.TunaException e) {
                // not an image: the batched path writes its row; here it costs only the attempt
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }
}
