package dev.tuna.internal.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;

/**
 * fast.ai's Adam: decoupled weight decay ({@code p ← p · (1 − lr·wd)}) skipped for batch-norm
 * parameters and biases, first moment with the scheduled beta1, second moment with beta2, both
 * dampened and debiased with a per-parameter step count, and
 * {@code p ← p − lr/(1 − β1^t) · m / (sqrt(v/(1 − β2^t)) + eps)}. DJL's Adam has a fixed beta1,
 * L2-style decay and a global step, so this is written here.
 *
 * <p>Each step also zeroes the gradients it consumed: DJL's PyTorch gradient collector leaves them
 * to accumulate.
 */
public final class FastAdam implements AutoCloseable {
    /**
     * Optimizer settings.
     *
     * @param weightDecay decoupled weight decay (fast.ai: 0.01)
     * @param beta2 second-moment decay (fast.ai: 0.99)
     * @param eps denominator epsilon (fast.ai: 1e-5)
     */
    public record Settings(double weightDecay, double beta2, double eps) {
        /** fast.ai's defaults. */
        public static final Settings FASTAI = new Settings(0.01, 0.99, 1e-5);
    }

    /**
     * A parameter as the optimizer sees it.
     *
     * @param name its name
     * @param parameter the DJL parameter
     * @param group its parameter group (selects the learning rate)
     * @param decay whether weight decay applies (false for batch-norm parameters and biases)
     */
    public record Slot(String name, Parameter parameter, int group, boolean decay) {}

    /**
     * The slots of a network's trainable parameters (batch-norm running statistics excluded), with
     * fast.ai's decay rule: no weight decay on normalisation parameters and biases.
     *
     * @param parameters the parameters by name, in network order
     * @param group the parameter group of a name
     * @param norm whether a name belongs to a normalisation layer
     * @return the slots in network order
     */
    public static List<Slot> slots(Map<String, Parameter> parameters, ToIntFunction<String> group,
            Predicate<String> norm) {
        List<Slot> slots = new ArrayList<>();
        parameters.forEach((name, parameter) -> {
            if (!name.endsWith(".running_mean") && !name.endsWith(".running_var")) {
                boolean decay = !norm.test(name) && !name.endsWith(".bias");
                slots.add(new Slot(name, parameter, group.applyAsInt(name), decay));
            }
        });
        return slots;
    }

    private static final class State {
        int step;
        NDArray average;
        NDArray squares;
    }

    private final NDManager manager;
    private final Settings settings;
    private final Map<String, State> states = new HashMap<>();

    /**
     * Creates the optimizer.
     *
     * @param parent the manager its state lives under
     * @param settings the settings
     */
    public FastAdam(NDManager parent, Settings settings) {
        this.manager = parent.newSubManager();
        this.settings = settings;
    }

    /**
     * Returns the settings.
     *
     * @return the settings
     */
    public Settings settings() {
        return settings;
    }

    /**
     * Updates every slot whose parameter requires a gradient.
     *
     * @param slots the parameters
     * @param learningRates the current learning rate of each group
     * @param beta1 the current first-moment decay (momentum)
     */
    public void step(List<Slot> slots, double[] learningRates, double beta1) {
        double beta2 = settings.beta2();
        try (NDManager scope = manager.newSubManager()) {
            for (Slot slot : slots) {
                Parameter parameter = slot.parameter();
                if (!parameter.requiresGradient()) {
                    continue;
                }
                NDArray weight = parameter.getArray();
                NDArray gradient = weight.getGradient();
                double lr = learningRates[slot.group()];
                State state = states.computeIfAbsent(slot.name(), n -> new State());
                if (state.average == null) {
                    state.average = manager.zeros(weight.getShape());
                    state.squares = manager.zeros(weight.getShape());
                }
                if (slot.decay() && settings.weightDecay() != 0) {
                    weight.muli(1 - lr * settings.weightDecay());
                }
                NDArray g = gradient.duplicate();
                g.attach(scope);
                state.average.muli(beta1).addi(g.mul(1 - beta1));
                state.squares.muli(beta2).addi(g.square().muli(1 - beta2));
                state.step++;
                double debias1 = 1 - Math.pow(beta1, state.step);
                double debias2 = 1 - Math.pow(beta2, state.step);
                // Results of operations belong to the first operand's manager: keep temporaries in scope.
                NDArray scaled = state.squares.div(debias2);
                scaled.attach(scope);
                NDArray denominator = scaled.sqrt().addi(settings.eps());
                NDArray update = state.average.div(denominator);
                update.attach(scope);
                weight.subi(update.muli(lr / debias1));
                // DJL's PyTorch collector does not clear gradients: they would accumulate across steps.
                zero(gradient);
            }
        }
    }

    /**
     * Returns how many updates a parameter has had since the state was last cleared.
     *
     * @param name the parameter name
     * @return its step count (0 when it has no state)
     */
    public int steps(String name) {
        State state = states.get(name);
        return state == null ? 0 : state.step;
    }

    /**
     * Returns the first and second moments of a parameter, or null without state (for checkpoints and tests).
     *
     * @param name the parameter name
     * @return {average, squares} or null
     */
    public NDArray[] moments(String name) {
        State state = states.get(name);
        return state == null || state.average == null ? null : new NDArray[] {state.average, state.squares};
    }

    /**
     * A copy of the optimizer state: per parameter, its step count and moments.
     *
     * @param steps step count by parameter name
     * @param averages first moments by parameter name
     * @param squares second moments by parameter name
     */
    public record Snapshot(Map<String, Integer> steps, Map<String, float[]> averages, Map<String, float[]> squares) {}

    /**
     * Copies the state (for the learning-rate finder and checkpoints).
     *
     * @return the copy
     */
    public Snapshot snapshot() {
        Map<String, Integer> steps = new HashMap<>();
        Map<String, float[]> averages = new HashMap<>();
        Map<String, float[]> squares = new HashMap<>();
        states.forEach((name, state) -> {
            steps.put(name, state.step);
            if (state.average != null) {
                averages.put(name, state.average.toFloatArray());
                squares.put(name, state.squares.toFloatArray());
            }
        });
        return new Snapshot(steps, averages, squares);
    }

    /**
     * Replaces the state with a copy taken earlier.
     *
     * @param snapshot the copy
     * @param shapes the shape of each parameter by name
     */
    public void restore(Snapshot snapshot, Map<String, ai.djl.ndarray.types.Shape> shapes) {
        clearState();
        snapshot.steps().forEach((name, step) -> {
            State state = new State();
            state.step = step;
            float[] average = snapshot.averages().get(name);
            if (average != null) {
                state.average = manager.create(average, shapes.get(name));
                state.squares = manager.create(snapshot.squares().get(name), shapes.get(name));
            }
            states.put(name, state);
        });
    }

    /**
     * Sets every element to 0 in place, NaN and infinity included (unlike {@code x - x}).
     *
     * @param array the array, typically a gradient
     */
    public static void zero(NDArray array) {
        array.set(new ai.djl.ndarray.index.NDIndex("..."), 0);
    }

    /** Forgets every moment and step count, as fast.ai does at each freeze and unfreeze. */
    public void clearState() {
        for (State state : states.values()) {
            if (state.average != null) {
                state.average.close();
                state.squares.close();
            }
        }
        states.clear();
    }

    @Override
    public void close() {
        clearState();
        manager.close();
    }
}
