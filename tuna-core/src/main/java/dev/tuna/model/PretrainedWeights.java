package dev.tuna.model;

import dev.tuna.TunaException;
import dev.tuna.transform.Normalization;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A catalogue entry: a set of pretrained weights, where to get them, how to check them, and what they
 * need from the network and the data pipeline. Differences between weight sets (input
 * normalisation, TensorFlow padding, folded batch norm) are carried here as metadata, so nothing
 * downstream special-cases a file.
 *
 * @param name the catalogue name, e.g. "resnet18"
 * @param architecture the architecture the weights are for
 * @param fileName the file name in the cache
 * @param url where to download it from, or empty when it cannot be downloaded
 * @param sha256 the expected SHA-256 in hex: the full digest, or a prefix of at least 8 digits
 *     (torchvision publishes the first 8 in its file names and checks only those)
 * @param normalization the input normalisation the weights were trained with
 * @param tfSamePadding whether strided convolutions need TensorFlow "SAME" padding
 * @param foldedBatchNorm whether batch norm was folded into the convolutions (identity BN layers),
 *     which requires {@link BatchNormRecalibration} before training with batch norm in training mode
 * @param description one line for people
 */
public record PretrainedWeights(String name, Architecture architecture, String fileName, Optional<String> url,
        String sha256, Normalization normalization, boolean tfSamePadding, boolean foldedBatchNorm,
        String description) {

    /** torchvision's ResNet-18 IMAGENET1K_V1 (69.8% top-1). */
    public static final PretrainedWeights RESNET18 = torchvision("resnet18", Architecture.RESNET18,
            "resnet18-f37072fd.pth", "f37072fd", "torchvision ResNet-18 IMAGENET1K_V1 (top-1 69.76%)");
    /** torchvision's ResNet-34 IMAGENET1K_V1. */
    public static final PretrainedWeights RESNET34 = torchvision("resnet34", Architecture.RESNET34,
            "resnet34-b627a593.pth", "b627a593", "torchvision ResNet-34 IMAGENET1K_V1 (top-1 73.31%)");
    /** torchvision's ResNet-50 IMAGENET1K_V1. */
    public static final PretrainedWeights RESNET50 = torchvision("resnet50", Architecture.RESNET50,
            "resnet50-0676ba61.pth", "0676ba61", "torchvision ResNet-50 IMAGENET1K_V1 (top-1 76.13%)");
    /** torchvision's MobileNetV2 IMAGENET1K_V1. */
    public static final PretrainedWeights MOBILENET_V2 = torchvision("mobilenet_v2", Architecture.MOBILENET_V2,
            "mobilenet_v2-b0353104.pth", "b0353104", "torchvision MobileNetV2 IMAGENET1K_V1 (top-1 71.88%)");
    /** torchvision's ConvNeXt-Tiny IMAGENET1K_V1. */
    public static final PretrainedWeights CONVNEXT_TINY = torchvision("convnext_tiny", Architecture.CONVNEXT_TINY,
            "convnext_tiny-983f1562.pth", "983f1562", "torchvision ConvNeXt-Tiny IMAGENET1K_V1 (top-1 82.52%)");
    /**
     * torchvision's EfficientNet-B0 IMAGENET1K_V1 (ported from timm by Ross Wightman), under the file name of
     * torchvision 0.17 and later. Older torchvision (0.14 on Debian among them) names the file
     * {@code efficientnet_b0_rwightman-3dd342df.pth}, although its SHA-256 starts with 7f5810bc
     * (pytorch/vision issues 7744 and 8034): torchvision renamed it to match. A copy under the old name
     * loads when passed as a file.
     */
    public static final PretrainedWeights EFFICIENTNET_B0 = torchvision("efficientnet_b0",
            Architecture.EFFICIENTNET_B0, "efficientnet_b0_rwightman-7f5810bc.pth", "7f5810bc",
            "torchvision EfficientNet-B0 IMAGENET1K_V1 (top-1 77.69%)");
    /**
     * MobileNetV2 ImageNet weights converted from TensorFlow Lite (Coral test data, dequantized QAT
     * model) into torchvision names: needs {@code x / 127.5 - 1}, TF "SAME" padding and batch-norm
     * recalibration. Not downloadable; provided as a file (see PROVENANCE.md beside it).
     */
    public static final PretrainedWeights MOBILENET_V2_TFLITE = new PretrainedWeights("mobilenet_v2_tflite",
            Architecture.MOBILENET_V2, "mobilenet_v2_1.0_224_quant.tv.safetensors", Optional.empty(),
            "7badc57c5777626bf11174fef37ed97518b5d29e8a916a3c965d5056caff7c46", Normalization.MINUS_ONE_TO_ONE,
            true, true, "MobileNetV2 1.0/224 from TFLite (dequantized QAT), torchvision layout");

    /**
     * The second MobileNetV2 of the same source: TF2's MobileNetV2, post-training quantized per channel,
     * dequantized into torchvision names; the same input range, padding and folded batch norm as
     * {@link #MOBILENET_V2_TFLITE}. Not downloadable; provided as a file (see PROVENANCE.md beside it).
     */
    public static final PretrainedWeights MOBILENET_V2_TF2_PTQ = new PretrainedWeights("mobilenet_v2_tf2_ptq",
            Architecture.MOBILENET_V2, "tf2_mobilenet_v2_1.0_224_ptq.tv.safetensors", Optional.empty(),
            "ee62e3ea4de1944ff79b2a343560ed92a36256dc752048d091bb0ee239f36e67", Normalization.MINUS_ONE_TO_ONE,
            true, true, "MobileNetV2 1.0/224 from TF2 via TFLite (dequantized per-channel PTQ), torchvision layout");

    /**
     * Every entry, in a stable order. An architecture's first entry is its default (torchvision's ImageNet
     * weights, downloadable); {@link WeightCatalog#preferred} takes the first one already on disk.
     */
    public static final List<PretrainedWeights> CATALOGUE = List.of(RESNET18, RESNET34, RESNET50, MOBILENET_V2,
            MOBILENET_V2_TFLITE, MOBILENET_V2_TF2_PTQ, CONVNEXT_TINY, EFFICIENTNET_B0);

    /**
     * Validates the checksum format.
     *
     * @param name the catalogue name, e.g. "resnet18"
     * @param architecture the architecture the weights are for
     * @param fileName the file name in the cache
     * @param url where to download it from, or empty when it cannot be downloaded
     * @param sha256 the expected SHA-256 in hex: the full digest, or a prefix of at least 8 digits
     *     (torchvision publishes the first 8 in its file names and checks only those)
     * @param normalization the input normalisation the weights were trained with
     * @param tfSamePadding whether strided convolutions need TensorFlow "SAME" padding
     * @param foldedBatchNorm whether batch norm was folded into the convolutions (identity BN layers),
     *     which requires {@link BatchNormRecalibration} before training with batch norm in training mode
     * @param description one line for people
     */
    public PretrainedWeights {
        if (!sha256.matches("[0-9a-f]{8,64}")) {
            throw new IllegalArgumentException("sha256 must be 8 to 64 lowercase hex digits: " + sha256);
        }
    }

    private static PretrainedWeights torchvision(String name, Architecture arch, String file, String prefix,
            String description) {
        return new PretrainedWeights(name, arch, file, Optional.of("https://download.pytorch.org/models/" + file),
                prefix, Normalization.IMAGENET, false, false, description);
    }

    /**
     * Whether a file's digest satisfies this entry's checksum.
     *
     * @param digestHex the file's full SHA-256 in lowercase hex
     * @return true when it matches (the full digest, or the published prefix)
     */
    public boolean accepts(String digestHex) {
        return digestHex.startsWith(sha256);
    }

    /**
     * Finds an entry by name ("resnet18", "mobilenet_v2_tflite", ...).
     *
     * @param name the name
     * @return the entry
     * @throws TunaException listing the known names
     */
    public static PretrainedWeights named(String name) {
        String key = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        for (PretrainedWeights weights : CATALOGUE) {
            if (weights.name.equals(key)) {
                return weights;
            }
        }
        throw TunaException.usage("Unknown weights '" + name + "'; the catalogue has "
                + CATALOGUE.stream().map(PretrainedWeights::name).collect(Collectors.joining(", "))
                + ". Or pass a .pth or .safetensors file.");
    }

    /**
     * Returns the default weights of an architecture: its first catalogue entry (torchvision's ImageNet
     * weights).
     *
     * @param architecture the architecture
     * @return the entry
     */
    public static PretrainedWeights defaultFor(Architecture architecture) {
        return architecture.weights().get(0);
    }
}
