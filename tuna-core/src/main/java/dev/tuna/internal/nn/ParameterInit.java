package dev.tuna.internal.nn;

import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * How a parameter starts before any weights are loaded: torchvision's scheme for the layer it belongs
 * to, fast.ai's for the head. Recorded with the parameter's name while the network is built, so that the
 * initialisation is part of the layer's description and nothing downstream infers it from a name.
 * Values are drawn from the generator passed in, in network order; constants draw nothing.
 */
@FunctionalInterface
public interface ParameterInit {
    /**
     * Fills a parameter's values.
     *
     * @param values the values in C order, all zero on entry
     * @param shape the parameter's shape
     * @param random the network's generator
     */
    void fill(float[] values, Shape shape, SplittableRandom random);

    /**
     * Every value {@code c} (batch-norm and layer-norm scales 1, shifts and running means 0, ...).
     *
     * @param c the value
     * @return the initialiser
     */
    static ParameterInit constant(float c) {
        return (values, shape, random) -> Arrays.fill(values, c);
    }

    /**
     * Zero-mean normal values with a fixed standard deviation (torchvision's classifier layers; ConvNeXt's
     * {@code trunc_normal_(std=0.02)}, whose bounds of ±2 lie 100 standard deviations out and never cut).
     *
     * @param std the standard deviation
     * @return the initialiser
     */
    static ParameterInit normal(double std) {
        return (values, shape, random) -> fillNormal(values, std, random);
    }

    /**
     * Kaiming normal, fan out: std {@code sqrt(2 / (out · kh · kw))} for a convolution weight
     * {@code (out, in / groups, kh, kw)} (torchvision's ResNet, MobileNetV2 and EfficientNet).
     *
     * @return the initialiser
     */
    static ParameterInit kaimingFanOut() {
        return (values, shape, random) -> fillNormal(values,
                Math.sqrt(2.0 / (shape.get(0) * shape.get(2) * shape.get(3))), random);
    }

    /**
     * Kaiming normal, fan in: std {@code sqrt(2 / in)} for a linear weight {@code (out, in)} (fast.ai's
     * head).
     *
     * @return the initialiser
     */
    static ParameterInit kaimingFanIn() {
        return (values, shape, random) -> fillNormal(values, Math.sqrt(2.0 / shape.get(1)), random);
    }

    /**
     * Uniform on {@code ±1 / sqrt(out)} for a linear weight {@code (out, in)} (torchvision's EfficientNet
     * classifier).
     *
     * @return the initialiser
     */
    static ParameterInit uniformByOutputs() {
        return (values, shape, random) -> {
            double bound = 1.0 / Math.sqrt(shape.get(0));
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
            }
        };
    }

    private static void fillNormal(float[] values, double std, SplittableRandom random) {
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * std);
        }
    }
}
