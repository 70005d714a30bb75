package dev.tuna.serve;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.tuna.TunaException;
import dev.tuna.inference.ArtifactMetadata;
import dev.tuna.inference.Classifier;
import dev.tuna.inference.ClassifierOptions;
import dev.tuna.inference.InvalidImageException;
import dev.tuna.inference.PreparedImage;
import dev.tuna.inference.Prediction;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UploadedFile;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.server.handler.GracefulHandler;

/**
 * An HTTP prediction server for Tuna models, in the shape of TorchServe's and DJL Serving's inference
 * API, on Javalin (Jetty 12):
 * <ul>
 *   <li>{@code GET /ping}: {@code {"status": "healthy"}} (503 {@code "shutting down"} while stopping);
 *   <li>{@code GET /models}: each model's name, classes, input size and architecture;
 *   <li>{@code POST /predictions/{model}[?top_k=k]}: the image as the raw body or as a multipart form's
 *       file; the reply is {@code {"model", "label", "probability", "top": [{"label", "probability"}...]}};
 *   <li>{@code GET /metrics}: Prometheus text format (see {@link ServeMetrics}).
 * </ul>
 * Each model is loaded once into a {@link Classifier}; the request thread decodes and resizes the image,
 * and one inference worker per model batches waiting images dynamically ({@link ServeOptions#batchSize()},
 * {@link ServeOptions#maxDelay()}) from a bounded queue. Every failure is a JSON reply
 * {@code {"error": kind, "message": ...}} with the status of its {@link ErrorKind}; no stack trace is
 * ever sent or printed.
 *
 * <pre>{@code
 * try (PredictionServer server = PredictionServer.start(List.of(ModelSpec.parse("flowers.tuna")),
 *         ServeOptions.DEFAULTS.withPort(0))) {
 *     System.out.println("listening on " + server.port());
 *     server.awaitStop();
 * }
 * }</pre>
 *
 * <p>{@link #close()} is graceful: it stops accepting connections, answers new requests on open ones
 * with {@link ErrorKind#SHUTTING_DOWN}, lets requests in flight finish (at most the request timeout
 * and a second), then stops the workers and closes the models.
 */
public final class PredictionServer implements AutoCloseable {
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();
    private static final String JSON = "application/json";
    private static final String ERROR_WRITTEN = "tuna.error";
    private static final String ROUTES = "GET /ping, GET /models, POST /predictions/{model}, GET /metrics";

    /** A served model. */
    private record Served(ModelSpec spec, Classifier classifier, Batcher batcher) {}

    private final ServeOptions options;
    private final Map<String, Served> models;
    private final ServeMetrics metrics;
    private final Semaphore decoding;
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** The most of a refused body read and discarded before answering (see {@link #swallow}). */
    static final long SWALLOW_BYTES = 2L << 20;
    private volatile boolean draining;
    private boolean closing;
    private Javalin app;
    private int port;

    private PredictionServer(ServeOptions options, Map<String, Classifier> classifiers, Map<String, ModelSpec> specs,
            IntConsumer beforeBatch) {
        this.options = options;
        this.metrics = new ServeMetrics(options.batchSize(), this::queueDepths);
        Map<String, Served> served = new LinkedHashMap<>();
        for (Map.Entry<String, Classifier> entry : classifiers.entrySet()) {
            String name = entry.getKey();
            served.put(name, new Served(specs.get(name), entry.getValue(), new Batcher(name, entry.getValue(),
                    options.batchSize(), options.maxDelay(), options.queueSize(), metrics, beforeBatch)));
        }
        this.models = Collections.unmodifiableMap(served);
        // decoded images are large (3 bytes a pixel up to the pixel budget): only so many at once
        this.decoding = new Semaphore(Math.max(2, Runtime.getRuntime().availableProcessors()));
    }

    /**
     * Loads the models and starts serving them.
     *
     * @param specs the models (names must differ)
     * @param options how to listen, batch and limit requests
     * @return the running server
     * @throws TunaException ({@link TunaException.Kind#USAGE}) for no models or a repeated name,
     *     ({@link TunaException.Kind#BAD_MODEL_FILE}) for a folder that is not a model, or
     *     ({@link TunaException.Kind#RUNTIME}) when the port cannot be opened
     */
    public static PredictionServer start(List<ModelSpec> specs, ServeOptions options) {
        return start(specs, options, size -> { });
    }

    /** As {@link #start(List, ServeOptions)}, calling {@code beforeBatch} on a worker before each forward pass. */
    static PredictionServer start(List<ModelSpec> specs, ServeOptions options, IntConsumer beforeBatch) {
        Objects.requireNonNull(options, "options");
        if (specs.isEmpty()) {
            throw TunaException.usage("Give at least one model to serve: a folder written by 'tuna train'.");
        }
        Map<String, ModelSpec> byName = new LinkedHashMap<>();
        for (ModelSpec spec : specs) {
            ModelSpec before = byName.putIfAbsent(spec.name(), spec);
            if (before != null) {
                throw TunaException.usage("Two models are named '" + spec.name() + "' (" + before.path() + " and "
                        + spec.path() + "). Name them apart: name=path.");
            }
        }
        ClassifierOptions classifierOptions = ClassifierOptions.DEFAULTS.withMaxPixels(options.maxPixels())
                .withBatchSize(options.batchSize()).withThreads(options.threads());
        Map<String, Classifier> classifiers = new LinkedHashMap<>();
        PredictionServer server = null;
        try {
            for (ModelSpec spec : byName.values()) {
                Classifier classifier = Classifier.load(spec.path(), classifierOptions);
                classifiers.put(spec.name(), classifier);
                if (options.warmUp()) {
                    warmUp(classifier, options.batchSize());
                }
            }
            server = new PredictionServer(options, classifiers, byName, beforeBatch);
            server.listen();
            return server;
        } catch (RuntimeException | Error e) {
            if (server != null) {
                server.close();
            } else {
                classifiers.values().forEach(Classifier::close);
            }
            throw e;
        }
    }

    /** Runs every batch size once, so that no request pays for the first use of a shape. */
    private static void warmUp(Classifier classifier, int batchSize) {
        int size = classifier.metadata().inputSize();
        PreparedImage blank = classifier.prepare(new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB));
        for (int n = 1; n <= batchSize; n++) {
            classifier.predictPrepared(Collections.nCopies(n, blank));
        }
    }

    private void listen() {
        try {
            app = Javalin.create(this::configure).start(options.host(), options.port());
            port = app.port();
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new TunaException(TunaException.Kind.RUNTIME, "Cannot listen on " + options.host() + ":"
                    + options.port() + ": " + cause.getMessage() + ". Choose another --port (0: any free one) or"
                    + " --host.", e);
        }
    }

    private void configure(JavalinConfig config) {
        config.startup.showJavalinBanner = false;
        config.startup.showOldJavalinVersionWarning = false;
        config.http.prefer405over404 = true;
        config.http.maxRequestSize = options.maxBodyBytes();
        config.jetty.multipartConfig.maxFileSize(options.maxBodyBytes(), SizeUnit.BYTES);
        config.jetty.multipartConfig.maxTotalRequestSize(options.maxBodyBytes(), SizeUnit.BYTES);
        config.jetty.multipartConfig.maxInMemoryFileSize((int) options.maxBodyBytes(), SizeUnit.BYTES);
        config.jetty.modifyServer(server -> {
            // stop() then stops accepting, waits for requests in flight, and only then closes connections
            server.setHandler(new GracefulHandler());
            server.setStopTimeout(options.timeout().toMillis() + 1000);
            ErrorHandler errors = new ErrorHandler(); // malformed HTTP, rejected before any route
            errors.setShowStacks(false);
            errors.setShowCauses(false);
            errors.setDefaultResponseMimeType(JSON);
            server.setErrorHandler(errors);
        });
        config.routes.get("/ping", ctx -> ctx.status(draining ? 503 : 200).contentType(JSON).result(draining
                ? "{\"status\":\"shutting down\"}" : "{\"status\":\"healthy\"}"));
        config.routes.get("/models", this::listModels);
        config.routes.post("/predictions/{model}", this::predict);
        config.routes.get("/metrics", ctx -> ctx.contentType(ServeMetrics.CONTENT_TYPE).result(metrics.scrape()));
        config.routes.exception(ApiException.class, (e, ctx) -> reply(ctx, e.kind(), e.getMessage()));
        config.routes.exception(HttpResponseException.class, (e, ctx) -> replyHttp(ctx, e.getStatus()));
        config.routes.exception(Exception.class, (e, ctx) -> reply(ctx, ErrorKind.INTERNAL,
                "Unexpected server error (" + e.getClass().getSimpleName() + ")."));
        config.routes.error(404, ctx -> replyHttp(ctx, 404));
        config.routes.error(405, ctx -> replyHttp(ctx, 405));
    }

    private void listModels(Context ctx) {
        JsonArray list = new JsonArray();
        for (Served served : models.values()) {
            ArtifactMetadata meta = served.classifier().metadata();
            JsonObject o = new JsonObject();
            o.addProperty("name", served.spec().name());
            o.addProperty("architecture", meta.architecture().id());
            o.addProperty("inputSize", meta.inputSize());
            o.addProperty("resizeMethod", meta.resizeMethod().name().toLowerCase(Locale.ROOT));
            JsonArray classes = new JsonArray();
            meta.classes().forEach(classes::add);
            o.add("classes", classes);
            o.addProperty("batchSize", options.batchSize());
            o.addProperty("maxDelayMs", options.maxDelay().toMillis());
            o.addProperty("queueSize", options.queueSize());
            list.add(o);
        }
        JsonObject body = new JsonObject();
        body.add("models", list);
        ctx.contentType(JSON).result(GSON.toJson(body));
    }

    private void predict(Context ctx) {
        long start = System.nanoTime();
        long deadline = start + options.timeout().toNanos();
        metrics.inFlight(1);
        Served served = models.get(ctx.pathParam("model"));
        int status = 200;
        try {
            if (draining) {
                throw new ApiException(ErrorKind.SHUTTING_DOWN, "The server is shutting down; send the request again"
                        + " to another instance.");
            }
            byte[] body = body(ctx); // read first (bounded): an early refusal leaves the connection reusable
            if (served == null) {
                throw new ApiException(ErrorKind.UNKNOWN_MODEL, "No model named '" + ctx.pathParam("model")
                        + "'. Served: " + String.join(", ", models.keySet()) + " (GET /models describes them).");
            }
            int topK = topK(ctx.queryParam("top_k"), served.classifier().classes().size());
            if (body.length == 0) {
                throw new ApiException(ErrorKind.BAD_REQUEST, "The request has no image. Send the image's bytes as the"
                        + " body (curl --data-binary @photo.jpg) or as a multipart file (curl -F data=@photo.jpg).");
            }
            served.batcher().checkRoom(); // refuse before the costly decode
            PreparedImage image = prepare(served.classifier(), body, deadline);
            Prediction prediction = await(served.batcher(), image, deadline);
            ctx.contentType(JSON).result(GSON.toJson(answer(served.spec().name(), prediction, topK)));
        } catch (ApiException e) {
            status = e.kind().status();
            throw e;
        } catch (RuntimeException e) {
            status = ErrorKind.INTERNAL.status();
            throw e;
        } finally {
            metrics.inFlight(-1);
            if (served != null) {
                metrics.request(served.spec().name(), status, (System.nanoTime() - start) / 1e9);
            }
        }
    }

    /** {@code top_k}: absent means 5; more than the classes means all of them. */
    private static int topK(String value, int classes) {
        if (value == null) {
            return Math.min(5, classes);
        }
        int k;
        try {
            k = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            k = 0;
        }
        if (k < 1) {
            throw new ApiException(ErrorKind.BAD_REQUEST, "top_k must be a whole number of at least 1; found '" + value
                    + "'. E.g. ?top_k=3 (this model has " + classes + " classes).");
        }
        return Math.min(k, classes);
    }

    /** The raw body or a multipart form's first file (possibly empty), at most {@link ServeOptions#maxBodyBytes()}. */
    private byte[] body(Context ctx) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > options.maxBodyBytes()) {
            swallow(ctx);
            throw tooLarge(declared + " bytes");
        }
        byte[] bytes;
        try {
            if (ctx.isMultipart()) {
                UploadedFile file = firstFile(ctx);
                if (file.size() > options.maxBodyBytes()) {
                    throw tooLarge(file.size() + " bytes");
                }
                try (InputStream in = file.content()) {
                    bytes = readAtMost(in);
                }
                if (bytes == null) {
                    throw tooLarge("more");
                }
            } else {
                bytes = readAtMost(ctx.req().getInputStream());
                if (bytes == null) {
                    swallow(ctx);
                    throw tooLarge("more");
                }
            }
        } catch (IOException e) {
            throw new ApiException(ErrorKind.BAD_REQUEST, "Cannot read the request body: " + e.getMessage() + ".");
        }
        return bytes;
    }

    private UploadedFile firstFile(Context ctx) {
        List<UploadedFile> files;
        try {
            files = ctx.uploadedFiles();
        } catch (RuntimeException e) {
            String message = e.getMessage() + " " + (e.getCause() == null ? "" : e.getCause().getMessage());
            if (message.toLowerCase(Locale.ROOT).contains("exceeds") || message.contains("413")) {
                swallow(ctx);
                throw tooLarge("more");
            }
            throw new ApiException(ErrorKind.BAD_REQUEST, "Cannot read the multipart form: " + e.getMessage()
                    + ". Send it as curl -F data=@photo.jpg does.");
        }
        if (files.isEmpty()) {
            throw new ApiException(ErrorKind.BAD_REQUEST, "The multipart form has no file. Send the image as a file"
                    + " field, e.g. curl -F data=@photo.jpg.");
        }
        return files.get(0);
    }

    /** The stream's bytes, or null when there are more than {@link ServeOptions#maxBodyBytes()}. */
    private byte[] readAtMost(InputStream in) throws IOException {
        byte[] bytes = in.readNBytes((int) options.maxBodyBytes() + 1);
        return bytes.length > options.maxBodyBytes() ? null : bytes;
    }

    /**
     * Reads and discards what is left of a refused request's body, up to {@link #SWALLOW_BYTES}, so that a
     * client still sending it reads the 413 instead of a reset connection (Tomcat's maxSwallowSize does the
     * same); a larger rest is left, and the connection closes.
     */
    private static void swallow(Context ctx) {
        try {
            InputStream in = ctx.req().getInputStream();
            byte[] sink = new byte[8192];
            long left = SWALLOW_BYTES;
            int n;
            while (left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) > 0) {
                left -= n;
            }
        } catch (IOException | RuntimeException e) {
            // the answer is a refusal either way; a connection that fails here is closed by Jetty
        }
    }

    private ApiException tooLarge(String found) {
        return new ApiException(ErrorKind.BODY_TOO_LARGE, String.format(Locale.ROOT,
                "The request body is larger than this server accepts: %s, limit %,d bytes (--max-body). Send a"
                        + " smaller image.", found, options.maxBodyBytes()));
    }

    /** Decodes and resizes on this thread, a few requests at a time. */
    private PreparedImage prepare(Classifier classifier, byte[] bytes, long deadline) {
        boolean acquired;
        try {
            acquired = decoding.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(ErrorKind.SHUTTING_DOWN, "The server is shutting down; send the request again.");
        }
        if (!acquired) {
            throw timeout();
        }
        try {
            return classifier.prepare(bytes);
        } catch (InvalidImageException e) {
            throw invalid(e);
        } finally {
            decoding.release();
        }
    }

    /** The decoder's reasons, sorted into not an image (415), too many pixels (413) and damaged (400). */
    static ApiException invalid(InvalidImageException e) {
        String reason = e.reason();
        if (reason.startsWith("not an image") || reason.startsWith("empty")) {
            return new ApiException(ErrorKind.UNSUPPORTED_MEDIA_TYPE, "The body is not an image (" + reason
                    + "). Send the bytes of a " + dev.tuna.data.ImageFormat.NAMES + " file.");
        }
        if (reason.startsWith("image too large")) {
            return new ApiException(ErrorKind.TOO_MANY_PIXELS, "The image has too many pixels (" + reason
                    + "). Send a smaller image, or start the server with a larger --max-pixels if you trust such"
                    + " images.");
        }
        return new ApiException(ErrorKind.INVALID_IMAGE, "The image cannot be decoded (" + reason + "). Check the"
                + " file, or save it again as JPEG or PNG.");
    }

    private Prediction await(Batcher batcher, PreparedImage image, long deadline) {
        CompletableFuture<Prediction> result = batcher.submit(image);
        try {
            return result.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            batcher.cancel(result);
            throw timeout();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(ErrorKind.SHUTTING_DOWN, "The server is shutting down; send the request again.");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ApiException api) {
                throw api;
            }
            throw new ApiException(ErrorKind.INTERNAL, "The model failed on this batch ("
                    + e.getCause().getClass().getSimpleName() + ").");
        }
    }

    private ApiException timeout() {
        return new ApiException(ErrorKind.TIMEOUT, "No prediction within this server's timeout of "
                + options.timeout().toMillis() + " ms (--timeout): the server is overloaded or the model is slow."
                + " Retry later.");
    }

    private static JsonObject answer(String model, Prediction prediction, int topK) {
        JsonObject o = new JsonObject();
        o.addProperty("model", model);
        o.addProperty("label", prediction.label());
        o.addProperty("probability", prediction.probability());
        JsonArray top = new JsonArray();
        for (Prediction.Candidate c : prediction.top(topK)) {
            JsonObject t = new JsonObject();
            t.addProperty("label", c.label());
            t.addProperty("probability", c.probability());
            top.add(t);
        }
        o.add("top", top);
        return o;
    }

    /** Javalin's own refusals (no such route, wrong method, body over its limit) as JSON. */
    private void replyHttp(Context ctx, int status) {
        if (ctx.attribute(ERROR_WRITTEN) != null) {
            return;
        }
        String request = ctx.method() + " " + ctx.path();
        switch (status) {
            case 404 -> reply(ctx, ErrorKind.NOT_FOUND, "No route " + request + ". Routes: " + ROUTES + ".");
            case 405 -> reply(ctx, ErrorKind.METHOD_NOT_ALLOWED, request + " is not allowed. Routes: " + ROUTES + ".");
            case 413 -> reply(ctx, ErrorKind.BODY_TOO_LARGE, tooLarge("more").getMessage());
            default -> reply(ctx, status >= 500 ? ErrorKind.INTERNAL : ErrorKind.BAD_REQUEST,
                    "The request was refused with HTTP status " + status + ".");
        }
    }

    private void reply(Context ctx, ErrorKind kind, String message) {
        metrics.error(kind);
        ctx.attribute(ERROR_WRITTEN, kind);
        JsonObject body = new JsonObject();
        body.addProperty("error", kind.id());
        body.addProperty("message", message);
        if (kind == ErrorKind.QUEUE_FULL || kind == ErrorKind.SHUTTING_DOWN) {
            ctx.header("Retry-After", "1");
        }
        if (kind == ErrorKind.SHUTTING_DOWN) {
            ctx.header("Connection", "close");
        }
        ctx.status(kind.status()).contentType(JSON).result(GSON.toJson(body));
    }

    private Map<String, Integer> queueDepths() {
        Map<String, Integer> depths = new LinkedHashMap<>();
        if (models != null) {
            models.forEach((name, served) -> depths.put(name, served.batcher().depth()));
        }
        return depths;
    }

    /**
     * Returns the port listened on (the one chosen when {@link ServeOptions#port()} was 0).
     *
     * @return the port
     */
    public int port() {
        return port;
    }

    /**
     * Returns the served models' names, in the order given.
     *
     * @return the names
     */
    public List<String> models() {
        return new ArrayList<>(models.keySet());
    }

    /**
     * Returns a served model's description.
     *
     * @param model the name
     * @return its metadata
     * @throws TunaException ({@link TunaException.Kind#USAGE}) when no model has that name
     */
    public ArtifactMetadata metadata(String model) {
        Served served = models.get(model);
        if (served == null) {
            throw TunaException.usage("No model named '" + model + "'; served: " + models.keySet() + ".");
        }
        return served.classifier().metadata();
    }

    /**
     * Returns the options in force.
     *
     * @return the options
     */
    public ServeOptions options() {
        return options;
    }

    /** Images waiting for a model's worker (for tests). */
    int queueDepth(String model) {
        return models.get(model).batcher().depth();
    }

    /** The metrics text, as {@code GET /metrics} returns it (for tests and benchmarks). */
    String metricsText() {
        return metrics.scrape();
    }

    /**
     * Waits until {@link #close()} has finished.
     *
     * @throws InterruptedException when interrupted while waiting
     */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    /**
     * Stops gracefully: no new connections, {@link ErrorKind#SHUTTING_DOWN} for new requests on open
     * ones, requests in flight answered (for at most the request timeout and a second), then the
     * workers stopped and the models closed. Later calls return at once; a call while another is
     * stopping waits for it.
     */
    @Override
    public void close() {
        boolean first;
        synchronized (this) {
            first = !closing;
            closing = true;
        }
        if (!first) {
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        try {
            draining = true;
            if (app != null) {
                app.stop();
            }
        } finally {
            for (Served served : models.values()) {
                served.batcher().stop(Duration.ofSeconds(5));
            }
            for (Served served : models.values()) {
                served.classifier().close();
            }
            stopped.countDown();
        }
    }
}
