package dev.tuna.learn;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.tuna.data.DataLoaders;
import dev.tuna.inference.ArtifactMetadata;
import dev.tuna.internal.nn.Numerics;
import java.util.List;

/** What a model artifact records about a learner: the model's metadata and, for an export, how it was trained. */
final class ArtifactRecord {
    private ArtifactRecord() { }

    /**
     * The artifact's metadata.
     *
     * @param learner the learner
     * @param history whether to include the training record (an export) or only what prediction needs
     */
    static ArtifactMetadata metadata(Learner learner, boolean history) {
        DataLoaders data = learner.data();
        JsonObject training = history ? training(learner) : new JsonObject();
        if (data.spec().augment() != null) {
            training.add("augmentations", data.spec().augment().toJson()); // test-time augmentation reads it
        }
        return ArtifactMetadata.of(learner.network().architecture(), data.classes(), data.spec().size(),
                data.spec().resizeMethod(), data.spec().padMode(), data.spec().normalization(),
                learner.weights() != null && learner.weights().tfSamePadding(), learner.head(), learner.seed(),
                training);
    }

    /** The epoch table as a model records it. */
    static JsonArray history(List<EpochRecord> records) {
        JsonArray rows = new JsonArray();
        for (EpochRecord r : records) {
            JsonObject row = new JsonObject();
            row.addProperty("phase", r.phase().id());
            row.addProperty("epoch", r.epoch());
            row.addProperty("trainLoss", r.trainLoss());
            if (Double.isFinite(r.validLoss())) {
                row.addProperty("validLoss", r.validLoss());
                row.addProperty("errorRate", r.errorRate());
            }
            row.addProperty("seconds", r.seconds());
            rows.add(row);
        }
        return rows;
    }

    private static JsonObject training(Learner learner) {
        DataLoaders data = learner.data();
        JsonObject training = new JsonObject();
        training.addProperty("weights", learner.weights() == null ? "none (random initialisation)"
                : learner.weights().name());
        training.addProperty("labelSmoothing", learner.labelSmoothing());
        training.addProperty("trainImages", data.train().size());
        training.addProperty("validImages", data.valid().size());
        training.addProperty("batchSize", data.spec().batchSize());
        training.addProperty("dataSeed", data.spec().seed());
        training.addProperty("flip", data.spec().flip());
        for (Callback callback : learner.callbacks()) {
            if (callback instanceof BatchMix mix) {
                training.addProperty(mix.id(), mix.alpha());
            }
        }
        training.addProperty("freezeMode", learner.freezeMode().id());
        if (learner.lastPlan != null) {
            training.addProperty("plan", learner.lastPlan.describe());
        }
        if (learner.recipe != null) {
            training.add("recipe", learner.recipe.toJson());
        }
        training.add("history", history(learner.history()));
        List<String> numerics = Numerics.current().notes();
        if (!numerics.isEmpty()) { // a kernel of the training machine was wrong, and what was done instead
            JsonArray notes = new JsonArray();
            numerics.forEach(notes::add);
            training.add("numerics", notes);
        }
        return training;
    }
}
