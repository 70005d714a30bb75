package dev.tuna.internal.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.GradientCollector;
import dev.tuna.TunaException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks that libtorch's CPU kernels compute the right numbers on this machine, and routes every
 * operation that does not to a safe path.
 *
 * <p>Why: libtorch hands most float32 operations to oneDNN, which picks its kernels by the CPU's
 * vector units and cache sizes at run time. On some AVX-512 CPUs (seen on an AMD EPYC of family 26,
 * Zen 5) its {@code brgconv_1x1:avx512_core} kernel returns wrong values — off by 4 to 13 — for 1×1
 * convolutions with 320 or 1,280 output channels on 7×7 inputs, while every other kernel is right.
 * Tests that passed on one machine therefore prove nothing about another.
 *
 * <p>What: once per process, before the first network is used, {@link #current()} runs every kind
 * of operation Tuna's networks use ({@link Kind}) on small fixed inputs, channels-last as the data
 * loader delivers them, forward and backward, and compares values and both gradients with the same
 * operation in float64 — which libtorch computes with its own reference kernels, not oneDNN's. This
 * takes well under a second. A kind that disagrees is switched to its safe path for the rest of the
 * process: a 1×1 convolution becomes one matrix product over the channels-last pixels, anything else
 * is computed in float64. In addition, because oneDNN's choice of kernel depends on the exact shape,
 * every convolution checks the first image of its output against float64 the first time it sees an
 * input shape (once per shape and batch size, forward only) and switches that shape to the safe path
 * on a mismatch, recomputing the batch. Every switch is reported in one line through the listeners
 * ({@link #notes()}, {@link #addListener}), so nothing trains or predicts on wrong numbers silently.
 *
 * <p>{@code -Dtuna.numerics.simulate-fault=<kind>[:<output channels>|:grad],...} makes the fast path of
 * the given kinds wrong on purpose, for testing the check on machines without a fault: its values (for
 * every shape, or only with the given number of output channels), e.g. {@code pointwise_conv:1280}, or
 * with {@code :grad} its gradients.
 */
public final class Numerics {
    private static final Logger LOG = LoggerFactory.getLogger(Numerics.class);
    /** The kinds of operation Tuna's networks run, each checked separately. */
    public enum Kind {
        /**
         * A 1×1 convolution with one group, any stride: most of MobileNetV2's and ResNet-50's work, and
         * ResNet's downsampling shortcuts.
         */
        POINTWISE_CONV("1x1 convolution"),
        /** A 3×3 (or larger) convolution, stride 1, one group. */
        SPATIAL_CONV("3x3 convolution"),
        /** A depthwise convolution (as many groups as channels), any stride, TF-SAME padding included. */
        DEPTHWISE_CONV("depthwise convolution"),
        /** A strided convolution larger than 1×1 with one group: stems and ResNet's stage entries. */
        STRIDED_CONV("strided convolution"),
        /** Batch norm with batch statistics and running-statistics updates. */
        BATCH_NORM_TRAIN("batch norm (training mode)"),
        /** Batch norm with running statistics. */
        BATCH_NORM_EVAL("batch norm (inference mode)"),
        /** Max pooling, windowed and global. */
        MAX_POOL("max pooling"),
        /** Global average pooling. */
        AVG_POOL("average pooling"),
        /** A fully connected layer, on 2-d inputs (heads) or channels-last feature maps (ConvNeXt). */
        LINEAR("linear layer"),
        /** Layer norm over the last axis (ConvNeXt, on channels-last maps). */
        LAYER_NORM("layer norm"),
        /** The smooth element-wise activations: GELU (ConvNeXt), sigmoid and SiLU (EfficientNet). */
        ACTIVATION("GELU/sigmoid activation");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /**
         * Returns a short human-readable name.
         *
         * @return e.g. "1x1 convolution"
         */
        public String label() {
            return label;
        }

        /**
         * Classifies a convolution.
         *
         * @param kernel kernel size (square)
         * @param stride stride
         * @param groups groups
         * @param inChannels input channels
         * @return the kind it is checked as
         */
        public static Kind ofConv(long kernel, long stride, int groups, long inChannels) {
            if (groups > 1 && groups == inChannels) {
                return DEPTHWISE_CONV;
            }
            if (kernel == 1 && groups == 1) {
                return POINTWISE_CONV;
            }
            return stride > 1 ? STRIDED_CONV : SPATIAL_CONV;
        }
    }

    /** How an operation is computed. */
    public enum Route {
        /** libtorch's own float32 kernel (oneDNN for convolutions): the fast path. */
        FAST("libtorch's float32 kernel"),
        /** A 1×1 convolution as one matrix product over the (strided) channels-last pixels. */
        MATMUL("a matrix product"),
        /**
         * Values computed in float64 with libtorch's reference kernels; gradients from the float32 kernel
         * (DJL converts types outside autograd, so this is a straight-through correction of the kernel's
         * values). Right for faults of the forward kernel, which is what has been seen; a kind whose
         * gradients are wrong too blocks training ({@link #checkTraining()}).
         */
        FLOAT64("float64 values");

        private final String label;

        Route(String label) {
            this.label = label;
        }

        /**
         * Returns how this route is described in notes.
         *
         * @return e.g. "a matrix product"
         */
        public String label() {
            return label;
        }
    }

    /** Relative tolerance of every comparison with float64 (float32 rounding is below 1e-5 here). */
    static final double TOLERANCE = 1e-3;

    private static final Object LOCK = new Object();
    private static volatile Numerics current;
    private static final List<Consumer<String>> LISTENERS = new CopyOnWriteArrayList<>();

    private final AtomicReferenceArray<Route> routes = new AtomicReferenceArray<>(Kind.values().length);
    private final Map<Kind, Integer> faults;
    private final Map<Kind, Boolean> gradientFaults;
    private final Map<ConvShape, Route> convShapes = new ConcurrentHashMap<>();
    private final List<String> notes = new CopyOnWriteArrayList<>();
    private volatile String blocked;
    private final long checkNanos;

    private Numerics(String simulatedFaults, boolean check) {
        this.faults = new EnumMap<>(Kind.class);
        this.gradientFaults = new EnumMap<>(Kind.class);
        parseFaults(simulatedFaults, faults, gradientFaults);
        for (Kind kind : Kind.values()) {
            routes.set(kind.ordinal(), Route.FAST);
        }
        Engine.getEngine("PyTorch"); // loading libtorch is not the check's cost
        long start = System.nanoTime();
        if (check) {
            new SelfCheck(this).run();
        }
        this.checkNanos = System.nanoTime() - start;
    }

    /**
     * The process's checked numerics: the first call runs the start-up check (outside any gradient
     * collector: it needs one of its own).
     *
     * @return the instance every network consults
     */
    public static Numerics current() {
        Numerics value = current;
        if (value == null) {
            synchronized (LOCK) {
                value = current;
                if (value == null) {
                    value = new Numerics(System.getProperty("tuna.numerics.simulate-fault", ""), true);
                    current = value;
                }
            }
        }
        return value;
    }

    /**
     * Runs a fresh check with simulated faults and makes it the process's instance (for tests that
     * prove the check catches a wrong kernel on machines that have none). Networks built before keep
     * consulting whatever is current when they run.
     *
     * @param simulatedFaults as {@code -Dtuna.numerics.simulate-fault}, e.g. "pointwise_conv:1280"; ""
     *     for none
     * @return the new instance
     */
    public static Numerics reset(String simulatedFaults) {
        synchronized (LOCK) {
            Numerics value = new Numerics(simulatedFaults, true);
            current = value;
            return value;
        }
    }

    /**
     * Makes {@code numerics} the process's instance again (tests restore what {@link #reset} replaced).
     *
     * @param numerics an instance from {@link #current()} or {@link #reset}
     */
    public static void install(Numerics numerics) {
        synchronized (LOCK) {
            current = numerics;
        }
    }

    /**
     * Adds a listener that receives each note as it is made (the start-up check's, and those of
     * shapes checked later). Notes already made are delivered at once.
     *
     * @param listener receives one line per switch to a safe path
     */
    public static void addListener(Consumer<String> listener) {
        LISTENERS.add(listener);
        Numerics value = current;
        if (value != null) {
            value.notes.forEach(listener);
        }
    }

    /**
     * Removes a listener.
     *
     * @param listener a listener added before
     */
    public static void removeListener(Consumer<String> listener) {
        LISTENERS.remove(listener);
    }

    /**
     * Returns the notes made so far: one line for each operation switched to a safe path.
     *
     * @return the lines; empty when every kernel is right
     */
    public List<String> notes() {
        return List.copyOf(notes);
    }

    /**
     * Returns how each kind of operation is computed (shapes switched later are not included).
     *
     * @return the route per kind
     */
    public Map<Kind, Route> routes() {
        Map<Kind, Route> copy = new EnumMap<>(Kind.class);
        for (Kind kind : Kind.values()) {
            copy.put(kind, route(kind));
        }
        return Collections.unmodifiableMap(copy);
    }

    /**
     * Returns how long the start-up check took.
     *
     * @return seconds
     */
    public double checkSeconds() {
        return checkNanos / 1e9;
    }

    /**
     * Returns the route of a kind.
     *
     * @param kind the kind
     * @return its route
     */
    public Route route(Kind kind) {
        return routes.get(kind.ordinal());
    }

    private void note(String line) {
        notes.add(line);
        LOG.warn(line);
        for (Consumer<String> listener : LISTENERS) {
            listener.accept(line);
        }
    }

    // ------------------------------------------------------------------ convolution

    /**
     * A convolution as Tuna's networks run it: the route of its kind, and the first time a shape is
     * seen on the fast path, a check of the first image against float64.
     *
     * @param x input (N, C, H, W), any memory layout
     * @param weight (O, C / groups, k, k)
     * @param bias null or (O)
     * @param stride stride (square)
     * @param padding symmetric padding
     * @param groups groups
     * @return the output
     */
    public NDArray conv(NDArray x, NDArray weight, NDArray bias, int stride, int padding, int groups) {
        Shape w = weight.getShape();
        Shape in = x.getShape();
        Kind kind = Kind.ofConv(w.get(2), stride, groups, in.get(1));
        Route route = route(kind);
        if (route != Route.FAST || x.getDataType() != DataType.FLOAT32) {
            return conv(route, x, weight, bias, stride, padding, groups);
        }
        ConvShape key = new ConvShape(in.get(0), in.get(1), in.get(2), in.get(3), w.get(0), w.get(2), stride,
                padding, groups);
        Route known = convShapes.get(key);
        if (known != null) {
            return conv(known, x, weight, bias, stride, padding, groups);
        }
        NDArray y = conv(Route.FAST, x, weight, bias, stride, padding, groups);
        double diff = firstImageDiff(y, x, weight, bias, stride, padding, groups);
        if (diff <= TOLERANCE) {
            convShapes.putIfAbsent(key, Route.FAST);
            return y;
        }
        y.close();
        Route safe = safeConvRoute(kind, x, weight, bias, stride, padding, groups);
        if (convShapes.putIfAbsent(key, safe) == null) {
            note(String.format(Locale.ROOT, "numerics: %s gave wrong numbers on this CPU for %s (max |diff| %.3g"
                    + " against float64, relative to the output's range); that shape is computed as %s from now on",
                    kind.label(), key, diff, safe.label()));
        }
        return conv(safe, x, weight, bias, stride, padding, groups);
    }

    /** The matrix-product path where it applies and checks out on this image, float64 otherwise. */
    private Route safeConvRoute(Kind kind, NDArray x, NDArray weight, NDArray bias, int stride, int padding,
            int groups) {
        if (kind != Kind.POINTWISE_CONV || padding != 0) {
            return Route.FLOAT64;
        }
        // the matrix product: the safe path where it applies and is right on this image
        try (NDManager scope = x.getManager().newSubManager()) {
            NDArray y = conv(Route.MATMUL, x, weight, bias, stride, padding, groups);
            y.attach(scope);
            return firstImageDiff(y, x, weight, bias, stride, padding, groups) <= TOLERANCE ? Route.MATMUL
                    : Route.FLOAT64;
        }
    }

    /** The largest difference of {@code y}'s first image from float64, relative to its range. */
    private static double firstImageDiff(NDArray y, NDArray x, NDArray weight, NDArray bias, int stride,
            int padding, int groups) {
        try (NDManager scope = x.getManager().newSubManager()) {
            NDArray first = detached(x, scope).get("0:1");
            NDArray w = detached(weight, scope);
            NDArray b = bias == null ? null : detached(bias, scope);
            NDArray reference = inFloat64(first, w, b, a -> djlConv(a.get(0), a.get(1), a.size() > 2 ? a.get(2)
                    : null, stride, padding, groups));
            NDArray got = detached(y, scope).get("0:1");
            return relativeDiff(got, reference);
        }
    }

    /** A copy of {@code a} outside autograd, owned by {@code scope} (as is everything made from it). */
    private static NDArray detached(NDArray a, NDManager scope) {
        NDArray copy = a.stopGradient();
        copy.attach(scope);
        return copy;
    }

    /**
     * Computes a convolution on the given route (with any simulated fault of the fast path), unchecked.
     *
     * @param route the route
     * @param x input
     * @param weight weight
     * @param bias null or bias
     * @param stride stride
     * @param padding symmetric padding
     * @param groups groups
     * @return the output
     */
    public NDArray conv(Route route, NDArray x, NDArray weight, NDArray bias, int stride, int padding, int groups) {
        switch (route) {
            case MATMUL:
                return pointwiseAsMatmul(x, weight, bias, stride);
            case FLOAT64:
                return corrected(conv(Route.FAST, x, weight, bias, stride, padding, groups), exactConv(x, weight,
                        bias, stride, padding, groups));
            default:
                NDArray y = djlConv(x, weight, bias, stride, padding, groups);
                Kind kind = Kind.ofConv(weight.getShape().get(2), stride, groups, x.getShape().get(1));
                return simulateFault(kind, y, weight.getShape().get(0));
        }
    }

    private static NDArray djlConv(NDArray x, NDArray weight, NDArray bias, int stride, int padding, int groups) {
        return Conv2d.conv2d(x, weight, bias, new Shape(stride, stride), new Shape(padding, padding),
                new Shape(1, 1), groups).singletonOrThrow();
    }

    /**
     * A 1×1 convolution (no padding, one group) as a matrix product: the channels-last pixels (N·H·W, C),
     * every {@code stride}-th in each direction, times the weight (C, O). On a channels-last input with
     * stride 1 the first step is a view.
     */
    static NDArray pointwiseAsMatmul(NDArray input, NDArray weight, NDArray bias, int stride) {
        NDArray x = stride == 1 ? input : input.get(":, :, ::" + stride + ", ::" + stride);
        Shape s = x.getShape();
        long n = s.get(0);
        long c = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        long out = weight.getShape().get(0);
        NDArray nhwc = x.transpose(0, 2, 3, 1);
        NDArray pixels = nhwc.reshape(n * h * w, c);
        NDArray matrix = weight.reshape(out, c);
        NDArray transposed = matrix.transpose();
        NDArray product = pixels.matMul(transposed);
        NDArray withBias = bias == null ? product : product.add(bias);
        NDArray image = withBias.reshape(n, h, w, out);
        NDArray result = image.transpose(0, 3, 1, 2);
        for (NDArray temporary : new NDArray[] {nhwc, pixels, matrix, transposed, product, withBias, image}) {
            temporary.close(); // the result (a view) and autograd keep what they need
        }
        if (x != input) {
            x.close();
        }
        return result;
    }

    /** The convolution computed in float64 from detached inputs, as a float32 array outside autograd. */
    private static NDArray exactConv(NDArray x, NDArray weight, NDArray bias, int stride, int padding, int groups) {
        return inFloat64(x, weight, bias,
                a -> djlConv(a.get(0), a.get(1), a.size() > 2 ? a.get(2) : null, stride, padding, groups));
    }

    /**
     * {@code kernel + (exact − kernel)} with the correction outside autograd: the exact values, with the
     * kernel's gradient. Both arguments are consumed.
     */
    static NDArray corrected(NDArray kernel, NDArray exact) {
        NDArray frozen = kernel.stopGradient();
        NDArray correction = exact.sub(frozen);
        NDArray result = kernel.add(correction);
        for (NDArray temporary : new NDArray[] {frozen, correction, exact, kernel}) {
            temporary.close();
        }
        return result;
    }

    /**
     * Applies {@code op} to float64 copies of the arrays (nulls dropped) and converts the result back to
     * float32, all outside autograd (DJL's type conversion does not record gradients).
     */
    static NDArray inFloat64(NDArray first, NDArray second, NDArray third, Function<NDList, NDArray> op) {
        NDList wide = new NDList();
        for (NDArray a : new NDArray[] {first, second, third}) {
            if (a != null) {
                NDArray detached = a.stopGradient();
                NDArray copy = detached.toType(DataType.FLOAT64, false);
                if (copy != detached) {
                    detached.close();
                }
                wide.add(copy);
            }
        }
        NDArray result = op.apply(wide);
        NDArray narrow = result.toType(DataType.FLOAT32, false);
        result.close();
        wide.close();
        return narrow;
    }

    private NDArray simulateFault(Kind kind, NDArray y, long outChannels) {
        if (gradientFaults.containsKey(kind)) {
            // right values, gradients 1.5 times too large
            NDArray half = y.mul(0.5f);
            NDArray frozen = half.stopGradient();
            NDArray extra = half.sub(frozen);
            NDArray wrong = y.add(extra);
            for (NDArray temporary : new NDArray[] {half, frozen, extra, y}) {
                temporary.close();
            }
            return wrong;
        }
        Integer channels = faults.get(kind);
        if (channels == null || (channels > 0 && channels != outChannels)) {
            return y;
        }
        // wrong forward values, right gradients: what the faulty oneDNN kernel does
        NDArray error = y.stopGradient().mul(0.5f).add(1f);
        NDArray wrong = y.add(error);
        error.close();
        y.close();
        return wrong;
    }

    // ------------------------------------------------------------------ other operations

    /**
     * Batch norm over axis 1 on its route; in float64 the updated running statistics are copied back.
     *
     * @param x input
     * @param runningMean running mean (updated in place when training)
     * @param runningVar running variance (updated in place when training)
     * @param gamma scale
     * @param beta shift
     * @param momentum DJL's momentum (weight of the old statistics)
     * @param eps epsilon
     * @param training batch statistics and running-statistics update
     * @return the output
     */
    public NDArray batchNorm(NDArray x, NDArray runningMean, NDArray runningVar, NDArray gamma, NDArray beta,
            float momentum, float eps, boolean training) {
        Kind kind = training ? Kind.BATCH_NORM_TRAIN : Kind.BATCH_NORM_EVAL;
        if (route(kind) == Route.FAST || x.getDataType() != DataType.FLOAT32) {
            NDArray y = BatchNorm.batchNorm(x, runningMean, runningVar, gamma, beta, 1, momentum, eps, training)
                    .singletonOrThrow();
            return simulateFault(kind, y, 0);
        }
        return batchNormFloat64(x, runningMean, runningVar, gamma, beta, momentum, eps, training);
    }

    static NDArray batchNormFloat64(NDArray x, NDArray runningMean, NDArray runningVar, NDArray gamma,
            NDArray beta, float momentum, float eps, boolean training) {
        try (NDManager scope = x.getManager().newSubManager()) {
            NDArray mean = runningMean.toType(DataType.FLOAT64, true);
            NDArray var = runningVar.toType(DataType.FLOAT64, true);
            // the kernel runs for its gradient only, on copies of the statistics it would update
            NDArray kernelMean = runningMean.duplicate();
            NDArray kernelVar = runningVar.duplicate();
            for (NDArray a : new NDArray[] {mean, var, kernelMean, kernelVar}) {
                a.attach(scope);
            }
            NDArray kernel = BatchNorm.batchNorm(x, kernelMean, kernelVar, gamma, beta, 1, momentum, eps, training)
                    .singletonOrThrow();
            NDArray exact = inFloat64(x, gamma, beta, a -> BatchNorm.batchNorm(a.get(0), mean, var, a.get(1), a.get(2),
                    1, momentum, eps, training).singletonOrThrow());
            kernel.attach(x.getManager());
            exact.attach(x.getManager());
            NDArray y = corrected(kernel, exact);
            if (training) {
                NDArray newMean = mean.toType(DataType.FLOAT32, true);
                NDArray newVar = var.toType(DataType.FLOAT32, true);
                newMean.attach(scope);
                newVar.attach(scope);
                runningMean.set(newMean.toFloatArray());
                runningVar.set(newVar.toFloatArray());
            }
            y.attach(x.getManager());
            return y;
        }
    }

    /**
     * A fully connected layer on its route.
     *
     * @param x (N, in)
     * @param weight (out, in)
     * @param bias null or (out)
     * @return (N, out)
     */
    public NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        if (route(Kind.LINEAR) == Route.FAST || x.getDataType() != DataType.FLOAT32) {
            NDArray y = (bias == null ? Linear.linear(x, weight) : Linear.linear(x, weight, bias)).singletonOrThrow();
            return simulateFault(Kind.LINEAR, y, weight.getShape().get(0));
        }
        NDArray kernel = (bias == null ? Linear.linear(x, weight) : Linear.linear(x, weight, bias)).singletonOrThrow();
        return corrected(kernel, inFloat64(x, weight, bias, a -> (a.size() > 2 ? Linear.linear(a.get(0), a.get(1),
                a.get(2)) : Linear.linear(a.get(0), a.get(1))).singletonOrThrow()));
    }

    /**
     * A parameter-free pooling operation on the route of its kind.
     *
     * @param kind {@link Kind#MAX_POOL} or {@link Kind#AVG_POOL}
     * @param x input
     * @param op the operation
     * @return its output
     */
    public NDArray pool(Kind kind, NDArray x, UnaryOperator<NDArray> op) {
        if (route(kind) == Route.FAST || x.getDataType() != DataType.FLOAT32) {
            return simulateFault(kind, op.apply(x), 0);
        }
        return corrected(op.apply(x), inFloat64(x, null, null, a -> op.apply(a.get(0))));
    }

    /**
     * Layer norm over the last axis on its route.
     *
     * @param x input {@code (..., C)}
     * @param weight scale {@code (C)}
     * @param bias shift {@code (C)}
     * @param eps epsilon
     * @return the output
     */
    public NDArray layerNorm(NDArray x, NDArray weight, NDArray bias, float eps) {
        UnaryOperator<NDList> op = a -> LayerNorm.layerNorm(a.get(0), new Shape(a.get(1).getShape().get(0)), a.get(1),
                a.get(2), eps);
        NDArray y = op.apply(new NDList(x, weight, bias)).singletonOrThrow();
        if (route(Kind.LAYER_NORM) == Route.FAST || x.getDataType() != DataType.FLOAT32) {
            return simulateFault(Kind.LAYER_NORM, y, 0);
        }
        return corrected(y, inFloat64(x, weight, bias, a -> op.apply(a).singletonOrThrow()));
    }

    /**
     * A smooth element-wise activation (GELU, sigmoid, SiLU) on the route of {@link Kind#ACTIVATION}.
     *
     * @param x input
     * @param op the activation
     * @return its output
     */
    public NDArray activation(NDArray x, UnaryOperator<NDArray> op) {
        if (route(Kind.ACTIVATION) == Route.FAST || x.getDataType() != DataType.FLOAT32) {
            return simulateFault(Kind.ACTIVATION, op.apply(x), 0);
        }
        return corrected(op.apply(x), inFloat64(x, null, null, a -> op.apply(a.get(0))));
    }

    /** ResNet's stem pooling: 3×3, stride 2, padding 1. */
    static NDArray stemMaxPool(NDArray x) {
        return Pool.maxPool2d(x, new Shape(3, 3), new Shape(2, 2), new Shape(1, 1), false);
    }

    // ------------------------------------------------------------------ helpers

    /**
     * The difference measure of every check: max |a − b| / max(1, max |b|).
     *
     * @param a an array
     * @param b the reference
     * @return the relative difference (infinite when it is NaN)
     */
    public static double relativeDiff(NDArray a, NDArray b) {
        try (NDManager scope = a.getManager().newSubManager()) {
            NDArray a64 = a.toType(DataType.FLOAT64, true);
            NDArray b64 = b.toType(DataType.FLOAT64, true);
            a64.attach(scope);
            b64.attach(scope);
            NDArray diff = a64.sub(b64).abs().max();
            NDArray range = b64.abs().max();
            diff.attach(scope);
            range.attach(scope);
            double d = diff.getDouble();
            return Double.isNaN(d) ? Double.POSITIVE_INFINITY : d / Math.max(1.0, range.getDouble());
        }
    }

    private static void parseFaults(String spec, Map<Kind, Integer> faults, Map<Kind, Boolean> gradientFaults) {
        for (String part : spec.split(",")) {
            String item = part.trim();
            if (item.isEmpty()) {
                continue;
            }
            String[] pieces = item.split(":");
            Kind kind;
            try {
                kind = Kind.valueOf(pieces[0].toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tuna.numerics.simulate-fault: unknown kind '" + pieces[0]
                        + "'; expected one of " + java.util.Arrays.toString(Kind.values()).toLowerCase(Locale.ROOT), e);
            }
            if (pieces.length > 1 && pieces[1].equals("grad")) {
                gradientFaults.put(kind, Boolean.TRUE);
            } else {
                faults.put(kind, pieces.length > 1 ? Integer.parseInt(pieces[1]) : 0);
            }
        }
    }

    /** A convolution's shape as oneDNN sees it when choosing a kernel. */
    record ConvShape(long batch, long in, long height, long width, long out, long kernel, int stride, int padding,
            int groups) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d->%d channels, %dx%d kernel, stride %d, %s%dx%d input, batch %d",
                    in, out, kernel, kernel, stride, groups > 1 ? groups + " groups, " : "", height, width, batch);
        }
    }

    // ------------------------------------------------------------------ the start-up check

    /**
     * One probe: an operation on fixed inputs, run forward and backward in float32 on the fast route and in
     * float64, whose values and gradients must agree.
     */
    private record Probe(Kind kind, String description, Shape input, Shape weight, Shape bias, int stride,
            Function<NDList, NDArray> op) {}

    /** The start-up check: a catalogue of probes in the shapes Tuna's architectures use. */
    private static final class SelfCheck {
        private final Numerics numerics;

        SelfCheck(Numerics numerics) {
            this.numerics = numerics;
        }

        void run() {
            List<Probe> probes = catalogue();
            try (NDManager manager = NDManager.newBaseManager(null, "PyTorch")) {
                for (Kind kind : Kind.values()) {
                    String failure = firstFailure(manager, probes, kind, Route.FAST);
                    if (failure == null) {
                        continue;
                    }
                    Route safe = Route.FLOAT64;
                    String safeFailure = null;
                    if (kind == Kind.POINTWISE_CONV) {
                        safeFailure = firstFailure(manager, probes, kind, Route.MATMUL);
                        safe = safeFailure == null ? Route.MATMUL : Route.FLOAT64;
                    }
                    if (safe == Route.FLOAT64) {
                        safeFailure = firstFailure(manager, probes, kind, Route.FLOAT64);
                    }
                    numerics.routes.set(kind.ordinal(), safe);
                    numerics.note(String.format(Locale.ROOT, "numerics: %s gave wrong numbers on this CPU (%s);"
                            + " computing it as %s instead", kind.label(), failure, safe.label()));
                    if (safeFailure != null && numerics.blocked == null) {
                        numerics.blocked = String.format(Locale.ROOT, "libtorch's %s gives wrong gradients on this"
                                + " CPU and Tuna has no float32 alternative for it (%s)", kind.label(), safeFailure);
                        numerics.note("numerics: training is refused: " + numerics.blocked);
                    }
                }
            }
        }

        private String firstFailure(NDManager manager, List<Probe> probes, Kind kind, Route route) {
            for (Probe probe : probes) {
                if (probe.kind() == kind) {
                    String failure = check(manager, probe, route);
                    if (failure != null) {
                        return failure;
                    }
                }
            }
            return null;
        }

        /** Null when the route agrees with float64 on this probe, else what disagreed. */
        private String check(NDManager parent, Probe probe, Route route) {
            try (NDManager manager = parent.newSubManager()) {
                SplittableRandom random = new SplittableRandom(probe.description().hashCode());
                List<Shape> shapes = new ArrayList<>();
                shapes.add(probe.input());
                shapes.add(probe.weight());
                shapes.add(probe.bias());
                List<float[]> values = new ArrayList<>();
                for (Shape shape : shapes) {
                    values.add(shape == null ? null : normal(random, shape.size()));
                }
                Result fast = run(manager, probe, values, DataType.FLOAT32, route);
                Result wide = run(manager, probe, values, DataType.FLOAT64, null);
                String[] parts = {"forward", "input gradient", "weight gradient"};
                for (int i = 0; i < parts.length; i++) {
                    if (fast.arrays.get(i) == null) {
                        continue;
                    }
                    double diff = relativeDiff(fast.arrays.get(i), wide.arrays.get(i));
                    if (!(diff <= TOLERANCE)) {
                        return String.format(Locale.ROOT, "%s: max |diff| %.3g against float64, relative to the"
                                + " output's range, %s", parts[i], diff, probe.description());
                    }
                }
                return null;
            }
        }

        private record Result(List<NDArray> arrays) {}

        private Result run(NDManager manager, Probe probe, List<float[]> values, DataType type, Route route) {
            NDList inputs = new NDList();
            Shape[] shapes = {probe.input(), probe.weight(), probe.bias()};
            for (int i = 0; i < shapes.length; i++) {
                if (shapes[i] == null) {
                    continue;
                }
                Shape s = shapes[i];
                NDArray a;
                if (i == 0 && s.dimension() == 4) {
                    // channels-last in memory, as the data loader delivers batches
                    a = manager.create(values.get(i), new Shape(s.get(0), s.get(2), s.get(3), s.get(1)))
                            .transpose(0, 3, 1, 2);
                } else {
                    a = manager.create(values.get(i), s);
                }
                a = a.toType(type, false);
                a.setRequiresGradient(true);
                inputs.add(a);
            }
            Function<NDList, NDArray> op = probe.op();
            NDArray y;
            try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
                // route null: the float64 reference itself, on float64 inputs
                y = route == null ? op.apply(inputs) : numerics.forRoute(probe, route, inputs);
                SplittableRandom random = new SplittableRandom(7);
                NDArray weights = manager.create(normal(random, y.getShape().size()), y.getShape()).toType(type, false);
                collector.backward(y.mul(weights).sum());
            }
            List<NDArray> arrays = new ArrayList<>();
            arrays.add(y);
            arrays.add(inputs.get(0).getGradient());
            arrays.add(inputs.size() > 1 ? inputs.get(1).getGradient() : null);
            return new Result(arrays);
        }

        private static float[] normal(SplittableRandom random, long count) {
            float[] values = new float[Math.toIntExact(count)];
            for (int i = 0; i < values.length; i++) {
                // uniform on [-1, 1) from Java's own generator: the check never touches libtorch's RNG
                values[i] = (float) (random.nextDouble() * 2 - 1);
            }
            return values;
        }

        /** Probes in the shapes of the architectures' layers (MobileNetV2, ResNets, ConvNeXt, EfficientNet), small batches. */
        private static List<Probe> catalogue() {
            List<Probe> probes = new ArrayList<>();
            // 1×1: MobileNetV2's last block and final conv at 224 and 192 px (where the Zen 5 fault is),
            // an early expansion, and ResNet-50's layer4 bottleneck
            pointwise(probes, 2, 320, 1280, 7);
            pointwise(probes, 2, 960, 320, 6);
            pointwise(probes, 2, 24, 144, 28);
            pointwise(probes, 1, 2048, 512, 7);
            conv(probes, Kind.POINTWISE_CONV, 2, 256, 512, 14, 1, 2, 0, 1); // ResNet-18/34's last downsample
            conv(probes, Kind.SPATIAL_CONV, 2, 64, 64, 14, 3, 1, 1, 1);
            conv(probes, Kind.SPATIAL_CONV, 1, 256, 256, 7, 3, 1, 1, 1);
            conv(probes, Kind.DEPTHWISE_CONV, 2, 96, 96, 14, 3, 1, 1, 96);
            conv(probes, Kind.DEPTHWISE_CONV, 1, 960, 960, 7, 3, 1, 1, 960);
            // TF-SAME depthwise, stride 2: pad (0, 1) then convolve without padding
            probes.add(new Probe(Kind.DEPTHWISE_CONV, "TF-SAME depthwise 3x3 stride 2, 144 channels, 14x14, batch 2",
                    new Shape(2, 144, 14, 14), new Shape(144, 1, 3, 3), null, 2, a -> {
                        NDArray padded = a.get(0).pad(new Shape(0, 1, 0, 1), 0);
                        return djlConv(padded, a.get(1), null, 2, 0, 144);
                    }));
            conv(probes, Kind.STRIDED_CONV, 2, 3, 64, 32, 7, 2, 3, 1);   // ResNet stem
            conv(probes, Kind.STRIDED_CONV, 2, 3, 32, 32, 3, 2, 1, 1);   // MobileNetV2 stem
            conv(probes, Kind.STRIDED_CONV, 2, 64, 128, 14, 3, 2, 1, 1); // ResNet's first 3x3 of a stage
            conv(probes, Kind.STRIDED_CONV, 2, 3, 96, 32, 4, 4, 0, 1);   // ConvNeXt stem (patchify)
            conv(probes, Kind.STRIDED_CONV, 2, 96, 192, 14, 2, 2, 0, 1); // ConvNeXt downsampling
            conv(probes, Kind.DEPTHWISE_CONV, 2, 240, 240, 14, 5, 2, 2, 240); // EfficientNet 5x5 stride 2
            probes.add(new Probe(Kind.DEPTHWISE_CONV, "depthwise 7x7 with bias, 96 channels, 14x14, batch 2",
                    new Shape(2, 96, 14, 14), new Shape(96, 1, 7, 7), new Shape(96), 1,
                    a -> djlConv(a.get(0), a.get(1), a.get(2), 1, 3, 96))); // ConvNeXt block
            probes.add(new Probe(Kind.BATCH_NORM_TRAIN, "batch norm, training mode, 64 channels, 7x7, batch 4",
                    new Shape(4, 64, 7, 7), new Shape(64), new Shape(64), 1, a -> batchNormProbe(a, true)));
            probes.add(new Probe(Kind.BATCH_NORM_TRAIN, "batch norm 1d, training mode, 2560 features, batch 8",
                    new Shape(8, 2560), new Shape(2560), new Shape(2560), 1, a -> batchNormProbe(a, true)));
            probes.add(new Probe(Kind.BATCH_NORM_EVAL, "batch norm, inference mode, 320 channels, 7x7, batch 2",
                    new Shape(2, 320, 7, 7), new Shape(320), new Shape(320), 1, a -> batchNormProbe(a, false)));
            probes.add(new Probe(Kind.MAX_POOL, "max pool 3x3 stride 2, 64 channels, 28x28, batch 2",
                    new Shape(2, 64, 28, 28), null, null, 1, a -> stemMaxPool(a.get(0))));
            probes.add(new Probe(Kind.MAX_POOL, "global max pool, 1280 channels, 7x7, batch 2",
                    new Shape(2, 1280, 7, 7), null, null, 1, a -> Pool.globalMaxPool2d(a.get(0))));
            probes.add(new Probe(Kind.AVG_POOL, "global average pool, 1280 channels, 7x7, batch 2",
                    new Shape(2, 1280, 7, 7), null, null, 1, a -> Pool.globalAvgPool2d(a.get(0))));
            probes.add(new Probe(Kind.LINEAR, "linear 2560->512, batch 8",
                    new Shape(8, 2560), new Shape(512, 2560), null, 1, a -> Linear.linear(a.get(0), a.get(1))
                            .singletonOrThrow()));
            probes.add(new Probe(Kind.LINEAR, "linear 96->384 with bias on channels-last 14x14 maps, batch 2",
                    new Shape(2, 96, 14, 14), new Shape(384, 96), new Shape(384), 1, a -> Linear.linear(
                            a.get(0).transpose(0, 2, 3, 1), a.get(1), a.get(2)).singletonOrThrow())); // ConvNeXt
            probes.add(new Probe(Kind.LAYER_NORM, "layer norm over 96 channels of channels-last 14x14 maps, batch 2",
                    new Shape(2, 96, 14, 14), new Shape(96), new Shape(96), 1, a -> LayerNorm.layerNorm(
                            a.get(0).transpose(0, 2, 3, 1), new Shape(96), a.get(1), a.get(2), 1e-6f)
                            .singletonOrThrow()));
            probes.add(new Probe(Kind.LAYER_NORM, "layer norm over 768 features, batch 8",
                    new Shape(8, 768), new Shape(768), new Shape(768), 1, a -> LayerNorm.layerNorm(a.get(0),
                            new Shape(768), a.get(1), a.get(2), 1e-6f).singletonOrThrow()));
            probes.add(new Probe(Kind.ACTIVATION, "GELU, 384 channels, 14x14, batch 2",
                    new Shape(2, 384, 14, 14), null, null, 1, a -> Activation.gelu(a.get(0).mul(3))));
            probes.add(new Probe(Kind.ACTIVATION, "SiLU, 96 channels, 14x14, batch 2",
                    new Shape(2, 96, 14, 14), null, null, 1, a -> Torchvision.silu(a.get(0).mul(3))));
            probes.add(new Probe(Kind.ACTIVATION, "sigmoid, 96 channels, 14x14, batch 2",
                    new Shape(2, 96, 14, 14), null, null, 1, a -> Activation.sigmoid(a.get(0).mul(3))));
            probes.add(new Probe(Kind.LINEAR, "linear 1280->5 with bias, batch 8",
                    new Shape(8, 1280), new Shape(5, 1280), new Shape(5), 1, a -> Linear.linear(a.get(0), a.get(1),
                            a.get(2)).singletonOrThrow()));
            return probes;
        }

        /** Batch norm with fixed running statistics (the probe checks the output and gradients). */
        private static NDArray batchNormProbe(NDList a, boolean training) {
            NDArray x = a.get(0);
            long channels = x.getShape().get(1);
            NDManager manager = x.getManager();
            NDArray mean = manager.full(new Shape(channels), 0.1f).toType(x.getDataType(), false);
            NDArray var = manager.full(new Shape(channels), 1.5f).toType(x.getDataType(), false);
            return BatchNorm.batchNorm(x, mean, var, a.get(1), a.get(2), 1, Torchvision.BN_MOMENTUM_DJL,
                    Torchvision.BN_EPS, training).singletonOrThrow();
        }

        private static void pointwise(List<Probe> probes, int batch, int in, int out, int size) {
            conv(probes, Kind.POINTWISE_CONV, batch, in, out, size, 1, 1, 0, 1);
        }

        private static void conv(List<Probe> probes, Kind kind, int batch, int in, int out, int size, int kernel,
                int stride, int padding, int groups) {
            String description = String.format(Locale.ROOT, "%dx%d stride %d, %d->%d channels%s, %dx%d, batch %d",
                    kernel, kernel, stride, in, out, groups > 1 ? " (" + groups + " groups)" : "", size, size, batch);
            probes.add(new Probe(kind, description, new Shape(batch, in, size, size),
                    new Shape(out, in / groups, kernel, kernel), null, stride,
                    a -> djlConv(a.get(0), a.get(1), null, stride, padding, groups)));
        }
    }

    /**
     * Runs a probe's operation on a route: the fast path with any simulated fault, or the 1×1
     * convolution's matrix product (probes of other kinds have no other float32 route).
     */
    private NDArray forRoute(Probe probe, Route route, NDList inputs) {
        Kind kind = probe.kind();
        Function<NDList, NDArray> op = probe.op();
        if (route == Route.MATMUL) {
            return pointwiseAsMatmul(inputs.get(0), inputs.get(1), inputs.size() > 2 ? inputs.get(2) : null,
                    probe.stride());
        }
        long out = kind.name().endsWith("_CONV") || kind == Kind.LINEAR ? inputs.get(1).getShape().get(0) : 0;
        NDArray kernel = simulateFault(kind, op.apply(inputs), out);
        if (route == Route.FAST) {
            return kernel;
        }
        return corrected(kernel, inFloat64(inputs.get(0), inputs.size() > 1 ? inputs.get(1) : null,
                inputs.size() > 2 ? inputs.get(2) : null, op::apply));
    }

    /**
     * Refuses training where a kind of operation gives wrong gradients that no safe path corrects
     * (never seen so far; inference is unaffected, its values are corrected).
     *
     * @throws TunaException when training would compute wrong gradients on this machine
     */
    public void checkTraining() {
        String reason = blocked;
        if (reason != null) {
            throw new TunaException(TunaException.Kind.RUNTIME, "Cannot train on this machine: " + reason
                    + ". Set ONEDNN_MAX_CPU_ISA=AVX2 in the environment to make libtorch use other kernels, and"
                    + " report the CPU model (lscpu) with this message.");
        }
    }
}
