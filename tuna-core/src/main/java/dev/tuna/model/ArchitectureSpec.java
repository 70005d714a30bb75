package dev.tuna.model;

import ai.djl.nn.SequentialBlock;
import dev.tuna.internal.nn.ParameterInit;
import dev.tuna.internal.nn.Torchvision;
import dev.tuna.internal.nn.Torchvision.ClassifierLayout;
import dev.tuna.transform.Normalization;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * Everything Tuna knows about one architecture, as data (fast.ai's {@code model_meta}: cut, split,
 * stats): every other class asks its {@link Architecture}, and nothing branches on which one it is.
 * Its known weights are the {@link PretrainedWeights#CATALOGUE} entries that name it (the first is the
 * default). Adding an architecture is one {@link Architecture} constant with its spec, its catalogue
 * entry, and its parity test against torchvision.
 *
 * @param id the name on the command line and in model files, e.g. "resnet18"
 * @param bodyChannels the channels the body outputs (fast.ai's head takes twice that)
 * @param body builds the body, torchvision's {@code features} (ResNet: {@code conv1} … {@code layer4}), with
 *     torchvision's parameter names; the argument is the stochastic-depth rate, which architectures
 *     without stochastic depth ignore
 * @param classifier torchvision's classifier after the body (pool, optional layer norm, dropout, linear):
 *     the complete network is body then classifier, and transfer learning cuts the classifier off
 *     (its module, {@link ClassifierLayout#module()}, is fast.ai's cut) to put fast.ai's head on the body
 * @param bodyModules the body's top-level modules in network order, as parameter-name prefixes (e.g.
 *     {@code conv1}, {@code layer1}, {@code features.0}); every body parameter belongs to exactly one
 * @param lateFrom the index in {@code bodyModules} where the second parameter group starts (fast.ai's
 *     split: group 0 is the early body, group 1 the late body, group 2 the head)
 * @param stochasticDepth torchvision's stochastic-depth rate for this architecture (0 when it has none)
 * @param normalization the input normalisation torchvision's ImageNet weights expect
 */
record ArchitectureSpec(String id, int bodyChannels, Body body, ClassifierLayout classifier,
        List<String> bodyModules, int lateFrom, double stochasticDepth, Normalization normalization) {

    /** Builds a body with a {@link Torchvision} builder. */
    @FunctionalInterface
    interface Body {
        /**
         * Builds the body.
         *
         * @param builder records names and chooses the padding
         * @param stochasticDepth the stochastic-depth rate
         * @return the body
         */
        SequentialBlock build(Torchvision builder, double stochasticDepth);
    }

    /** Validates and copies. */
    ArchitectureSpec {
        bodyModules = List.copyOf(bodyModules);
        if (lateFrom <= 0 || lateFrom >= bodyModules.size()) {
            throw new IllegalArgumentException(id + ": the late group must start inside the body: " + lateFrom);
        }
        if (!(stochasticDepth >= 0 && stochasticDepth < 1)) {
            throw new IllegalArgumentException(id + ": stochastic depth must be in [0, 1): " + stochasticDepth);
        }
    }

    // ------------------------------------------------------------------ the families

    /**
     * torchvision's ResNet: body {@code conv1} … {@code layer4}, classifier {@code fc}; fast.ai's split
     * {@code [conv1, bn1, layer1, layer2], [layer3, layer4]}.
     */
    static ArchitectureSpec resnet(String id, int[] layers, boolean bottleneck) {
        return new ArchitectureSpec(id, bottleneck ? 2048 : 512, (t, sd) -> t.resnetBody(layers, bottleneck),
                new ClassifierLayout(Optional.empty(), 0f, "fc", ParameterInit.normal(0.01)),
                List.of("conv1", "bn1", "layer1", "layer2", "layer3", "layer4"), 4, 0, Normalization.IMAGENET);
    }

    /**
     * torchvision's MobileNetV2 (width 1.0): body {@code features.0} … {@code features.18}, classifier dropout
     * 0.2 and {@code classifier.1}; split at {@code features.10}.
     */
    static ArchitectureSpec mobilenetV2(String id) {
        return new ArchitectureSpec(id, 1280, (t, sd) -> t.mobilenetV2Body(),
                new ClassifierLayout(Optional.empty(), 0.2f, "classifier.1", ParameterInit.normal(0.01)),
                features(19), 10, 0, Normalization.IMAGENET);
    }

    /**
     * torchvision's ConvNeXt-Tiny: body {@code features.0} (stem) … {@code features.7} (stage 4),
     * classifier {@code classifier.0} (layer norm) and {@code classifier.2}; stochastic depth 0.1. Split
     * as ResNet's, at the last two resolution stages: {@code [features.0–3]} (stem, stages 1 and 2),
     * {@code [features.4–7]} (downsampling to stage 3, stage 3, downsampling, stage 4).
     */
    static ArchitectureSpec convnextTiny(String id) {
        return new ArchitectureSpec(id, 768,
                (t, sd) -> t.convnextBody(new int[] {96, 192, 384, 768}, new int[] {3, 3, 9, 3}, sd),
                new ClassifierLayout(Optional.of("classifier.0"), 0f, "classifier.2", ParameterInit.normal(0.02)),
                features(8), 4, 0.1, Normalization.IMAGENET);
    }

    /**
     * torchvision's EfficientNet-B0: body {@code features.0} (stem) … {@code features.8} (1×1 to 1280),
     * classifier dropout 0.2 and {@code classifier.1}; stochastic depth 0.2. Split as ResNet's, at the
     * last two resolution stages (output stride 16 and 32): {@code [features.0–3]},
     * {@code [features.4–8]}.
     */
    static ArchitectureSpec efficientNetB0(String id) {
        return new ArchitectureSpec(id, 1280, (t, sd) -> t.efficientNetB0Body(sd),
                new ClassifierLayout(Optional.empty(), 0.2f, "classifier.1", ParameterInit.uniformByOutputs()),
                features(9), 4, 0.2, Normalization.IMAGENET);
    }

    /** {@code features.0} … {@code features.<count − 1>}. */
    private static List<String> features(int count) {
        return IntStream.range(0, count).mapToObj(i -> "features." + i).toList();
    }

    // ------------------------------------------------------------------ what the data answers

    /**
     * The parameter group of a parameter: 2 for the head (Tuna's {@code head.}) and torchvision's
     * classifier, else 0 or 1 by the body module it belongs to.
     *
     * @param name a parameter name
     * @return 0, 1 or 2
     * @throws IllegalArgumentException when the name belongs to no part of this architecture
     */
    int group(String name) {
        if (name.startsWith("head.") || isClassifier(name)) {
            return 2;
        }
        for (int i = 0; i < bodyModules.size(); i++) {
            if (name.startsWith(bodyModules.get(i) + ".")) {
                return i < lateFrom ? 0 : 1;
            }
        }
        throw new IllegalArgumentException(name + " is not a parameter of " + id);
    }

    /** Whether a parameter belongs to torchvision's classifier (what transfer learning cuts off). */
    boolean isClassifier(String name) {
        return name.startsWith(classifier.module() + ".");
    }
}
