package dev.tuna.learn;

import dev.tuna.TunaException;
import java.util.Objects;

/**
 * One labelled image reduced to its pooled body features (the body in evaluation mode, then the head's
 * concat pooling), e.g. computed on a cluster by {@code dev.tuna.spark.Featurize}: what
 * {@link FeatureHead} trains fast.ai's head on.
 *
 * @param path where the image came from (its order decides the split, as sorted paths do for folders)
 * @param label its class (the parent folder's name)
 * @param features {@code 2 × body channels} floats (not copied: do not change them afterwards)
 */
public record FeatureRow(String path, String label, float[] features) {
    /**
     * Checks the components.
     *
     * @param path where the image came from
     * @param label its class
     * @param features its features
     * @throws TunaException ({@link TunaException.Kind#BAD_DATA}) when the label is empty or the
     *     features are missing
     */
    public FeatureRow {
        Objects.requireNonNull(path, "path");
        if (label == null || label.isEmpty()) {
            throw TunaException.badData("The feature row of " + path + " has no label; expected the name of"
                    + " the image's class (its parent folder).");
        }
        if (features == null || features.length == 0) {
            throw TunaException.badData("The feature row of " + path + " has no features; expected the"
                    + " pooled body features of the image (Featurize writes them).");
        }
    }
}
