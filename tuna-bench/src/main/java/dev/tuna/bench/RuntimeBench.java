package dev.tuna.bench;

import ai.djl.ndarray.NDManager;
import dev.tuna.ProgressListener;
import dev.tuna.inference.ArtifactMetadata;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.ClassifierOptions;
import dev.tuna.inference.ModelArtifact;
import dev.tuna.inference.ModelRuntime;
import dev.tuna.inference.OnnxExport;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.model.LoadMode;
import dev.tuna.model.Network;
import dev.tuna.model.PretrainedWeights;
import dev.tuna.model.WeightCatalog;
import dev.tuna.model.weights.WeightFiles;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.ResizeMethod;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * {@code runtimes <model.tuna|arch> [images] [size] [rounds]}: the same model on libtorch and on ONNX
 * Runtime (exported to a temporary {@code .onnx} file), on the same photos: latency of
 * {@code predict(path)} (batch 1; median and 90th percentile) and throughput of
 * {@code predictBatch} with batches of 32 (images/s), end to end (decode, resize, normalise, network).
 * The two runtimes alternate round by round, so that load from other processes on a shared machine
 * falls on both alike. Given an architecture instead of a model folder, it builds one with the
 * catalogue's weights found under {@code $TUNA_HOME} (random ones otherwise) and a random head.
 */
final class RuntimeBench {
    private static final int BATCH = 32;

    private RuntimeBench() {}

    static void run(String[] args) {
        String modelArg = args.length > 1 ? args[1] : "mobilenet_v2";
        Path images = Path.of(args.length > 2 ? args[2] : "../shared/datasets/flowers-test");
        int size = args.length > 3 ? Integer.parseInt(args[3]) : 224;
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        try {
            Path temp = Files.createTempDirectory("tuna-runtimes");
            Path model = Files.isDirectory(Path.of(modelArg)) ? Path.of(modelArg) : build(modelArg, size, temp);
            Path onnx = temp.resolve("model.onnx");
            OnnxExport.write(ModelArtifact.read(model), onnx);
            List<Path> photos = photos(images);
            System.out.println(Machine.cpu());
            ArtifactMetadata meta = ModelArtifact.read(model).metadata();
            System.out.printf(Locale.ROOT, "runtimes: %s, %d px, %d photos from %s, %d rounds; ONNX file %.1f MB%n",
                    meta.architecture().id(), meta.inputSize(), photos.size(), images, rounds, Files.size(onnx) / 1e6);
            ClassifierOptions options = ClassifierOptions.DEFAULTS.withBatchSize(BATCH);
            try (Classifier torch = Classifier.load(model, options);
                    Classifier ort = Classifier.load(onnx, options)) {
                Classifier[] runtimes = {torch, ort};
                List<List<Double>> latencies = List.of(new ArrayList<>(), new ArrayList<>());
                List<List<Double>> throughputs = List.of(new ArrayList<>(), new ArrayList<>());
                for (Classifier c : runtimes) { // warm-up: first shapes, thread pools, caches
                    c.predictBatch(photos.subList(0, BATCH));
                    c.predict(photos.get(0));
                }
                for (int round = 1; round <= rounds; round++) {
                    for (int r = 0; r < runtimes.length; r++) {
                        Classifier c = runtimes[r];
                        for (Path photo : photos.subList(0, Math.min(photos.size(), 48))) {
                            long t = System.nanoTime();
                            c.predict(photo);
                            latencies.get(r).add((System.nanoTime() - t) / 1e6);
                        }
                        long t = System.nanoTime();
                        int n = 0;
                        for (int from = 0; from + BATCH <= photos.size(); from += BATCH) {
                            n += c.predictBatch(photos.subList(from, from + BATCH)).size();
                        }
                        double seconds = (System.nanoTime() - t) / 1e9;
                        throughputs.get(r).add(n / seconds);
                        System.out.printf(Locale.ROOT, "round %d %-12s batch 1 median %.1f ms; batch %d %.1f images/s%n",
                                round, c.runtime(), percentile(latencies.get(r), 0.5), BATCH, n / seconds);
                    }
                }
                System.out.printf(Locale.ROOT, "%-12s %10s %10s %12s%n", "runtime", "median ms", "p90 ms",
                        "images/s");
                for (int r = 0; r < runtimes.length; r++) {
                    System.out.printf(Locale.ROOT, "%-12s %10.1f %10.1f %12.1f%n", runtimes[r].runtime(),
                            percentile(latencies.get(r), 0.5), percentile(latencies.get(r), 0.9),
                            percentile(throughputs.get(r), 0.5));
                }
                System.out.printf(Locale.ROOT, "ONNX Runtime / libtorch: median latency x%.2f, throughput x%.2f%n",
                        percentile(latencies.get(1), 0.5) / percentile(latencies.get(0), 0.5),
                        percentile(throughputs.get(1), 0.5) / percentile(throughputs.get(0), 0.5));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A model folder for an architecture: catalogue weights when found, a random fast.ai head. */
    private static Path build(String arch, int size, Path temp) {
        Architecture architecture = Architecture.parse(arch);
        PretrainedWeights weights = WeightCatalog.at(tunaHome(), ProgressListener.NONE).preferred(architecture);
        Path file = WeightCatalog.at(tunaHome(), ProgressListener.NONE).resolveLocal(weights).orElse(null);
        boolean tfSame = file != null && weights.tfSamePadding();
        List<String> classes = List.of("daisy", "dandelion", "roses", "sunflowers", "tulips");
        ArtifactMetadata meta = ArtifactMetadata.of(architecture, classes, size, ResizeMethod.SQUISH,
                PadMode.REFLECTION, file != null ? weights.normalization() : architecture.normalization(), tfSame,
                HeadSpec.DEFAULT, 42, null);
        Path model = temp.resolve(arch + ".tuna");
        try (NDManager manager = NDManager.newBaseManager();
                Network network = Network.transfer(architecture, HeadSpec.DEFAULT, classes.size(), tfSame, manager,
                        42)) {
            if (file != null) {
                network.load(WeightFiles.read(file), LoadMode.BODY);
            }
            System.out.println("model: " + arch + (file != null ? " body from " + file : " with random weights")
                    + ", random head");
            ModelArtifact.write(model, network, meta, false);
        }
        return model;
    }

    private static Path tunaHome() {
        String home = System.getenv("TUNA_HOME");
        return home != null ? Path.of(home) : WeightCatalog.defaultHome();
    }

    private static List<Path> photos(Path folder) throws IOException {
        try (Stream<Path> files = Files.walk(folder)) {
            List<Path> out = files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(jpe?g|png)"))
                    .sorted().toList();
            if (out.size() < BATCH) {
                throw new IllegalArgumentException("need at least " + BATCH + " photos in " + folder + ", found "
                        + out.size());
            }
            return out;
        }
    }

    private static double percentile(List<Double> values, double q) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }
}
