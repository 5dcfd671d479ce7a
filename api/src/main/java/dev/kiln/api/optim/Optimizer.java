package dev.kiln.api.optim;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.api.nn.Parameter;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their gradients. Each optimizer is one fused composite op per parameter,
 * which a plugin may implement as a single pass; the same {@link #update} serves eager loops and
 * compiled training steps. The learning rate and the step count are tensors, so schedules change
 * them without recompiling.
 */
public abstract class Optimizer {
    private double learningRate;
    private final Map<Parameter, List<Tensor>> state = new IdentityHashMap<>();
    private long steps;

    protected Optimizer(double learningRate) {
        if (!(learningRate > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
        this.learningRate = learningRate;
    }

    public double learningRate() { return learningRate; }

    public void setLearningRate(double lr) { this.learningRate = lr; }

    /** How many state tensors (momentum, moments) each parameter carries, each shaped like it. */
    public abstract int stateSize();

    /**
     * The new parameter value followed by the new state, from the parameter, its gradient, its
     * state, the learning rate and the 1-based step number (both scalars).
     */
    public abstract List<Tensor> update(Tensor param, Tensor grad, List<Tensor> state, Tensor lr, Tensor step);

    /** One eager step: updates every parameter in place from {@code grads} (same order). */
    public void step(Kiln kiln, List<Parameter> params, List<Tensor> grads) {
        if (params.size() != grads.size()) throw new IllegalArgumentException(params.size() + " parameters but " + grads.size() + " gradients");
        steps++;
        Tensor lr = kiln.scalar(learningRate), t = kiln.scalar(steps);
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            Tensor value = p.value(kiln);
            List<Tensor> s = state.computeIfAbsent(p, k -> zeros(kiln, value));
            List<Tensor> out = update(value, grads.get(i), s, lr, t);
            p.assign(out.getFirst());
            s.forEach(Tensor::close);
            state.put(p, new ArrayList<>(out.subList(1, out.size())));
        }
    }

    private List<Tensor> zeros(Kiln kiln, Tensor like) {
        List<Tensor> z = new ArrayList<>();
        for (int i = 0; i < stateSize(); i++) z.add(kiln.zeros(like.shape().dims()));
        return z;
    }
}
