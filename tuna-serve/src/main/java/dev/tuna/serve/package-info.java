/**
 * {@code tuna serve}: an HTTP prediction server for Tuna models with dynamic batching, bounded queues,
 * JSON errors, Prometheus metrics and graceful shutdown.
 *
 * <pre>{@code
 * try (PredictionServer server = PredictionServer.start(List.of(ModelSpec.parse("flowers.tuna")),
 *         ServeOptions.DEFAULTS.withBatching(16, Duration.ofMillis(5)))) {
 *     server.awaitStop();   // curl --data-binary @rose.jpg localhost:8080/predictions/flowers
 * }
 * }</pre>
 */
package dev.tuna.serve;
