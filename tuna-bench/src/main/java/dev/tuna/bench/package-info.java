/**
 * Benchmarks that are too slow for the test suite; run them with {@code bench/run}.
 *
 * <pre>{@code
 * bench/run data ../shared/datasets/flowers 192 memory
 * bench/run model resnet18,mobilenet_v2 32,64 192
 * }</pre>
 */
package dev.tuna.bench;
