package dev.tuna.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The server's Prometheus metrics, in a registry of its own (two servers in one JVM do not mix):
 * <ul>
 *   <li>{@code tuna_serve_requests_total{model,status}}: prediction requests for served models, by HTTP status;
 *   <li>{@code tuna_serve_errors_total{kind}}: error replies by {@link ErrorKind#id()}, any route;
 *   <li>{@code tuna_serve_request_duration_seconds{model}}: prediction latency, arrival to answer (histogram);
 *   <li>{@code tuna_serve_batch_size{model}}: images per forward pass (histogram);
 *   <li>{@code tuna_serve_inference_duration_seconds{model}}: time of each forward pass (histogram);
 *   <li>{@code tuna_serve_queue_depth{model}}: images waiting for the model's worker;
 *   <li>{@code tuna_serve_in_flight}: prediction requests being handled.
 * </ul>
 */
final class ServeMetrics {
    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Counter errors;
    private final Histogram latency;
    private final Histogram batchSizes;
    private final Histogram inference;
    private final Gauge inFlight;

    /**
     * Registers the metrics.
     *
     * @param maxBatch the largest batch, for the batch-size buckets
     * @param depths each model's queue depth, read at each scrape
     */
    ServeMetrics(int maxBatch, Supplier<Map<String, Integer>> depths) {
        requests = Counter.builder().name("tuna_serve_requests_total")
                .help("Prediction requests for served models, by HTTP status of the reply")
                .labelNames("model", "status").register(registry);
        errors = Counter.builder().name("tuna_serve_errors_total")
                .help("Error replies by kind (the \"error\" field of the JSON reply)")
                .labelNames("kind").register(registry);
        latency = Histogram.builder().name("tuna_serve_request_duration_seconds")
                .help("Prediction request latency, from arrival to answer").labelNames("model").classicOnly()
                .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
                .register(registry);
        batchSizes = Histogram.builder().name("tuna_serve_batch_size")
                .help("Images per forward pass of the model's inference worker").labelNames("model").classicOnly()
                .classicUpperBounds(batchBounds(maxBatch)).register(registry);
        inference = Histogram.builder().name("tuna_serve_inference_duration_seconds")
                .help("Time of one forward pass (one batch)").labelNames("model").classicOnly()
                .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
                .register(registry);
        GaugeWithCallback.builder().name("tuna_serve_queue_depth")
                .help("Images waiting for the model's inference worker").labelNames("model")
                .callback(callback -> {
                    for (Map.Entry<String, Integer> entry : depths.get().entrySet()) {
                        callback.call(entry.getValue(), entry.getKey());
                    }
                }).register(registry);
        inFlight = Gauge.builder().name("tuna_serve_in_flight").help("Prediction requests being handled")
                .register(registry);
        for (ErrorKind kind : ErrorKind.values()) { // every kind shows, at 0 until it happens
            errors.labelValues(kind.id());
        }
    }

    /** 1, 2, 4, ... up to and including {@code max}. */
    private static double[] batchBounds(int max) {
        int n = 1;
        while ((1 << (n - 1)) < max) {
            n++;
        }
        double[] bounds = new double[n];
        for (int i = 0; i < n; i++) {
            bounds[i] = Math.min(max, 1 << i);
        }
        return bounds;
    }

    void request(String model, int status, double seconds) {
        requests.labelValues(model, Integer.toString(status)).inc();
        latency.labelValues(model).observe(seconds);
    }

    void error(ErrorKind kind) {
        errors.labelValues(kind.id()).inc();
    }

    void batch(String model, int size, double seconds) {
        batchSizes.labelValues(model).observe(size);
        inference.labelValues(model).observe(seconds);
    }

    void inFlight(int delta) {
        inFlight.inc(delta);
    }

    /** The text exposition format (version 0.0.4). */
    String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
