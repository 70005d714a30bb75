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
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code bench/run serve [model.tuna] [clients] [requests]}: a bounded load test of {@code tuna serve} on
 * loopback, server and clients in this JVM. Closed-loop clients (each sends its next request when its
 * answer arrives) post the flowers test photos round-robin. Two servers, with dynamic batching (batches
 * of up to 8 within 5 ms) and without ({@code --batch-size 1}), take alternating rounds, so that both see
 * the same background load of a shared machine; then three overload rounds (64 clients, a queue of 16,
 * 2 s timeout) on one server, which must answer 503/504 instead of queueing without bound, with the
 * process's resident memory and Java heap after each. Without a model, a MobileNetV2 at 192 px (the
 * README's main job) is made from the shared ImageNet body and a fresh head: the same network cost as a
 * trained one.
 */
final class ServeBench {
    private ServeBench() {}

    /** Counts and latencies of one configuration, over all its rounds. */
    private static final class Tally {
        final String name;
        final List<Long> latencies = new ArrayList<>();
        final Map<Integer, Integer> statuses = new TreeMap<>();
        double seconds;
        double images;
        double batches;
        double forwardSeconds;

        Tally(String name) {
            this.name = name;
        }

        int requests() {
            return latencies.size();
        }

        int ok() {
            return statuses.getOrDefault(200, 0);
        }

        double percentileMs(double p) {
            long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            int i = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
            return sorted[Math.max(0, i)] / 1e6;
        }

        double throughput() {
            return requests() / seconds;
        }

        String line() {
            return String.format(Locale.ROOT, "%-30s %5d requests in %6.1f s = %6.1f req/s; p50 %7.1f ms, p99 %7.1f ms;"
                    + " statuses %s; mean batch %.2f, forward pass %.1f ms per image", name, requests(), seconds,
                    throughput(), percentileMs(0.50), percentileMs(0.99), statuses, batches > 0 ? images / batches : 0,
                    images > 0 ? 1000 * forwardSeconds / images : 0);
        }
    }

    static void run(String[] args) {
        Path model = args.length > 1 ? Path.of(args[1]) : null;
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int requests = args.length > 3 ? Integer.parseInt(args[3]) : 2000;
        int rounds = 8;
        Threads.configure(Runtime.getRuntime().availableProcessors(), 1); // as tuna serve does
        try {
            Path temp = Files.createTempDirectory("tuna-serve-bench");
            if (model == null) {
                model = makeModel(temp.resolve("flowers.tuna"), 192);
            }
            List<byte[]> photos = photos();
            System.out.println(Machine.cpu());
            System.out.printf(Locale.ROOT, "serve load test: %s, %d photos, %d closed-loop clients, %d requests per"
                    + " configuration in %d alternating rounds, server and clients in one JVM on %d cores%n", model,
                    photos.size(), clients, requests, rounds, Runtime.getRuntime().availableProcessors());
            ServeOptions base = ServeOptions.DEFAULTS.withPort(0);
            Tally batched = new Tally("batching (8 within 5 ms)");
            Tally single = new Tally("no batching (--batch-size 1)");
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build();
            try (PredictionServer withBatching = PredictionServer.start(List.of(new ModelSpec("flowers", model)), base);
                 PredictionServer without = PredictionServer.start(List.of(new ModelSpec("flowers", model)),
                         base.withBatching(1, Duration.ZERO))) {
                for (PredictionServer server : List.of(withBatching, without)) { // JIT, connections
                    round(http, server, photos, clients, 4 * clients, new Tally("warm-up"));
                }
                // the machine is shared: alternate the two so that both see the same background load
                for (int r = 0; r < rounds; r++) {
                    int n = requests / rounds + (r < requests % rounds ? 1 : 0);
                    round(http, withBatching, photos, clients, n, batched);
                    round(http, without, photos, clients, n, single);
                    System.out.printf(Locale.ROOT, "round %d: batching %.1f req/s, no batching %.1f req/s so far%n",
                            r + 1, batched.throughput(), single.throughput());
                }
            }
            System.out.println(batched.line());
            System.out.println(single.line());
            System.out.printf(Locale.ROOT, "batching / no batching: throughput x%.2f, p50 x%.2f, p99 x%.2f%n",
                    batched.throughput() / single.throughput(), batched.percentileMs(0.5) / single.percentileMs(0.5),
                    batched.percentileMs(0.99) / single.percentileMs(0.99));
            boolean clean = batched.ok() == batched.requests() && single.ok() == single.requests();
            System.out.println(clean ? "zero errors in the two measured configurations" : "ERRORS in a measured run");

            ServeOptions overload = base.withQueueSize(16).withLimits(16L << 20, Duration.ofSeconds(2), 100_000_000L);
            try (PredictionServer server = PredictionServer.start(List.of(new ModelSpec("flowers", model)),
                    overload)) {
                for (int r = 1; r <= 3; r++) {
                    Tally tally = new Tally("overload round " + r + " (64 clients)");
                    round(http, server, photos, 64, requests, tally);
                    System.gc();
                    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
                    System.out.printf(Locale.ROOT, "%s; after it: RSS %d MiB, Java heap after GC %d MiB%n",
                            tally.line(), rss() / 1024, heap.getUsed() >> 20);
                }
            }
            if (!clean) {
                System.exit(3);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends {@code n} requests to the server's model and adds their results and batch sizes to the tally. */
    private static void round(HttpClient http, PredictionServer server, List<byte[]> photos, int clients, int n,
            Tally tally) {
        URI uri = URI.create("http://127.0.0.1:" + server.port() + "/predictions/flowers");
        String before = get(http, server.port(), "/metrics");
        long[] latencies = new long[n];
        Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        drive(http, uri, photos, clients, n, latencies, statuses);
        tally.seconds += (System.nanoTime() - start) / 1e9;
        String after = get(http, server.port(), "/metrics");
        tally.batches += metric(after, "tuna_serve_batch_size_count") - metric(before, "tuna_serve_batch_size_count");
        tally.images += metric(after, "tuna_serve_batch_size_sum") - metric(before, "tuna_serve_batch_size_sum");
        tally.forwardSeconds += metric(after, "tuna_serve_inference_duration_seconds_sum")
                - metric(before, "tuna_serve_inference_duration_seconds_sum");
        for (long latency : latencies) {
            tally.latencies.add(latency);
        }
        statuses.forEach((status, count) -> tally.statuses.merge(status, count, Integer::sum));
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
