package dev.tuna.internal.nn;


import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Builds torchvision's ResNet, MobileNetV2, ConvNeXt and EfficientNet from DJL blocks, recording every
 * parameter under its torchvision {@code state_dict} name (with its initialisation), so that torchvision
 * weight files load one-to-one. Every convolution is a {@link Conv}, every linear layer a
 * {@link CheckedLinear}, every batch norm an {@link ObservedBatchNorm} and every layer norm a
 * {@link CheckedLayerNorm}: all computed through {@link Numerics}.
 */
public final class Torchvision {
    /** torchvision's batch-norm epsilon. */
    public static final float BN_EPS = 1e-5f;
    /** torchvision's batch-norm momentum (0.1), in DJL's convention ({@code 1 - 0.1}). */
    public static final float BN_MOMENTUM_DJL = 0.9f;
    /** torchvision's ConvNeXt layer-norm epsilon. */
    public static final float LN_EPS = 1e-6f;

    /** torchvision's ConvNeXt initialisation of convolution and linear weights. */
    private static final ParameterInit CONVNEXT_INIT = ParameterInit.normal(0.02);

    private final NamedParameters names;
    private final boolean tfSame;
    private final StochasticDepth.Draws draws;

    /**
     * Creates a builder for networks without stochastic depth draws of their own (they are seeded 0).
     *
     * @param names where parameter names are recorded
     * @param tfSame whether stride-2 convolutions use TensorFlow "SAME" padding (MobileNetV2 weights
     *     converted from TensorFlow) instead of symmetric padding
     */
    public Torchvision(NamedParameters names, boolean tfSame) {
        this(names, tfSame, new StochasticDepth.Draws(0));
    }

    /**
     * Creates a builder.
     *
     * @param names where parameter names are recorded
     * @param tfSame whether stride-2 convolutions use TensorFlow "SAME" padding (MobileNetV2 weights
     *     converted from TensorFlow) instead of symmetric padding
     * @param draws the generator of the network's stochastic depth
     */
    public Torchvision(NamedParameters names, boolean tfSame, StochasticDepth.Draws draws) {
        this.names = names;
        this.tfSame = tfSame;
        this.draws = draws;
    }

    private Block conv(String name, int out, int kernel, int stride, int padding, int groups, boolean bias) {
        return conv(name, out, kernel, stride, padding, groups, bias, ParameterInit.kaimingFanOut());
    }

    private Block conv(String name, int out, int kernel, int stride, int padding, int groups, boolean bias,
            ParameterInit init) {
        Conv conv = new Conv(Conv2d.builder()
                .setKernelShape(new Shape(kernel, kernel))
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(padding, padding))
                .setFilters(out)
                .optGroups(groups)
                .optBias(bias));
        names.conv(name, conv, init);
        return conv;
    }

    /** A convolution whose padding follows torchvision ({@code (k-1)/2}) or TF SAME when strided. */
    private Block paddedConv(String name, int out, int kernel, int stride, int groups) {
        if (tfSame && stride > 1) {
            return new Chain().add(new TfSamePad(kernel, stride)).add(conv(name, out, kernel, stride, 0, groups,
                    false));
        }
        return conv(name, out, kernel, stride, (kernel - 1) / 2, groups, false);
    }

    /** A parameter-free pooling layer computed through {@link Numerics}. */
    private static Block pool(Op.Kind what, Numerics.Kind kind, UnaryOperator<NDArray> op) {
        return new Op(what, list -> new NDList(Numerics.current().pool(kind, list.singletonOrThrow(), op)));
    }

    private Block batchNorm(String name) {
        return batchNorm(name, 0f);
    }

    private Block batchNorm(String name, float shift) {
        BatchNorm norm = BatchNorm.builder().optEpsilon(BN_EPS).optMomentum(BN_MOMENTUM_DJL).build();
        return names.batchNorm(name, norm, shift);
    }

    private Block linear(String name, int out, boolean bias, ParameterInit init) {
        Linear linear = new CheckedLinear(Linear.builder().setUnits(out).optBias(bias));
        names.linear(name, linear, init);
        return linear;
    }

    /** Layer norm over the last axis ({@code channelsFirst} false) or over axis 1 of a feature map. */
    private Block layerNorm(String name, boolean channelsFirst) {
        CheckedLayerNorm norm = new CheckedLayerNorm(LN_EPS, channelsFirst);
        names.layerNorm(name, norm);
        return norm;
    }

    private Block stochasticDepth(double p) {
        return new StochasticDepth(p, draws);
    }

    /** A parameter-free permutation of the axes (a view). */
    private static Block permute(int... axes) {
        return new Op(Op.Kind.PERMUTE, list -> new NDList(list.singletonOrThrow().transpose(axes)), axes);
    }

    /** A smooth activation computed through {@link Numerics}. */
    private static Block activation(Op.Kind what, UnaryOperator<NDArray> op) {
        return new Op(what, list -> new NDList(Numerics.current().activation(list.singletonOrThrow(), op)));
    }

    /** ReLU, as DJL's ReLU block computes it, named for {@link OnnxGraph}. */
    private static Block relu() {
        return new Op(Op.Kind.RELU, list -> new NDList(Activation.relu(list.singletonOrThrow())));
    }

    /**
     * SiLU, {@code x · sigmoid(x)} (EfficientNet's activation; libtorch's own {@code silu} is not bound by
     * DJL 0.36).
     *
     * @param x input
     * @return {@code x · sigmoid(x)}
     */
    static NDArray silu(NDArray x) {
        NDArray gate = Activation.sigmoid(x);
        NDArray result = x.mul(gate);
        gate.close(); // autograd keeps what the backward pass needs
        return result;
    }

    // ---------------------------------------------------------------- torchvision's classifiers

    /**
     * torchvision's classifier after a body: global average pool, then an optional layer norm, an optional
     * dropout and the linear layer, with their torchvision names.
     *
     * @param layout the layer names and dropout
     * @param classes outputs of the linear layer
     * @return the classifier
     */
    public SequentialBlock classifier(ClassifierLayout layout, int classes) {
        SequentialBlock net = new Chain();
        net.add(pool(Op.Kind.GLOBAL_AVG_POOL, Numerics.Kind.AVG_POOL, Pool::globalAvgPool2d));
        layout.norm().ifPresent(name -> net.add(layerNorm(name, false)));
        if (layout.dropout() > 0) {
            net.add(Dropout.builder().optRate(layout.dropout()).build());
        }
        net.add(linear(layout.linear(), classes, true, layout.init()));
        return net;
    }

    /**
     * The layout of a torchvision classifier after the global pool (see {@link #classifier}).
     *
     * @param norm the name of a layer norm over the pooled features (ConvNeXt's {@code classifier.0}), if any
     * @param dropout the dropout rate before the linear layer (0: none)
     * @param linear the name of the linear layer, e.g. {@code fc} or {@code classifier.1}
     * @param init how the linear layer's weight starts (its bias starts at 0)
     */
    public record ClassifierLayout(Optional<String> norm, float dropout, String linear, ParameterInit init) {
        /**
         * Returns the top-level module of the classifier, which transfer learning cuts off: e.g. {@code fc},
         * {@code classifier}.
         *
         * @return the module name, without a trailing dot
         */
        public String module() {
            int dot = linear.indexOf('.');
            return dot < 0 ? linear : linear.substring(0, dot);
        }
    }

    // ---------------------------------------------------------------- ResNet

    /**
     * ResNet's body: everything before the average pool, i.e. conv1 … layer4.
     *
     * @param layers blocks per stage, e.g. {2, 2, 2, 2} for ResNet-18
     * @param bottleneck whether to use bottleneck blocks (ResNet-50 and deeper)
     * @return the body
     */
    public SequentialBlock resnetBody(int[] layers, boolean bottleneck) {
        SequentialBlock body = new Chain();
        body.add(conv("conv1", 64, 7, 2, 3, 1, false));
        body.add(batchNorm("bn1"));
        body.add(relu());
        body.add(pool(Op.Kind.STEM_MAX_POOL, Numerics.Kind.MAX_POOL, Numerics::stemMaxPool));
        int expansion = bottleneck ? 4 : 1;
        int inplanes = 64;
        int[] planes = {64, 128, 256, 512};
        for (int stage = 0; stage < 4; stage++) {
            for (int b = 0; b < layers[stage]; b++) {
                int stride = stage > 0 && b == 0 ? 2 : 1;
                String prefix = "layer" + (stage + 1) + "." + b;
                int width = planes[stage];
                SequentialBlock main = new Chain();
                if (bottleneck) {
                    main.add(conv(prefix + ".conv1", width, 1, 1, 0, 1, false)).add(batchNorm(prefix + ".bn1"))
                            .add(relu())
                            .add(conv(prefix + ".conv2", width, 3, stride, 1, 1, false)).add(batchNorm(prefix + ".bn2"))
                            .add(relu())
                            .add(conv(prefix + ".conv3", width * expansion, 1, 1, 0, 1, false))
                            .add(batchNorm(prefix + ".bn3"));
                } else {
                    main.add(conv(prefix + ".conv1", width, 3, stride, 1, 1, false)).add(batchNorm(prefix + ".bn1"))
                            .add(relu())
                            .add(conv(prefix + ".conv2", width, 3, 1, 1, 1, false)).add(batchNorm(prefix + ".bn2"));
                }
                Block shortcut = null;
                if (stride != 1 || inplanes != width * expansion) {
                    shortcut = new Chain()
                            .add(conv(prefix + ".downsample.0", width * expansion, 1, stride, 0, 1, false))
                            .add(batchNorm(prefix + ".downsample.1"));
                }
                body.add(new Residual(main, shortcut, true));
                inplanes = width * expansion;
            }
        }
        return body;
    }

    // ---------------------------------------------------------------- MobileNetV2

    private Block convBnRelu6(String prefix, int out, int kernel, int stride, int groups) {
        return new Chain()
                .add(paddedConv(prefix + ".0", out, kernel, stride, groups))
                .add(batchNorm(prefix + ".1"))
                .add(relu6());
    }

    private static Block relu6() {
        return new Relu6();
    }

    /**
     * MobileNetV2 (width 1.0) {@code features}: the body, ending with the 1×1 conv to 1280 channels.
     *
     * @return the body
     */
    public SequentialBlock mobilenetV2Body() {
        int[][] settings = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1},
            {6, 160, 3, 2}, {6, 320, 1, 1}};
        SequentialBlock features = new Chain();
        features.add(convBnRelu6("features.0", 32, 3, 2, 1));
        int input = 32;
        int index = 1;
        for (int[] s : settings) {
            int t = s[0];
            int c = s[1];
            for (int i = 0; i < s[2]; i++) {
                int stride = i == 0 ? s[3] : 1;
                String prefix = "features." + index + ".conv";
                int hidden = input * t;
                SequentialBlock main = new Chain();
                int layer = 0;
                if (t != 1) {
                    main.add(convBnRelu6(prefix + "." + layer++, hidden, 1, 1, 1));
                }
                main.add(convBnRelu6(prefix + "." + layer++, hidden, 3, stride, hidden));
                main.add(conv(prefix + "." + layer++, c, 1, 1, 0, 1, false));
                main.add(batchNorm(prefix + "." + layer));
                features.add(stride == 1 && input == c ? new Residual(main, null, false) : main);
                input = c;
                index++;
            }
        }
        features.add(convBnRelu6("features." + index, 1280, 1, 1, 1));
        return features;
    }

    // ---------------------------------------------------------------- ConvNeXt

    /**
     * ConvNeXt {@code features} (torchvision's {@code ConvNeXt} with layer scale 1e-6, layer norms with
     * epsilon 1e-6): {@code features.0} the 4×4 stride-4 stem and a {@code LayerNorm2d}; then the stages at
     * odd indices, each of {@code depths[i]} blocks ({@code features.<stage>.<block>.block.0} a depthwise
     * 7×7 convolution, {@code .2} a layer norm on channels-last maps, {@code .3} a linear layer to 4×
     * the channels, GELU, {@code .5} a linear layer back, then {@code .layer_scale} and stochastic depth
     * on the residual branch); between stages, at even indices, a {@code LayerNorm2d} ({@code .0}) and a
     * 2×2 stride-2 convolution ({@code .1}). Block {@code i} of all {@code n} drops its branch with
     * probability {@code stochasticDepth · i / (n − 1)} in training mode, as torchvision does.
     *
     * @param widths the channels of each stage, e.g. {96, 192, 384, 768} (Tiny)
     * @param depths the blocks of each stage, e.g. {3, 3, 9, 3} (Tiny)
     * @param stochasticDepth the drop probability of the last block (torchvision's ConvNeXt-Tiny: 0.1)
     * @return the body
     */
    public SequentialBlock convnextBody(int[] widths, int[] depths, double stochasticDepth) {
        SequentialBlock features = new Chain();
        features.add(new Chain().add(conv("features.0.0", widths[0], 4, 4, 0, 1, true, CONVNEXT_INIT))
                .add(layerNorm("features.0.1", true)));
        int total = java.util.Arrays.stream(depths).sum();
        int block = 0;
        int index = 1;
        for (int stage = 0; stage < widths.length; stage++) {
            int width = widths[stage];
            SequentialBlock blocks = new Chain();
            for (int b = 0; b < depths[stage]; b++) {
                String prefix = "features." + index + "." + b;
                LayerScale scale = new LayerScale();
                names.single(prefix + ".layer_scale", scale.scale(), ParameterInit.constant(1e-6f));
                SequentialBlock branch = new Chain()
                        .add(conv(prefix + ".block.0", width, 7, 1, 3, width, true, CONVNEXT_INIT))
                        .add(permute(0, 2, 3, 1))
                        .add(layerNorm(prefix + ".block.2", false))
                        .add(linear(prefix + ".block.3", 4 * width, true, CONVNEXT_INIT))
                        .add(activation(Op.Kind.GELU, Activation::gelu))
                        .add(linear(prefix + ".block.5", width, true, CONVNEXT_INIT))
                        .add(permute(0, 3, 1, 2))
                        .add(scale)
                        .add(stochasticDepth(stochasticDepth * block / (total - 1.0)));
                blocks.add(new Residual(branch, null, false));
                block++;
            }
            features.add(blocks);
            index++;
            if (stage + 1 < widths.length) {
                features.add(new Chain().add(layerNorm("features." + index + ".0", true))
                        .add(conv("features." + index + ".1", widths[stage + 1], 2, 2, 0, 1, true, CONVNEXT_INIT)));
                index++;
            }
        }
        return features;
    }

    // ---------------------------------------------------------------- EfficientNet

    /** EfficientNet-B0's stages: expansion, kernel, stride, input channels, output channels, blocks. */
    private static final int[][] EFFICIENTNET_B0 = {{1, 3, 1, 32, 16, 1}, {6, 3, 2, 16, 24, 2}, {6, 5, 2, 24, 40, 2},
        {6, 3, 2, 40, 80, 3}, {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1}};

    private Block convBnSilu(String prefix, int out, int kernel, int stride, int groups) {
        return new Chain()
                .add(paddedConv(prefix + ".0", out, kernel, stride, groups))
                .add(batchNorm(prefix + ".1"))
                .add(activation(Op.Kind.SILU, Torchvision::silu));
    }

    /** torchvision's {@code _make_divisible(v, 8)}: the nearest multiple of 8, at least 8 and ≥ 90% of v. */
    static int makeDivisible(double v) {
        int rounded = Math.max(8, (int) (v + 4) / 8 * 8);
        return rounded < 0.9 * v ? rounded + 8 : rounded;
    }

    /**
     * EfficientNet-B0 {@code features} (width and depth 1.0; batch norm with torchvision's defaults):
     * {@code features.0} a 3×3 stride-2 convolution to 32 channels with batch norm and SiLU; stages
     * {@code features.1} to {@code features.7} of MBConv blocks ({@code features.<stage>.<block>.block.<i>}:
     * a 1×1 expansion with batch norm and SiLU when the expansion is not 1, a depthwise convolution with
     * batch norm and SiLU, squeeze-and-excitation ({@code .fc1}, {@code .fc2}: to a quarter of the block's
     * input channels and back), a 1×1 projection with batch norm; a residual connection with stochastic
     * depth where stride and channels allow); {@code features.8} a 1×1 convolution to 1280 channels with
     * batch norm and SiLU. Block {@code i} of all {@code n} drops its branch with probability
     * {@code stochasticDepth · i / n} in training mode, as torchvision does.
     *
     * @param stochasticDepth the drop-probability scale (torchvision's EfficientNet-B0: 0.2)
     * @return the body
     */
    public SequentialBlock efficientNetB0Body(double stochasticDepth) {
        SequentialBlock features = new Chain();
        features.add(convBnSilu("features.0", EFFICIENTNET_B0[0][3], 3, 2, 1));
        int total = java.util.Arrays.stream(EFFICIENTNET_B0).mapToInt(s -> s[5]).sum();
        int block = 0;
        for (int stage = 0; stage < EFFICIENTNET_B0.length; stage++) {
            int[] s = EFFICIENTNET_B0[stage];
            SequentialBlock blocks = new Chain();
            for (int b = 0; b < s[5]; b++) {
                int input = b == 0 ? s[3] : s[4];
                int stride = b == 0 ? s[2] : 1;
                int expanded = makeDivisible(input * (double) s[0]);
                String prefix = "features." + (stage + 1) + "." + b + ".block.";
                SequentialBlock main = new Chain();
                int layer = 0;
                if (expanded != input) {
                    main.add(convBnSilu(prefix + layer++, expanded, 1, 1, 1));
                }
                main.add(convBnSilu(prefix + layer++, expanded, s[1], stride, expanded));
                int squeeze = Math.max(1, input / 4);
                String se = prefix + layer++;
                main.add(new SqueezeExcitation(conv(se + ".fc1", squeeze, 1, 1, 0, 1, true),
                        conv(se + ".fc2", expanded, 1, 1, 0, 1, true), squeeze));
                main.add(conv(prefix + layer + ".0", s[4], 1, 1, 0, 1, false)).add(batchNorm(prefix + layer + ".1"));
                if (stride == 1 && input == s[4]) {
                    main.add(stochasticDepth(stochasticDepth * block / total));
                    blocks.add(new Residual(main, null, false));
                } else {
                    blocks.add(main);
                }
                block++;
            }
            features.add(blocks);
        }
        features.add(convBnSilu("features." + (EFFICIENTNET_B0.length + 1), 1280, 1, 1, 1));
        return features;
    }

    // ---------------------------------------------------------------- fast.ai head

    /**
     * fast.ai's head for a body with {@code channels} outputs: concat(adaptive max pool, adaptive avg
     * pool) → flatten → [BatchNorm1d → Dropout → Linear (no bias) → ReLU] per hidden layer →
     * BatchNorm1d → Dropout → Linear(classes, no bias). Parameters are named {@code head.bn0},
     * {@code head.fc0}, {@code head.bn1}, {@code head.fc1}, ...
     *
     * @param hidden hidden layer widths (fast.ai: [512])
     * @param dropouts dropout before each linear layer (fast.ai: [0.25, 0.5]), one more than hidden
     * @param classes outputs
     * @return the head
     */
    public SequentialBlock head(List<Integer> hidden, List<Float> dropouts, int classes) {
        if (dropouts.size() != hidden.size() + 1) {
            throw new IllegalArgumentException("need " + (hidden.size() + 1) + " dropout rates, got " + dropouts.size());
        }
        SequentialBlock head = new Chain();
        head.add(new Concat(List.of(pool(Op.Kind.GLOBAL_MAX_POOL, Numerics.Kind.MAX_POOL, Pool::globalMaxPool2d),
                        pool(Op.Kind.GLOBAL_AVG_POOL, Numerics.Kind.AVG_POOL, Pool::globalAvgPool2d))));
        head.add(new Op(Op.Kind.FLATTEN, list -> new NDList(Blocks.batchFlatten(list.singletonOrThrow()))));
        for (int i = 0; i <= hidden.size(); i++) {
            head.add(batchNorm("head.bn" + i, 1e-3f)); // fast.ai: the head's batch norms start with bias 1e-3
            float rate = dropouts.get(i);
            if (rate > 0) {
                head.add(Dropout.builder().optRate(rate).build());
            }
            boolean last = i == hidden.size();
            head.add(linear("head.fc" + i, last ? classes : hidden.get(i), false, ParameterInit.kaimingFanIn()));
            if (!last) {
                head.add(relu());
            }
        }
        return head;
    }

}
