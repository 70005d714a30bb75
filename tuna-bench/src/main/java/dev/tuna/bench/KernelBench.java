package dev.tuna.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.tuna.internal.nn.Numerics;
import dev.tuna.internal.nn.Numerics.Route;
import java.util.Locale;

/**
 * The 1×1 convolutions where oneDNN's AVX-512 kernel was seen wrong (AMD Zen 5), and their neighbours,
 * on each route Tuna has: error against float64, and time forward and forward+backward (channels-last
 * input, as in training). Decides which route is the safe path and what it costs.
 */
final class KernelBench {
    private KernelBench() {}

    /** {batch, in, out, size}: MobileNetV2 at 192 px (training batch 64, inference 1), ResNet-50 layer4. */
    private static final int[][] SHAPES = {
        {64, 16, 96, 96}, {64, 144, 24, 48}, {64, 192, 32, 24}, {64, 384, 64, 12}, {64, 96, 576, 12},
        {64, 576, 160, 6}, {64, 960, 320, 6}, {64, 320, 1280, 6},
        {1, 960, 320, 7}, {1, 320, 1280, 7}, {32, 320, 1280, 7}, {16, 2048, 512, 7}, {16, 512, 2048, 7}};

    static void run(String[] args) {
        System.out.println(Machine.cpu());
        System.out.println(Machine.numerics());
        System.out.println("1x1 convolution, channels-last input; ms per call (median of 7), error = max |diff| "
                + "against float64 relative to the output's range");
        System.out.printf(Locale.ROOT, "%-26s %-9s %9s %9s %9s | %9s %9s %9s%n", "shape", "", "kernel", "matmul",
                "float64", "kernel", "matmul", "float64");
        Numerics numerics = Numerics.current();
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int[] s : SHAPES) {
                int n = s[0];
                int in = s[1];
                int out = s[2];
                int size = s[3];
                NDArray x = manager.randomNormal(new Shape(n, size, size, in)).transpose(0, 3, 1, 2);
                NDArray w = manager.randomNormal(0, (float) Math.sqrt(2.0 / in), new Shape(out, in, 1, 1),
                        ai.djl.ndarray.types.DataType.FLOAT32, manager.getDevice());
                NDArray reference = numerics.conv(Route.FLOAT64, x, w, null, 1, 0, 1);
                double[] error = new double[3];
                double[] forward = new double[3];
                double[] training = new double[3];
                Route[] routes = {Route.FAST, Route.MATMUL, Route.FLOAT64};
                for (int r = 0; r < routes.length; r++) {
                    Route route = routes[r];
                    try (NDArray y = numerics.conv(route, x, w, null, 1, 0, 1)) {
                        error[r] = Numerics.relativeDiff(y, reference);
                    }
                    forward[r] = median(() -> numerics.conv(route, x, w, null, 1, 0, 1).close());
                    training[r] = median(() -> step(manager, numerics, route, x, w));
                }
                String shape = String.format(Locale.ROOT, "b%d %d->%d %dx%d", n, in, out, size, size);
                System.out.printf(Locale.ROOT, "%-26s %-9s %9.2e %9.2e %9.2e |%n", shape, "error", error[0], error[1],
                        error[2]);
                System.out.printf(Locale.ROOT, "%-26s %-9s %9.2f %9.2f %9.2f | fwd+bwd %7.2f %9.2f %9.2f%n", "",
                        "forward", forward[0], forward[1], forward[2], training[0], training[1], training[2]);
            }
        }
    }

    private static void step(NDManager manager, Numerics numerics, Route route, NDArray x0, NDArray w0) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = x0.duplicate();
            NDArray w = w0.duplicate();
            x.attach(scope);
            w.attach(scope);
            x.setRequiresGradient(true);
            w.setRequiresGradient(true);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(numerics.conv(route, x, w, null, 1, 0, 1).sum());
            }
        }
    }

    private static double median(Runnable body) {
        body.run();
        body.run();
        double[] times = new double[7];
        for (int i = 0; i < times.length; i++) {
            long start = System.nanoTime();
            body.run();
            times[i] = (System.nanoTime() - start) / 1e6;
        }
        java.util.Arrays.sort(times);
        return times[times.length / 2];
    }
}
