package dev.tuna.testing;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuna.model.Network;
import java.util.SplittableRandom;

/** Random networks that behave enough like trained ones for inference tests. */
public final class Networks {
    private Networks() {}

    /**
     * A freshly initialised network has identity running statistics, so in evaluation mode its
     * activations grow layer by layer and its outputs hardly depend on the image. A few training-mode
     * passes over seeded random inputs set the running statistics (as training would), so that they do.
     * (A random MobileNetV2 stays insensitive even then: ReLU6 saturates; use ResNet-18.)
     *
     * @param net the network
     * @param size the input size of the passes
     */
    public static void calibrate(Network net, int size) {
        SplittableRandom random = new SplittableRandom(5);
        for (int step = 0; step < 30; step++) {
            float[] input = new float[8 * 3 * size * size];
            for (int i = 0; i < input.length; i++) {
                input[i] = (float) random.nextGaussian();
            }
            try (NDManager scope = net.newManager()) {
                net.forward(scope.create(input, new Shape(8, 3, size, size)), true);
            }
        }
    }
}
