package dev.tuna.bench;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.tuna.ProgressListener;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.data.Splitter;
import dev.tuna.inference.Predictions;
import dev.tuna.internal.engine.ProcessMemory;
import dev.tuna.learn.EpochRecord;
import dev.tuna.learn.FreezeMode;
import dev.tuna.learn.Learner;
import dev.tuna.model.Architecture;
import dev.tuna.model.PretrainedWeights;
import dev.tuna.model.WeightCatalog;
import dev.tuna.transform.ResizeMethod;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The full fine-tuning job of issue "3 of 6", timed phase by phase through the library:
 * {@code full <data> <test> [arch] [size] [epochs] [train-bn|frozen-bn] [json]}. Prints a table of
 * decode, model preparation, frozen epoch, unfrozen epochs, validation and test, with images/s,
 * resident memory after each epoch, peak RSS, total wall time and test accuracy; writes the same as
 * JSON. {@code bench/compare} runs it back to back with the PyTorch yardstick.
 */
final class FullBench {
    private FullBench() {}

    static void run(String[] args) {
        long start = System.nanoTime();
        Path folder = Path.of(args.length > 1 ? args[1] : "../shared/datasets/flowers");
        Path test = Path.of(args.length > 2 ? args[2] : "../shared/datasets/flowers-test");
        Architecture arch = Architecture.parse(args.length > 3 ? args[3] : "mobilenet_v2");
        int size = args.length > 4 ? Integer.parseInt(args[4]) : 192;
        int epochs = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        FreezeMode mode = FreezeMode.parse(args.length > 6 ? args[6] : "train-bn");
        Path json = args.length > 7 ? Path.of(args[7]) : null;
        WeightCatalog catalog = WeightCatalog.standard(ProgressListener.NONE);
        // the architecture's first catalogue weights on disk (with TUNA_HOME=../shared: MobileNetV2's TFLite)
        PretrainedWeights weights = catalog.preferred(arch);
        System.out.println(Machine.cpu());
        System.out.printf(Locale.ROOT, "full run: %s, %s (%s), %d px squish, fineTune(%d), freeze %s, %d cores%n",
                folder, arch.id(), weights.name(), size, epochs, mode.id(), Runtime.getRuntime().availableProcessors());
        JsonObject out = new JsonObject();
        out.addProperty("tool", "tuna (bench/run full)");
        out.addProperty("arch", arch.id());
        out.addProperty("size", size);
        out.addProperty("epochs", epochs);
        out.addProperty("freezeMode", mode.id());
        long t = System.nanoTime();
        try (DataLoaders data = ImageFolder.from(folder).split(Splitter.random(0.2, 42))
                .resize(size, ResizeMethod.SQUISH).normalize(weights.normalization()).batchSize(64)
                .progress(ProgressListener.NONE).dataloaders()) {
            double decode = seconds(t);
            int images = data.train().size() + data.valid().size();
            row("decode + cache", decode, images);
            out.addProperty("decode_s", decode);
            out.addProperty("n_train", data.train().size());
            out.addProperty("n_valid", data.valid().size());
            t = System.nanoTime();
            try (Learner learner = Learner.builder(data).weights(weights).freezeMode(mode)
                    .catalog(catalog).console(System.out, false).build()) {
                double prepare = seconds(t);
                row("model (load, BN recalibration)", prepare, 0);
                out.addProperty("model_s", prepare);
                t = System.nanoTime();
                learner.fineTune(epochs);
                double train = seconds(t);
                out.addProperty("fine_tune_s", train);
                JsonArray rows = new JsonArray();
                for (EpochRecord r : learner.history()) {
                    double trainSeconds = r.seconds() - r.validSeconds();
                    row(r.phase() + " epoch " + r.epoch() + " (train)", trainSeconds, data.train().batchCount() * 64);
                    row(r.phase() + " epoch " + r.epoch() + " (valid)", r.validSeconds(), data.valid().size());
                    System.out.printf(Locale.ROOT, "%-34s RSS %.2f GB, valid error %.4f%n", "", r.residentBytes() / 1e9,
                            r.errorRate());
                    JsonObject row = new JsonObject();
                    row.addProperty("phase", r.phase().id());
                    row.addProperty("epoch", r.epoch());
                    row.addProperty("train_loss", r.trainLoss());
                    row.addProperty("valid_loss", r.validLoss());
                    row.addProperty("error_rate", r.errorRate());
                    row.addProperty("time_s", r.seconds());
                    row.addProperty("train_s", trainSeconds);
                    row.addProperty("valid_s", r.validSeconds());
                    row.addProperty("rss_bytes", r.residentBytes());
                    rows.add(row);
                }
                out.add("epochs_table", rows);
                List<EpochRecord> history = learner.history();
                EpochRecord last = history.get(history.size() - 1);
                out.addProperty("final_valid_error", last.errorRate());
                if (history.size() >= 3) {
                    long second = history.get(1).residentBytes();
                    double growth = (double) last.residentBytes() / second - 1;
                    out.addProperty("rss_growth_epoch2_to_last", growth);
                    System.out.printf(Locale.ROOT, "RSS growth from epoch 2 to the last: %+.1f%%%n", 100 * growth);
                }
                t = System.nanoTime();
                Predictions predictions = learner.evaluate(test);
                double testSeconds = seconds(t);
                row("test (decode + inference)", testSeconds, predictions.total());
                System.out.println(predictions.accuracyLine("Test"));
                out.addProperty("test_s", testSeconds);
                out.addProperty("test_accuracy", predictions.accuracy());
                out.addProperty("test_correct", predictions.correct());
                out.addProperty("test_n", predictions.total());
            }
        }
        double total = seconds(start);
        long peak = ProcessMemory.peakResidentBytes();
        System.out.printf(Locale.ROOT, "peak RSS %.2f GB; total in-JVM wall %.1f s%n", peak / 1e9, total);
        out.addProperty("peak_rss_bytes", peak);
        out.addProperty("total_in_jvm_s", total);
        if (json != null) {
            try {
                Files.createDirectories(json.toAbsolutePath().getParent());
                Files.writeString(json, new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
                        .create().toJson(out));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static void row(String what, double seconds, int images) {
        if (images > 0) {
            System.out.printf(Locale.ROOT, "%-34s %7.1f s  %7.1f img/s%n", what, seconds, images / seconds);
        } else {
            System.out.printf(Locale.ROOT, "%-34s %7.1f s%n", what, seconds);
        }
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
