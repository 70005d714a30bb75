/**
 * Training with fast.ai's policies: the {@link dev.tuna.learn.Learner}, one-cycle schedules,
 * discriminative learning rates, the learning-rate finder and callbacks.
 *
 * <pre>{@code
 * try (Learner learner = Learner.vision(data, Architecture.RESNET18)) {
 *     learner.fineTune(3);
 *     System.out.println(learner.evaluate(Path.of("flowers-test")).accuracyLine("Test"));
 * }
 * }</pre>
 */
package dev.tuna.learn;
