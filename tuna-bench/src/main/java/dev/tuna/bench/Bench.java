package dev.tuna.bench;

import ai.djl.ndarray.NDManager;
import dev.tuna.data.Batch;
import dev.tuna.data.BatchIterator;
import dev.tuna.data.CacheMode;
import dev.tuna.data.DataLoaders;
import dev.tuna.data.ImageFolder;
import dev.tuna.data.Splitter;
import dev.tuna.transform.AugTransforms;
import dev.tuna.transform.ResizeMethod;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Benchmarks that are too slow for the test suite. Run through {@code bench/run <name> [args]}.
 *
 * <ul>
 *   <li>{@code data <folder> [size] [memory|disk] [fastai]}: cold decode+presize throughput (from the
 *       image files into the cache) and warm throughput (an epoch of batches from the cache, as arrays,
 *       with fast.ai's augmentations when {@code fastai} is given).
 *   <li>{@code model [arch,...] [batch,...] [size]}: inference, frozen-body training and full training
 *       throughput of the networks on random data.
 *   <li>{@code full <data> <test> [arch] [size] [epochs] [train-bn|frozen-bn] [json]}: the whole
 *       fine-tuning job, phase by phase (see {@code bench/compare} for the PyTorch comparison).
 *   <li>{@code kernels}: each of MobileNetV2's and ResNet-50's late 1×1 convolutions on the three
 *       routes Tuna has (libtorch's kernel, a matrix product, float64): error against float64 and
 *       time forward and forward+backward.
 *   <li>{@code serve [model.tuna] [clients] [requests]}: a bounded load test of the prediction server on
 *       loopback, with and without dynamic batching, and an overload run (see {@link ServeBench}).
 *   <li>{@code predict <model> <folder> [rounds] [batch]}: {@code tuna predict --csv}'s batched path
 *       against one single-image prediction per file, in images/s and as a ratio.
 *   <li>{@code test-size <model.tuna> <training folder> <sizes...>}: validation error and loss of a trained
 *       model at other input sizes (see {@link TestSizeBench}).
 *   <li>{@code runtimes [model.tuna|arch] [images] [size] [rounds]}: the same model on libtorch and on ONNX
 *       Runtime: batch-1 latency (median, p90) and batch-32 throughput, end to end.
 * </ul>
 */
public final class Bench {
    private Bench() {}

    /**
     * Entry point.
     *
     * @param args benchmark name and its arguments
     */
    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: bench data|model|full|kernels|serve|predict|test-size|runtimes [args...]");
            System.exit(1);
        }
        switch (args[0]) {
            case "data" -> data(args);
            case "model" -> ModelBench.run(args);
            case "full" -> FullBench.run(args);
            case "kernels" -> KernelBench.run(args);
            case "serve" -> ServeBench.run(args);
            case "predict" -> PredictBench.run(args);
            case "test-size" -> TestSizeBench.run(args);
            case "runtimes" -> RuntimeBench.run(args);
            default -> {
                System.err.println("unknown benchmark: " + args[0]);
                System.exit(1);
            }
        }
    }

    private static void data(String[] args) {
        Path folder = Path.of(args.length > 1 ? args[1] : "../shared/datasets/flowers");
        int size = args.length > 2 ? Integer.parseInt(args[2]) : 192;
        CacheMode mode = args.length > 3 ? CacheMode.valueOf(args[3].toUpperCase(Locale.ROOT)) : CacheMode.MEMORY;
        boolean augment = args.length > 4 && args[4].equals("fastai");
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.println(Machine.cpu());
        System.out.printf(Locale.ROOT, "data pipeline: %s, %d px squish, %d cores, cache %s, training augmentation %s%n",
                folder, size, cores, mode, augment ? "fast.ai aug_transforms" : "none");
        for (int round = 1; round <= 2; round++) {
            long start = System.nanoTime();
            try (DataLoaders data = ImageFolder.from(folder)
                    .split(Splitter.random(0.2, 42))
                    .resize(size, ResizeMethod.SQUISH)
                    .cache(mode, Path.of(System.getProperty("java.io.tmpdir")), -1)
                    .augment(augment ? AugTransforms.FASTAI : null)
                    .dataloaders();
                 NDManager manager = NDManager.newBaseManager()) {
                double cold = (System.nanoTime() - start) / 1e9;
                int images = data.train().size() + data.valid().size();
                System.out.printf(Locale.ROOT, "round %d cold: %d images in %.2f s = %.0f images/s (scan+decode+resize)%n",
                        round, images, cold, images / cold);
                for (int epoch = 0; epoch < 3; epoch++) {
                    long t = System.nanoTime();
                    int seen = 0;
                    double checksum = 0;
                    try (BatchIterator batches = data.train().iterate(manager, epoch)) {
                        while (batches.hasNext()) {
                            try (Batch batch = batches.next()) {
                                seen += batch.size();
                                checksum += batch.labels().sum().getLong();
                            }
                        }
                    }
                    double warm = (System.nanoTime() - t) / 1e9;
                    System.out.printf(Locale.ROOT, "round %d warm epoch %d: %d images in %.2f s = %.0f images/s"
                            + " (cache -> normalised float NCHW arrays; label sum %.0f)%n",
                            round, epoch, seen, warm, seen / warm, checksum);
                }
            }
        }
    }
}
