package dev.tuna.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.tuna.model.Architecture;
import dev.tuna.model.HeadSpec;
import dev.tuna.model.Network;
import java.util.Locale;
import java.util.Map;

/** Throughput of the networks themselves, on random data: inference, frozen-body and full training. */
final class ModelBench {
    private ModelBench() {}

    /** Runs the networks under libtorch's CPU autocast to bf16 ({@code model ... <size> bf16}). */
    private static boolean bf16;

    static void run(String[] args) {
        String[] archs = (args.length > 1 ? args[1] : "resnet18,mobilenet_v2").split(",");
        String[] batches = (args.length > 2 ? args[2] : "32,64").split(",");
        int size = args.length > 3 ? Integer.parseInt(args[3]) : 192;
        bf16 = args.length > 4 && args[4].equals("bf16");
        System.out.printf(Locale.ROOT, "model throughput at %d px%s; engine %s, %d cores, LD_PRELOAD=%s%n", size,
                bf16 ? ", autocast bf16" : "",
                Engine.getInstance().getVersion(), Runtime.getRuntime().availableProcessors(),
                System.getenv().getOrDefault("LD_PRELOAD", "(none)"));
        System.out.println(Machine.cpu());
        System.out.println(Machine.numerics());
        for (String arch : archs) {
            for (String b : batches) {
                measure(Architecture.parse(arch), Integer.parseInt(b), size);
            }
        }
    }

    private static void measure(Architecture arch, int batch, int size) {
        try (NDManager manager = NDManager.newBaseManager();
             Network net = Network.transfer(arch, HeadSpec.DEFAULT, 5, false, manager, 1)) {
            // channels-last in memory, as the data loader delivers batches
            NDArray x = manager.randomNormal(new Shape(batch, size, size, 3)).transpose(0, 3, 1, 2);
            NDArray y = manager.randomInteger(0, 5, new Shape(batch), ai.djl.ndarray.types.DataType.INT64);
            double inference = time(3, 6, batch, () -> {
                try (NDManager scope = manager.newSubManager()) {
                    NDArray input = x.duplicate();
                    input.attach(scope);
                    forward(net, input, false);
                }
            });
            freeze(net, true);
            double frozen = time(2, 4, batch, () -> step(net, manager, x, y));
            freeze(net, false);
            double full = time(2, 4, batch, () -> step(net, manager, x, y));
            System.out.printf(Locale.ROOT, "%-13s batch %3d: inference %6.1f img/s, frozen-body training %6.1f img/s,"
                    + " full training %6.1f img/s%n", arch.id(), batch, inference, frozen, full);
        }
    }

    /** fast.ai's freeze: only the head and every normalisation layer's affine parameters train. */
    private static void freeze(Network net, boolean frozen) {
        for (Map.Entry<String, Parameter> e : net.parameters().entrySet()) {
            String name = e.getKey();
            boolean stats = name.endsWith("running_mean") || name.endsWith("running_var");
            if (stats) {
                continue;
            }
            boolean trains = !frozen || net.group(name) == 2 || net.isNorm(name);
            e.getValue().freeze(!trains);
        }
    }

    private static void step(Network net, NDManager manager, NDArray x, NDArray y) {
        try (NDManager scope = manager.newSubManager()) {
            // results belong to their input's manager: a per-step copy keeps every activation in scope
            NDArray input = x.duplicate();
            input.attach(scope);
            NDArray labels = y.duplicate();
            labels.attach(scope);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray logits = forward(net, input, true);
                NDArray loss = logits.logSoftmax(1).mul(labels.oneHot(5)).sum(new int[] {1}).neg().mean();
                collector.backward(loss);
            }
            for (Parameter p : net.parameters().values()) {
                if (p.requiresGradient()) {
                    NDArray w = p.getArray();
                    NDArray g = w.getGradient();
                    try (NDArray update = g.mul(1e-4f)) {
                        w.subi(update);
                    }
                    g.subi(g); // DJL leaves gradients to accumulate
                }
            }
        }
    }

    /** The network's logits, as float32 even under autocast (DJL's loss ops do not know bf16). */
    private static NDArray forward(Network net, NDArray input, boolean training) {
        if (!bf16) {
            return net.forward(input, training);
        }
        Autocast.enable(true);
        NDArray logits;
        try {
            logits = net.forward(input, training);
        } finally {
            Autocast.enable(false);
        }
        // adding a float32 tensor promotes the bf16 logits, and unlike toType it keeps the gradient
        try (NDArray zero = input.getManager().zeros(new Shape(1))) {
            return logits.add(zero);
        }
    }

    private static double time(int warmup, int iterations, int batch, Runnable body) {
        for (int i = 0; i < warmup; i++) {
            body.run();
        }
        long start = System.nanoTime();
        for (int i = 0; i < iterations; i++) {
            body.run();
        }
        return iterations * batch / ((System.nanoTime() - start) / 1e9);
    }
}
