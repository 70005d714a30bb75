package dev.tuna.learn;

import com.google.gson.JsonObject;
import dev.tuna.TunaException;
import dev.tuna.data.ImageFolder;
import dev.tuna.transform.AugTransforms;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A complete training recipe: image sizes, epochs, augmentation, loss, batch mixing and test-time
 * augmentation — what {@link Budget} chooses for a wall-time budget, and what a model artifact records.
 * A recipe is a value; {@link #data}, {@link #plan} and {@link #callbacks} turn it into Tuna's pieces.
 *
 * @param size the final image side in pixels
 * @param smallSize the side of the progressive-resizing epochs, or 0 for none
 * @param smallEpochs unfrozen epochs at {@code smallSize} (0 without progressive resizing)
 * @param epochs unfrozen epochs at {@code size}
 * @param augment the training augmentation (fast.ai's {@code aug_transforms}), or null for flips only
 * @param labelSmoothing the loss's label smoothing
 * @param mixup MixUp's alpha, or 0 for none
 * @param tta whether predictions on test images use test-time augmentation
 * @param estimatedSeconds the wall time the recipe is estimated to take, everything included
 */
public record Recipe(int size, int smallSize, int smallEpochs, int epochs, AugTransforms augment, double labelSmoothing,
        double mixup, boolean tta, double estimatedSeconds) {
    /**
     * Validates the recipe.
     *
     * @param size the final image side in pixels
     * @param smallSize the side of the progressive-resizing epochs, or 0 for none
     * @param smallEpochs unfrozen epochs at {@code smallSize} (0 without progressive resizing)
     * @param epochs unfrozen epochs at {@code size}
     * @param augment the training augmentation (fast.ai's {@code aug_transforms}), or null for flips only
     * @param labelSmoothing the loss's label smoothing
     * @param mixup MixUp's alpha, or 0 for none
     * @param tta whether predictions on test images use test-time augmentation
     * @param estimatedSeconds the wall time the recipe is estimated to take, everything included
     */
    public Recipe {
        if (size < 8 || epochs < 1 || smallEpochs < 0 || (smallSize != 0 && (smallSize < 8 || smallSize >= size))
                || (smallSize == 0) != (smallEpochs == 0)) {
            throw TunaException.usage("Invalid recipe: size " + size + ", small size " + smallSize + ", epochs "
                    + smallEpochs + " + " + epochs + ".");
        }
    }

    /**
     * Returns whether the recipe starts small (progressive resizing).
     *
     * @return true with a small size
     */
    public boolean progressive() {
        return smallSize > 0;
    }

    /**
     * Returns the side the data is first decoded at.
     *
     * @return the small size with progressive resizing, else the size
     */
    public int firstSize() {
        return progressive() ? smallSize : size;
    }

    /**
     * Returns the data specification for this recipe: the first size, the augmentation.
     *
     * @param spec the user's data
     * @return the specification to build loaders from
     */
    public ImageFolder data(ImageFolder spec) {
        ImageFolder sized = spec.resize(firstSize(), spec.resizeMethod());
        return augment != null ? sized.augment(augment) : sized.flip(true);
    }

    /**
     * Returns the training plan: fast.ai's {@code fine_tune} (one frozen epoch, then the unfrozen ones);
     * with progressive resizing, the first unfrozen epochs at the small size and a second one-cycle at
     * the full size.
     *
     * @param settings the fine-tuning settings (base learning rate and so on)
     * @return the plan
     */
    public Plan plan(FineTune settings) {
        if (!progressive()) {
            return settings.withFreezeEpochs(1).plan(epochs);
        }
        Stage large = settings.plan(epochs).stages().get(1).withSize(size);
        return settings.withFreezeEpochs(1).plan(smallEpochs).atSize(smallSize).then(Plan.of(large));
    }

    /**
     * Returns the callbacks the recipe needs (MixUp).
     *
     * @return the callbacks, possibly none
     */
    public List<Callback> callbacks() {
        List<Callback> list = new ArrayList<>();
        if (mixup > 0) {
            list.add(BatchMix.mixup(mixup));
        }
        return list;
    }

    /**
     * Returns the total number of epochs, frozen one included.
     *
     * @return epochs
     */
    public int totalEpochs() {
        return 1 + smallEpochs + epochs;
    }

    /**
     * Describes the recipe in one line, e.g.
     * {@code "plan: 160→224 px, 1+8 epochs, aug_transforms, label smoothing 0.1, TTA; estimated 14 min"}.
     *
     * @return the line
     */
    public String describe() {
        StringBuilder line = new StringBuilder("plan: ");
        line.append(progressive() ? smallSize + "→" + size : Integer.toString(size)).append(" px, 1+")
                .append(smallEpochs + epochs).append(" epochs").append(progressive()
                        ? " (" + (1 + smallEpochs) + " at " + smallSize + " px)" : "")
                .append(augment != null ? ", aug_transforms" : ", flips");
        if (labelSmoothing > 0) {
            line.append(String.format(Locale.ROOT, ", label smoothing %s", trim(labelSmoothing)));
        }
        if (mixup > 0) {
            line.append(", MixUp ").append(trim(mixup));
        }
        if (tta) {
            line.append(", TTA");
        }
        return line.append("; estimated ").append(minutes(estimatedSeconds)).toString();
    }

    /**
     * Returns the recipe as JSON, for the model artifact's training record.
     *
     * @return the object
     */
    public JsonObject toJson() {
        JsonObject json = new JsonObject();
        json.addProperty("size", size);
        if (progressive()) {
            json.addProperty("smallSize", smallSize);
            json.addProperty("smallEpochs", smallEpochs);
        }
        json.addProperty("frozenEpochs", 1);
        json.addProperty("epochs", epochs);
        json.addProperty("augment", augment != null ? "aug_transforms" : "flip");
        json.addProperty("labelSmoothing", labelSmoothing);
        json.addProperty("mixup", mixup);
        json.addProperty("tta", tta);
        json.addProperty("estimatedSeconds", Math.round(estimatedSeconds));
        json.addProperty("description", describe());
        return json;
    }

    /** A duration for people: "45 s", "14 min", "1 h 05 min". */
    static String minutes(double seconds) {
        long s = Math.round(seconds);
        if (s < 90) {
            return s + " s";
        }
        long m = Math.round(seconds / 60);
        return m < 60 ? m + " min" : String.format(Locale.ROOT, "%d h %02d min", m / 60, m % 60);
    }

    private static String trim(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
    }
}
