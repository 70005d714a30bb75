package dev.tuna.model;

import ai.djl.nn.SequentialBlock;
import dev.tuna.TunaException;
import dev.tuna.internal.nn.Torchvision;
import dev.tuna.transform.Normalization;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The pretrained bodies Tuna knows, each built exactly as torchvision builds it, with the metadata
 * transfer learning needs: where the body ends, its output channels, its parameter groups for
 * discriminative learning rates, its stochastic depth, the input normalisation of torchvision's weights
 * and the catalogue's weights for it. Each constant is one {@link ArchitectureSpec}; nothing else in Tuna
 * branches on which architecture it is.
 */
public enum Architecture {
    /** ResNet-18 (11.7 M parameters), the reference architecture. */
    RESNET18(ArchitectureSpec.resnet("resnet18", new int[] {2, 2, 2, 2}, false)),
    /** ResNet-34 (21.8 M parameters). */
    RESNET34(ArchitectureSpec.resnet("resnet34", new int[] {3, 4, 6, 3}, false)),
    /** ResNet-50 (25.6 M parameters), bottleneck blocks (v1.5: stride on the 3×3 convolution). */
    RESNET50(ArchitectureSpec.resnet("resnet50", new int[] {3, 4, 6, 3}, true)),
    /** MobileNetV2, width 1.0 (3.5 M parameters). */
    MOBILENET_V2(ArchitectureSpec.mobilenetV2("mobilenet_v2")),
    /** ConvNeXt-Tiny (28.6 M parameters): layer norm, GELU, layer scale, stochastic depth 0.1. */
    CONVNEXT_TINY(ArchitectureSpec.convnextTiny("convnext_tiny")),
    /** EfficientNet-B0 (5.3 M parameters): MBConv with SiLU, squeeze-and-excitation, stochastic depth 0.2. */
    EFFICIENTNET_B0(ArchitectureSpec.efficientNetB0("efficientnet_b0"));

    private final ArchitectureSpec spec;

    Architecture(ArchitectureSpec spec) {
        this.spec = spec;
    }

    /** The data behind this constant. */
    ArchitectureSpec spec() {
        return spec;
    }

    /**
     * Returns the name used on the command line and in model files, e.g. "resnet18".
     *
     * @return the identifier
     */
    public String id() {
        return spec.id();
    }

    /**
     * Returns the number of channels the body outputs (the head's input is twice that).
     *
     * @return channels
     */
    public int bodyChannels() {
        return spec.bodyChannels();
    }

    /**
     * Returns the normalisation torchvision's ImageNet weights for this architecture expect.
     * Other weights may declare their own (see {@link PretrainedWeights#normalization()}).
     *
     * @return ImageNet mean and standard deviation
     */
    public Normalization normalization() {
        return spec.normalization();
    }

    /**
     * Returns torchvision's stochastic-depth rate for this architecture: the probability with which the
     * last residual block drops its branch for an image in training mode (earlier blocks less, linearly);
     * 0 for the architectures without stochastic depth (ResNet, MobileNetV2).
     *
     * @return the rate, in [0, 1)
     */
    public double stochasticDepth() {
        return spec.stochasticDepth();
    }

    /**
     * Returns the catalogue's weights for this architecture, the default (torchvision's ImageNet weights)
     * first.
     *
     * @return the entries, never empty
     */
    public List<PretrainedWeights> weights() {
        return PretrainedWeights.CATALOGUE.stream().filter(w -> w.architecture() == this).toList();
    }

    /**
     * Returns the parameter group of a parameter for discriminative learning rates: 0 for the early body,
     * 1 for the late body, 2 for the head (and torchvision's classifier). ResNet: [stem, layer1, layer2],
     * [layer3, layer4]; MobileNetV2: [features 0–9], [features 10–18]; ConvNeXt-Tiny: [features 0–3],
     * [features 4–7]; EfficientNet-B0: [features 0–3], [features 4–8].
     *
     * @param name a torchvision parameter name, or a head parameter ({@code head.})
     * @return 0, 1 or 2
     * @throws IllegalArgumentException when the name belongs to no part of this architecture
     */
    public int group(String name) {
        return spec.group(name);
    }

    /**
     * Builds the body (everything before the global pool) with torchvision parameter names.
     *
     * @param builder records names and chooses the padding
     * @param stochasticDepth the stochastic-depth rate (ignored by architectures without it)
     * @return the body
     */
    SequentialBlock body(Torchvision builder, double stochasticDepth) {
        return spec.body().build(builder, stochasticDepth);
    }

    /**
     * Builds torchvision's classifier that follows the body (pool, {@code fc} or {@code classifier}).
     *
     * @param builder records names
     * @param classes the classifier's outputs (1000 for ImageNet)
     * @return the classifier
     */
    SequentialBlock classifier(Torchvision builder, int classes) {
        return builder.classifier(spec.classifier(), classes);
    }

    /**
     * Parses an identifier such as "resnet18" or "mobilenet_v2" (case and '-'/'_' insensitive).
     *
     * @param name the name
     * @return the architecture
     * @throws TunaException naming the known architectures
     */
    public static Architecture parse(String name) {
        String key = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        for (Architecture arch : values()) {
            if (arch.id().equals(key) || arch.id().replace("_", "").equals(key.replace("_", ""))) {
                return arch;
            }
        }
        throw TunaException.usage("Unknown architecture '" + name + "'; expected one of " + ids() + ".");
    }

    /**
     * Returns every architecture's identifier, comma-separated, for messages and help texts.
     *
     * @return e.g. "resnet18, resnet34, ..."
     */
    public static String ids() {
        return Arrays.stream(values()).map(Architecture::id).collect(Collectors.joining(", "));
    }
}
