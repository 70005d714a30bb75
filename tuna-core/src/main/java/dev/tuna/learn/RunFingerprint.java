package dev.tuna.learn;

import dev.tuna.TunaException;
import dev.tuna.data.DataLoader;
import dev.tuna.data.ImageItem;
import dev.tuna.internal.io.Digests;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What a resumed run must match: a description of the data, the model, the settings and the plan. */
final class RunFingerprint {
    private RunFingerprint() { }

    /** The run's description, in a fixed order. */
    static Map<String, String> of(Learner learner, Plan plan) {
        Map<String, String> run = new LinkedHashMap<>();
        var spec = learner.data().spec();
        run.put("data", data(learner.data().train(), learner.data().valid()));
        run.put("classes", String.join(",", learner.data().classes()));
        run.put("architecture", learner.network().architecture().id());
        run.put("weights", learner.weights() == null ? "none" : learner.weights().name());
        run.put("head", learner.head().toString());
        run.put("size", Integer.toString(spec.size()));
        run.put("resize", spec.resizeMethod() + "/" + spec.padMode());
        run.put("normalization", spec.normalization().toString());
        run.put("batchSize", Integer.toString(spec.batchSize()));
        run.put("flip", Boolean.toString(spec.flip()));
        if (spec.augment() != null) {
            run.put("augment", spec.augment().toString());
        }
        for (Callback callback : learner.callbacks()) {
            if (callback instanceof BatchMix mix) {
                run.put(mix.id(), Double.toString(mix.alpha()));
            }
        }
        run.put("dataSeed", Long.toString(spec.seed()));
        run.put("seed", Long.toString(learner.seed()));
        run.put("optimizer", learner.optimizer().settings().toString());
        run.put("freezeMode", learner.freezeMode().id());
        run.putAll(plan.settings());
        return run;
    }

    /** Fails with every difference between the checkpoint's run and this one. */
    static void check(Path folder, Map<String, String> then, Map<String, String> now) {
        List<String> differences = new ArrayList<>();
        Set<String> keys = new LinkedHashSet<>(now.keySet());
        keys.addAll(then.keySet());
        for (String key : keys) {
            String before = then.getOrDefault(key, "(not recorded)");
            String current = now.getOrDefault(key, "(not recorded)");
            if (!before.equals(current)) {
                differences.add(key + ": checkpoint " + before + ", now " + current);
            }
        }
        if (!differences.isEmpty()) {
            throw TunaException.usage("The checkpoint in " + folder + " is from a different run, so it cannot be"
                    + " resumed: " + String.join("; ", differences) + ". Resume with the data and options of the"
                    + " interrupted run, or start a new run without --resume (which replaces the checkpoint).");
        }
    }

    /** Item paths, labels and file sizes of both splits, hashed: any change to the data shows. */
    private static String data(DataLoader train, DataLoader valid) {
        MessageDigest digest = Digests.sha256();
        for (DataLoader loader : List.of(train, valid)) {
            digest.update((loader.name() + "\n").getBytes(StandardCharsets.UTF_8));
            for (ImageItem item : loader.items()) {
                long size;
                try {
                    size = Files.size(item.path());
                } catch (IOException e) {
                    size = -1;
                }
                digest.update((item.relativePath() + "\t" + item.label() + "\t" + size + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
        String hex = HexFormat.of().formatHex(digest.digest()).substring(0, 16);
        return train.size() + " training + " + valid.size() + " validation images (" + hex + ")";
    }
}
