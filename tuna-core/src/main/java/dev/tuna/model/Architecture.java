package dev.tuna.model;

import ai.djl.nn.SequentialBlock;
import dev.tuna.TunaException;
import dev.tuna.internal.nn.Torchvision;
import dev.tuna.transform.Normalization;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The pretrained bodies Tuna knows, each built exactly as torchvision builds it, with the metadata
 * transfer learning needs: where the body ends, its output channels, its parameter groups for
 * discriminative learning rates, and the input normalisation of torchvision's weights.
 */
public enum Architecture {
    /** ResNet-18 (11.7 M parameters), the reference architecture. */
    RESNET18("resnet18", 512, new int[] {2, 2, 2, 2}, false),
    /** ResNet-34 (21.8 M parameters). */
    RESNET34("resnet34", 512, new int[] {3, 4, 6, 3}, false),
    /** ResNet-50 (25.6 M parameters), bottleneck blocks (v1.5: stride on the 3×3 convolution). */
    RESNET50("resnet50", 2048, new int[] {3, 4, 6, 3}, true),
    /** MobileNetV2, width 1.0 (3.5 M parameters). */
    MOBILENET_V2("mobilenet_v2", 1280, null, false);

    private final String id;
    private final int bodyChannels;
    private final int[] resnetLayers;
    private final boolean bottleneck;

    Architecture(String id, int bodyChannels, int[] resnetLayers, boolean bottleneck) {
        this.id = id;
        this.bodyChannels = bodyChannels;
        this.resnetLayers = resnetLayers;
        this.bottleneck = bottleneck;
    }

    /**
     * Returns the name used on the command line and in model files, e.g. "resnet18".
     *
     * @return the identifier
     */
    public String id() {
        return id;
    }

    /**
     * Returns the number of channels the body outputs (the head's input is twice that).
     *
     * @return channels
     */
    public int bodyChannels() {
        return bodyChannels;
    }

    /**
     * Returns the normalisation torchvision's ImageNet weights for this architecture expect.
     * Other weights may declare their own (see {@link PretrainedWeights#normalization()}).
     *
     * @return ImageNet mean and standard deviation
     */
    public Normalization normalization() {
        return Normalization.IMAGENET;
    }

    /**
     * Returns the parameter group of a body parameter for discriminative learning rates: 0 for the
     * early layers, 1 for the late layers (ResNet: [stem, layer1, layer2], [layer3, layer4];
     * MobileNetV2: [features 0–9], [features 10–18]). The head is group 2.
     *
     * @param name a torchvision parameter name
     * @return 0, 1 or 2
     */
    public int group(String name) {
        if (name.startsWith("head.") || name.startsWith("fc.") || name.startsWith("classifier.")) {
            return 2;
        }
        if (this == MOBILENET_V2) {
            String rest = name.substring("features.".length());
            int index = Integer.parseInt(rest.substring(0, rest.indexOf('.')));
            return index <= 9 ? 0 : 1;
        }
        return name.startsWith("layer3.") || name.startsWith("layer4.") ? 1 : 0;
    }

    /**
     * Builds the body (everything before the global pool) with torchvision parameter names.
     *
     * @param builder records names and chooses the padding
     * @return the body
     */
    SequentialBlock body(Torchvision builder) {
        return this == MOBILENET_V2 ? builder.mobilenetV2Body() : builder.resnetBody(resnetLayers, bottleneck);
    }

    /**
     * Builds torchvision's complete classifier (body, pool, {@code fc} or {@code classifier}).
     *
     * @param builder records names and chooses the padding
     * @param classes the classifier's outputs (1000 for ImageNet)
     * @return the network
     */
    SequentialBlock complete(Torchvision builder, int classes) {
        return this == MOBILENET_V2 ? builder.mobilenetV2(classes) : builder.resnet(resnetLayers, bottleneck, classes);
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
            if (arch.id.equals(key) || arch.id.replace("_", "").equals(key.replace("_", ""))) {
                return arch;
            }
        }
        throw TunaException.usage("Unknown architecture '" + name + "'; expected one of "
                + Arrays.stream(values()).map(Architecture::id).collect(Collectors.joining(", ")) + ".");
    }
}
