package dev.tuna.learn;

import dev.tuna.TunaException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A training plan: stages run one after another by {@link Learner#fit(Plan)}, the one training loop.
 * {@code fit}, {@code fitOneCycle}, {@code fineTune} and progressive resizing are plans; so is any
 * schedule built by hand from {@link Stage}s and {@link Schedule}s. A plan is a value: it holds no
 * state, and the same plan on the same learner and seed trains the same way.
 *
 * <pre>{@code
 * // fast.ai's "train small, then big": fine-tune at 128 px, then again at 224 px
 * Plan plan = FineTune.DEFAULT.plan(2).atSize(128).then(FineTune.DEFAULT.plan(3).atSize(224));
 * learner.fit(plan);
 * }</pre>
 *
 * @param stages the stages, in order
 * @param settings what a resumed run must match about this plan (recorded in checkpoints)
 */
public record Plan(List<Stage> stages, Map<String, String> settings) {
    /**
     * Validates and copies.
     *
     * @param stages the stages, in order
     * @param settings what a resumed run must match about this plan (recorded in checkpoints)
     */
    public Plan {
        stages = List.copyOf(stages);
        settings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        if (stages.isEmpty()) {
            throw TunaException.usage("A training plan needs at least one stage.");
        }
    }

    /**
     * A plan of the given stages; its checkpoint settings describe them.
     *
     * @param stages the stages
     * @return the plan
     */
    public static Plan of(Stage... stages) {
        List<Stage> list = List.of(stages);
        return new Plan(list, Map.of("plan", describe(list)));
    }

    /**
     * This plan followed by another (e.g. progressive resizing: a plan at a small size, then one at the
     * full size).
     *
     * @param next the plan to run after this one
     * @return the combined plan
     */
    public Plan then(Plan next) {
        List<Stage> all = new ArrayList<>(stages);
        all.addAll(next.stages);
        Map<String, String> merged = new LinkedHashMap<>(next.settings);
        merged.put("plan", describe(all));
        return new Plan(all, merged);
    }

    /**
     * This plan with every stage at the given image size.
     *
     * @param size the image side in pixels
     * @return the plan
     */
    public Plan atSize(int size) {
        Map<String, String> changed = new LinkedHashMap<>(settings);
        List<Stage> sized = stages.stream().map(s -> s.withSize(size)).toList();
        changed.put("plan", describe(sized));
        return new Plan(sized, changed);
    }

    /**
     * This plan with one stage replaced (e.g. a stage a callback changed before it ran).
     *
     * @param index the stage's position
     * @param stage the new stage
     * @return the plan
     */
    public Plan withStage(int index, Stage stage) {
        List<Stage> changed = new ArrayList<>(stages);
        changed.set(index, stage);
        Map<String, String> settingsChanged = new LinkedHashMap<>(settings);
        settingsChanged.put("plan", describe(changed));
        return new Plan(changed, settingsChanged);
    }

    /**
     * Returns the number of epochs over all stages.
     *
     * @return the total
     */
    public int epochs() {
        return stages.stream().mapToInt(Stage::epochs).sum();
    }

    /**
     * Describes the plan, e.g. {@code "frozen 1 epoch (2 groups frozen), then unfrozen 3 epochs (0 groups frozen)"}.
     *
     * @return the description
     */
    public String describe() {
        return describe(stages);
    }

    private static String describe(List<Stage> stages) {
        return stages.stream().map(Stage::describe).collect(Collectors.joining(", then "));
    }
}
