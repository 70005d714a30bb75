package dev.tuna.bench;

import ai.djl.ndarray.NDManager;
import dev.tuna.inference.ArtifactMetadata;
import dev.tuna.inference.ModelArtifact;
import dev.tuna.internal.engine.Threads;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.model.LoadMode;
import dev.tuna.model.Network;
import dev.tuna.model.PretrainedWeights;
import dev.tuna.model.weights.WeightFiles;
import dev.tuna.serve.ModelSpec;
import dev.tuna.serve.PredictionServer;
import dev.tuna.serve.ServeOptions;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.ResizeMethod;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code bench/run serve [model.tuna] [clients] [requests]}: a bounded load test of {@code tuna serve} on
 * loopback, server and clients in this JVM. Closed-loop clients (each sends its next request when its
 * answer arrives) post the flowers test photos round-robin. Three runs: with dynamic batching (batches of
 * up to 8 within 5 ms), without ({@code --batch-size 1}), and an overload run (64 clients, a queue of 16,
 * 2 s timeout) that must answer 503/504 instead of queueing without bound, with the process's resident
 * memory sampled through it. Without a model, a MobileNetV2 at 192 px (the README's main job) is made from
 * the shared ImageNet body and a fresh head: the same network cost as a trained one.
 */
final class ServeBench {
    private ServeBench() {}

    /** One run's counts and latencies. */
    private record Result(String name, int requests, double seconds, long[] latencyNanos, Map<Integer, Integer> statuses,
            double meanBatch, long rssStartKb, long rssMaxKb, long rssEndKb) {
        long ok() {
            return statuses.getOrDefault(200, 0);
        }

        double percentileMs(double p) {
            long[] sorted = latencyNanos.clone();
            Arrays.sort(sorted);
            int i = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
            return sorted[Math.max(0, i)] / 1e6;
        }

        String line() {
            return String.format(Locale.ROOT, "%-28s %5d requests in %6.1f s = %6.1f req/s; p50 %7.1f ms, p99 %7.1f ms;"
                    + " statuses %s; mean batch %.2f; RSS start/max/end %d/%d/%d MiB", name, requests, seconds,
                    requests / seconds, percentileMs(0.50), percentileMs(0.99), statuses, meanBatch, rssStartKb / 1024,
                    rssMaxKb / 1024, rssEndKb / 1024);
        }
    }

    static void run(String[] args) {
        Path model = args.length > 1 ? Path.of(args[1]) : null;
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int requests = args.length > 3 ? Integer.parseInt(args[3]) : 2000;
        Threads.configure(Runtime.getRuntime().availableProcessors(), 1); // as tuna serve does
        try {
            Path temp = Files.createTempDirectory("tuna-serve-bench");
            if (model == null) {
                model = makeModel(temp.resolve("flowers.tuna"), 192);
            }
            List<byte[]> photos = photos();
            System.out.println(Machine.cpu());
            System.out.printf(Locale.ROOT, "serve load test: %s, %d photos, %d closed-loop clients, %d requests per run"
                    + " (+%d warm-up), server and clients in one JVM on %d cores%n", model, photos.size(), clients,
                    requests, 4 * clients, Runtime.getRuntime().availableProcessors());
            ServeOptions base = ServeOptions.DEFAULTS.withPort(0);
            List<Result> results = new ArrayList<>();
            results.add(load("batching (8 within 5 ms)", model, base, photos, clients, requests));
            results.add(load("no batching (--batch-size 1)", model, base.withBatching(1, Duration.ZERO), photos, clients,
                    requests));
            ServeOptions overload = base.withQueueSize(16).withLimits(16L << 20, Duration.ofSeconds(2), 100_000_000L);
            results.add(load("overload 1 (64 clients, q 16)", model, overload, photos, 64, 2 * requests));
            results.add(load("overload 2 (64 clients, q 16)", model, overload, photos, 64, 2 * requests));
            System.out.println();
            for (Result r : results) {
                System.out.println(r.line());
            }
            Result batched = results.get(0);
            Result single = results.get(1);
            System.out.printf(Locale.ROOT, "batching / no batching: throughput x%.2f, p50 x%.2f, p99 x%.2f%n",
                    (batched.requests() / batched.seconds()) / (single.requests() / single.seconds()),
                    batched.percentileMs(0.5) / single.percentileMs(0.5),
                    batched.percentileMs(0.99) / single.percentileMs(0.99));
            boolean clean = batched.ok() == batched.requests() && single.ok() == single.requests();
            System.out.println(clean ? "zero errors in the two measured runs" : "ERRORS in a measured run");
            if (!clean) {
                System.exit(3);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Result load(String name, Path model, ServeOptions options, List<byte[]> photos, int clients,
            int requests) {
        try (PredictionServer server = PredictionServer.start(List.of(new ModelSpec("flowers", model)), options)) {
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/predictions/flowers");
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build();
            drive(http, uri, photos, clients, 4 * clients, new long[4 * clients], new ConcurrentHashMap<>());
            String before = get(http, server.port(), "/metrics");
            System.gc();
            AtomicLong rssMax = new AtomicLong(rss());
            long rssStart = rssMax.get();
            Thread sampler = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    rssMax.accumulateAndGet(rss(), Math::max);
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            sampler.setDaemon(true);
            sampler.start();
            long[] latencies = new long[requests];
            Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
            long start = System.nanoTime();
            drive(http, uri, photos, clients, requests, latencies, statuses);
            double seconds = (System.nanoTime() - start) / 1e9;
            sampler.interrupt();
            String after = get(http, server.port(), "/metrics");
            double batches = metric(after, "tuna_serve_batch_size_count") - metric(before, "tuna_serve_batch_size_count");
            double images = metric(after, "tuna_serve_batch_size_sum") - metric(before, "tuna_serve_batch_size_sum");
            Result result = new Result(name, requests, seconds, latencies, new TreeMap<>(statuses),
                    batches > 0 ? images / batches : 0, rssStart, rssMax.get(), rss());
            System.out.println(result.line());
            return result;
        }
    }

    /** {@code clients} threads send {@code total} requests between them, each waiting for its answer. */
    private static void drive(HttpClient http, URI uri, List<byte[]> photos, int clients, int total, long[] latencies,
            Map<Integer, Integer> statuses) {
        AtomicInteger next = new AtomicInteger();
        LongAdder failures = new LongAdder();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            Thread thread = new Thread(() -> {
                int i;
                while ((i = next.getAndIncrement()) < total) {
                    HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(photos.get(i % photos.size()))).build();
                    long t = System.nanoTime();
                    int status;
                    try {
                        status = http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
                    } catch (IOException e) {
                        status = -1; // connection failure
                        failures.increment();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    latencies[i] = System.nanoTime() - t;
                    statuses.merge(status, 1, Integer::sum);
                }
            }, "client-" + c);
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static String get(HttpClient http, int port, String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private static double metric(String text, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{[^}]*\\} ([0-9.eE+-]+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** Resident memory of this process in KiB (0 where /proc is missing). */
    private static long rss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    private static List<byte[]> photos() throws IOException {
        Path root = Path.of("../shared/datasets/flowers-test");
        if (!Files.isDirectory(root)) {
            throw new IllegalStateException("needs ../shared/datasets/flowers-test (run from the repository root)");
        }
        List<byte[]> photos = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".jpg")).sorted().toList()) {
                photos.add(Files.readAllBytes(file));
            }
        }
        return photos;
    }

    /** MobileNetV2 with the shared ImageNet body and a fresh 5-class head, exported without training. */
    private static Path makeModel(Path dir, int size) {
        Path weights = Path.of("../shared/pretrained/mobilenet_v2", PretrainedWeights.MOBILENET_V2_TFLITE.fileName());
        List<String> classes = List.of("daisy", "dandelion", "rose", "sunflower", "tulip");
        try (NDManager manager = NDManager.newBaseManager();
             Network network = Network.transfer(Architecture.MOBILENET_V2, HeadSpec.DEFAULT, classes.size(), true,
                     manager, 42)) {
            network.load(WeightFiles.read(weights), LoadMode.BODY);
            ModelArtifact.write(dir, network, ArtifactMetadata.of(Architecture.MOBILENET_V2, classes, size,
                    ResizeMethod.SQUISH, PadMode.REFLECTION, PretrainedWeights.MOBILENET_V2_TFLITE.normalization(),
                    true, HeadSpec.DEFAULT, 42, null), false);
        }
        return dir;
    }
}
