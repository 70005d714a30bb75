package dev.tuna.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuna.TunaException;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.Prediction;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server on loopback, on a random free port, with a small MobileNetV2 made without training. */
class PredictionServerTest {
    private static final int SIZE = 128;
    private static final ServeOptions TEST = ServeOptions.DEFAULTS.withPort(0).withWarmUp(false);

    @TempDir
    static Path dir;
    static Path model;
    static byte[] photo;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void writeModel() throws IOException {
        model = TestModel.write(dir.resolve("flowers.tuna"), SIZE);
        List<Path> flowers = TestModel.flowersTest(1);
        photo = flowers.isEmpty() ? png(image(120, 90, 7)) : Files.readAllBytes(flowers.get(0));
    }

    private static BufferedImage image(int width, int height, int seed) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        return image;
    }

    private static byte[] png(BufferedImage image) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    private URI uri(PredictionServer server, String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    private HttpResponse<String> post(PredictionServer server, String path, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(server, path)).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", "application/octet-stream").build(), HttpResponse.BodyHandlers.ofString());
    }

    private CompletableFuture<HttpResponse<String>> postAsync(PredictionServer server, String path, byte[] body) {
        return http.sendAsync(HttpRequest.newBuilder(uri(server, path))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(PredictionServer server, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(server, path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static byte[] multipart(String boundary, String field, String filename, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\""
                + (filename == null ? "" : "; filename=\"" + filename + "\"") + "\r\nContent-Type: "
                + (filename == null ? "text/plain" : "image/jpeg") + "\r\n\r\n";
        out.writeBytes(head.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(content);
        out.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    private HttpResponse<String> postMultipart(PredictionServer server, String path, String field, String filename,
            byte[] content) throws Exception {
        String boundary = "tunaBoundary7MA4YWxk";
        return http.send(HttpRequest.newBuilder(uri(server, path))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(multipart(boundary, field, filename, content))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject json(HttpResponse<String> response) {
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        return JsonParser.parseString(response.body()).getAsJsonObject();
    }

    /** Asserts the status and the JSON error's kind; returns the message. */
    private static String error(HttpResponse<String> response, int status, String kind) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        JsonObject body = json(response);
        assertThat(body.get("error").getAsString()).isEqualTo(kind);
        String message = body.get("message").getAsString();
        assertThat(message).isNotBlank().doesNotContain("\tat ").doesNotContain("Exception");
        return message;
    }

    private static double metric(String text, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " ([0-9.eE+-]+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    private static float[] values(Prediction p) {
        float[] out = new float[p.probabilities().size()];
        int i = 0;
        for (float v : p.probabilities().values()) {
            out[i++] = v;
        }
        return out;
    }

    /** Holds the inference worker before a forward pass until released. */
    private static final class Gate implements IntConsumer {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public void accept(int size) {
            entered.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void predictionsEqualTheClassifiersForRawAndMultipartBodies() throws Exception {
        List<Path> flowers = TestModel.flowersTest(2);
        assumeFalse(flowers.isEmpty(), "needs ../shared/datasets/flowers-test");
        try (Classifier classifier = Classifier.load(model);
             PredictionServer server = PredictionServer.start(List.of(ModelSpec.parse(model.toString())), TEST)) {
            assertThat(server.models()).containsExactly("flowers");
            java.util.Set<String> labels = new java.util.HashSet<>();
            for (Path file : flowers) {
                Prediction expected = classifier.predict(file);
                byte[] bytes = Files.readAllBytes(file);
                for (HttpResponse<String> response : List.of(post(server, "/predictions/flowers?top_k=5", bytes),
                        postMultipart(server, "/predictions/flowers?top_k=5", "data", "photo.jpg", bytes))) {
                    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                    JsonObject body = json(response);
                    assertThat(body.get("model").getAsString()).isEqualTo("flowers");
                    assertThat(body.get("label").getAsString()).as(file.toString()).isEqualTo(expected.label());
                    assertThat(body.get("probability").getAsFloat()).isCloseTo(expected.probability(), within(1e-5f));
                    JsonArray top = body.getAsJsonArray("top");
                    assertThat(top).hasSize(5);
                    for (int i = 0; i < top.size(); i++) {
                        JsonObject c = top.get(i).getAsJsonObject();
                        assertThat(c.get("label").getAsString()).isEqualTo(expected.top(5).get(i).label());
                        assertThat(c.get("probability").getAsFloat()).isCloseTo(expected.top(5).get(i).probability(),
                                within(1e-5f));
                    }
                }
                labels.add(expected.probabilities().toString());
            }
            assertThat(labels).as("outputs must depend on the image").hasSize(flowers.size());
            JsonObject two = json(post(server, "/predictions/flowers?top_k=2", photo));
            assertThat(two.getAsJsonArray("top")).hasSize(2);
            JsonObject all = json(post(server, "/predictions/flowers?top_k=99", photo));
            assertThat(all.getAsJsonArray("top")).hasSize(5);
            assertThat(json(post(server, "/predictions/flowers", photo)).getAsJsonArray("top")).hasSize(5);
        }
    }

    @Test
    void pingModelsAndMetricsDescribeTheServer() throws Exception {
        try (PredictionServer server = PredictionServer.start(List.of(ModelSpec.parse("petals=" + model)), TEST)) {
            HttpResponse<String> ping = get(server, "/ping");
            assertThat(ping.statusCode()).isEqualTo(200);
            assertThat(json(ping).get("status").getAsString()).isEqualTo("healthy");
            JsonObject models = json(get(server, "/models"));
            JsonObject petals = models.getAsJsonArray("models").get(0).getAsJsonObject();
            assertThat(petals.get("name").getAsString()).isEqualTo("petals");
            assertThat(petals.get("architecture").getAsString()).isEqualTo("mobilenet_v2");
            assertThat(petals.get("inputSize").getAsInt()).isEqualTo(SIZE);
            assertThat(petals.getAsJsonArray("classes")).hasSize(5);
            assertThat(post(server, "/predictions/petals", photo).statusCode()).isEqualTo(200);
            HttpResponse<String> metrics = get(server, "/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
            String text = metrics.body();
            assertThat(metric(text, "tuna_serve_requests_total{model=\"petals\",status=\"200\"}")).isEqualTo(1.0);
            assertThat(metric(text, "tuna_serve_request_duration_seconds_count{model=\"petals\"}")).isEqualTo(1.0);
            assertThat(metric(text, "tuna_serve_batch_size_sum{model=\"petals\"}")).isEqualTo(1.0);
            assertThat(metric(text, "tuna_serve_queue_depth{model=\"petals\"}")).isEqualTo(0.0);
            assertThat(metric(text, "tuna_serve_errors_total{kind=\"queue_full\"}")).isEqualTo(0.0);
            assertThat(text).contains("# TYPE tuna_serve_request_duration_seconds histogram",
                    "tuna_serve_batch_size_bucket{model=\"petals\",le=\"1.0\"} 1");
        }
    }

    @Test
    void eachBadRequestGetsItsStatusAndAJsonError() throws Exception {
        ServeOptions small = TEST.withLimits(64 * 1024, Duration.ofSeconds(30), 250_000);
        try (PredictionServer server = PredictionServer.start(List.of(ModelSpec.parse(model.toString())), small)) {
            assertThat(error(post(server, "/predictions/flowers", new byte[0]), 400, "bad_request"))
                    .contains("--data-binary");
            assertThat(error(post(server, "/predictions/flowers", "hello".getBytes(StandardCharsets.UTF_8)), 415,
                    "unsupported_media_type")).contains("not an image");
            byte[] jpeg = Files.readAllBytes(TestModel.flowersTest(1).isEmpty() ? writeJpeg() : TestModel.flowersTest(1)
                    .get(0));
            byte[] truncated = java.util.Arrays.copyOf(jpeg, Math.min(jpeg.length, 64 * 1024) / 3);
            assertThat(error(post(server, "/predictions/flowers", truncated), 400, "invalid_image"))
                    .contains("truncated");
            assertThat(error(post(server, "/predictions/flowers", png(new BufferedImage(600, 500,
                    BufferedImage.TYPE_INT_RGB))), 413, "too_many_pixels")).contains("--max-pixels");
            byte[] large = new byte[64 * 1024 + 1];
            assertThat(error(post(server, "/predictions/flowers", large), 413, "body_too_large")).contains("--max-body");
            HttpResponse<String> chunked = http.send(HttpRequest.newBuilder(uri(server, "/predictions/flowers"))
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(large))).build(),
                    HttpResponse.BodyHandlers.ofString());
            error(chunked, 413, "body_too_large");
            error(postMultipart(server, "/predictions/flowers", "data", "big.jpg", large), 413, "body_too_large");
            assertThat(error(postMultipart(server, "/predictions/flowers", "note", null,
                    "hi".getBytes(StandardCharsets.UTF_8)), 400, "bad_request")).contains("no file");
            assertThat(error(post(server, "/predictions/roses", photo), 404, "unknown_model")).contains("flowers");
            assertThat(error(post(server, "/predictions/flowers?top_k=0", photo), 400, "bad_request")).contains("top_k");
            error(post(server, "/predictions/flowers?top_k=abc", photo), 400, "bad_request");
            assertThat(error(get(server, "/predictions/flowers"), 405, "method_not_allowed")).contains("POST");
            assertThat(error(get(server, "/nothing/here"), 404, "not_found")).contains("/predictions/{model}");
            String text = get(server, "/metrics").body();
            assertThat(metric(text, "tuna_serve_errors_total{kind=\"bad_request\"}")).isEqualTo(4.0);
            assertThat(metric(text, "tuna_serve_errors_total{kind=\"body_too_large\"}")).isEqualTo(3.0);
            assertThat(metric(text, "tuna_serve_requests_total{model=\"flowers\",status=\"413\"}")).isEqualTo(4.0);
            assertThat(post(server, "/predictions/flowers", photo).statusCode()).as("still serving").isEqualTo(200);
        }
    }

    private static Path writeJpeg() throws IOException {
        Path file = dir.resolve("photo.jpg");
        ImageIO.write(image(200, 150, 3), "jpeg", file.toFile());
        return file;
    }

    @Test
    void concurrentRequestsAreBatched() throws Exception {
        ServeOptions batching = TEST.withBatching(4, Duration.ofSeconds(3));
        try (PredictionServer server = PredictionServer.start(List.of(ModelSpec.parse(model.toString())), batching);
             Classifier classifier = Classifier.load(model)) {
            List<CompletableFuture<HttpResponse<String>>> replies = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                replies.add(postAsync(server, "/predictions/flowers", photo));
            }
            Prediction expected = classifier.predict(photo);
            for (CompletableFuture<HttpResponse<String>> reply : replies) {
                HttpResponse<String> response = reply.get(60, TimeUnit.SECONDS);
                assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                assertThat(json(response).get("probability").getAsFloat()).isCloseTo(expected.probability(),
                        within(1e-4f));
            }
            String text = server.metricsText();
            assertThat(metric(text, "tuna_serve_batch_size_sum{model=\"flowers\"}")).isEqualTo(4.0);
            assertThat(metric(text, "tuna_serve_batch_size_count{model=\"flowers\"}")).as(text).isLessThan(4.0);
            assertThat(metric(text, "tuna_serve_batch_size_bucket{model=\"flowers\",le=\"1.0\"}")).as(text)
                    .isLessThan(4.0);
        }
    }

    @Test
    void aFullQueueIsRefusedAtOnceAndALateAnswerTimesOut() throws Exception {
        Gate gate = new Gate();
        ServeOptions tiny = TEST.withBatching(1, Duration.ZERO).withQueueSize(1)
                .withLimits(16L << 20, Duration.ofSeconds(4), 100_000_000L);
        try (PredictionServer server = PredictionServer.start(List.of(ModelSpec.parse(model.toString())), tiny,
                gate)) {
            CompletableFuture<HttpResponse<String>> held = postAsync(server, "/predictions/flowers", photo);
            assertThat(gate.entered.await(30, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<HttpResponse<String>> queued = postAsync(server, "/predictions/flowers", photo);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (server.queueDepth("flowers") < 1 && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertThat(server.queueDepth("flowers")).isEqualTo(1);
            HttpResponse<String> refused = post(server, "/predictions/flowers", photo);
            assertThat(error(refused, 503, "queue_full")).contains("--queue-size");
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
            error(held.get(30, TimeUnit.SECONDS), 504, "timeout");
            error(queued.get(30, TimeUnit.SECONDS), 504, "timeout");
            assertThat(server.queueDepth("flowers")).as("a request that timed out leaves the queue").isZero();
            CompletableFuture<HttpResponse<String>> later = postAsync(server, "/predictions/flowers", photo);
            while (server.queueDepth("flowers") < 1 && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            gate.release.countDown();
            assertThat(later.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            String text = server.metricsText();
            assertThat(metric(text, "tuna_serve_errors_total{kind=\"queue_full\"}")).isEqualTo(1.0);
            assertThat(metric(text, "tuna_serve_errors_total{kind=\"timeout\"}")).isEqualTo(2.0);
            assertThat(metric(text, "tuna_serve_requests_total{model=\"flowers\",status=\"503\"}")).isEqualTo(1.0);
        }
    }

    @Test
    void gracefulShutdownLetsTheRequestInFlightFinish() throws Exception {
        Gate gate = new Gate();
        PredictionServer server = PredictionServer.start(List.of(ModelSpec.parse(model.toString())), TEST, gate);
        CompletableFuture<HttpResponse<String>> inFlight = postAsync(server, "/predictions/flowers", photo);
        assertThat(gate.entered.await(30, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Void> closing = CompletableFuture.runAsync(server::close);
        Thread.sleep(300);
        assertThat(closing).isNotDone();
        // a new request is refused: the port is closed, or (on a kept-alive connection) 503 shutting_down
        try {
            HttpResponse<String> late = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri(server,
                    "/predictions/flowers")).POST(HttpRequest.BodyPublishers.ofByteArray(photo)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(late.statusCode()).isEqualTo(503);
        } catch (IOException refused) {
            assertThat(refused).isInstanceOf(java.net.ConnectException.class);
        }
        gate.release.countDown();
        HttpResponse<String> answer = inFlight.get(30, TimeUnit.SECONDS);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(json(answer).get("label").getAsString()).isNotBlank();
        closing.get(30, TimeUnit.SECONDS);
        assertThatThrownBy(() -> get(server, "/ping")).isInstanceOf(IOException.class);
    }

    @Test
    void startRefusesRepeatedNamesAndBadOptions() {
        assertThatThrownBy(() -> PredictionServer.start(List.of(ModelSpec.parse(model.toString()),
                ModelSpec.parse("flowers=" + model)), TEST)).isInstanceOf(TunaException.class)
                .hasMessageContaining("Two models are named 'flowers'");
        assertThatThrownBy(() -> PredictionServer.start(List.of(ModelSpec.parse(dir.resolve("none.tuna").toString())),
                TEST)).isInstanceOf(TunaException.class).extracting(e -> ((TunaException) e).kind())
                .isEqualTo(TunaException.Kind.BAD_MODEL_FILE);
        assertThatThrownBy(() -> TEST.withBatching(0, Duration.ZERO)).hasMessageContaining("--batch-size");
        assertThatThrownBy(() -> ModelSpec.parse("bad name=x")).hasMessageContaining("name=path");
        assertThat(ModelSpec.parse("/models/flowers-v2.tuna").name()).isEqualTo("flowers-v2");
        assertThat(ModelSpec.parse("f=/models/flowers-v2.tuna").name()).isEqualTo("f");
    }
}
