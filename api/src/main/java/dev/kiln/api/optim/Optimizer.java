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
    private LrSchedule schedule;
    private double maxGradNorm;
    private final Map<Parameter, List<Tensor>> state = new IdentityHashMap<>();
    private long steps;

    protected Optimizer(double learningRate) {
        if (!(learningRate > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
        this.learningRate = learningRate;
    }

    /** The learning rate of the last update (or the initial one before any). */
    public double learningRate() { return learningRate; }

    public void setLearningRate(double lr) { this.learningRate = lr; }

    /** Lets {@code s} choose the learning rate of every update; its values replace the constant one. */
    public Optimizer schedule(LrSchedule s) {
        this.schedule = s;
        return this;
    }

    public LrSchedule schedule() { return schedule; }

    /**
     * The learning rate for the update after {@code step} completed ones: the schedule's value if
     * there is one, else the constant rate. Also remembered as {@link #learningRate()}.
     */
    public double learningRateAt(long step) {
        if (schedule != null) {
            double lr = schedule.at(step);
            if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalStateException("the learning-rate schedule gave " + lr + " at step " + step);
            learningRate = lr;
        }
        return learningRate;
    }

    /**
     * Clips gradients by their global norm before every update, as PyTorch's
     * {@code clip_grad_norm_} and Keras' {@code global_clipnorm}: all gradients are scaled by
     * {@code min(1, maxNorm / (norm + 1e-6))}, where norm is the L2 norm of all of them together.
     * 0 switches clipping off.
     */
    public Optimizer clipGradNorm(double maxNorm) {
        if (!(maxNorm >= 0) || Double.isInfinite(maxNorm)) throw new IllegalArgumentException("max gradient norm must be >= 0 and finite, got " + maxNorm);
        this.maxGradNorm = maxNorm;
        return this;
    }

    public double maxGradNorm() { return maxGradNorm; }

    /**
     * The gradients the updates will use: {@code grads} scaled by the global-norm clip factor when
     * clipping is on, else {@code grads} itself. Works on traced and eager tensors alike, so a
     * compiled step computes the norm inside the graph.
     */
    public List<Tensor> clipGradients(List<Tensor> grads) {
        if (maxGradNorm == 0 || grads.isEmpty()) return grads;
        Tensor sumSq = null;
        for (Tensor g : grads) {
            Tensor s = g.mul(g).sum();
            sumSq = sumSq == null ? s : sumSq.add(s);
        }
        Tensor norm = sumSq.sqrt();
        Tensor scale = norm.scalarLike(maxGradNorm).div(norm.add(1e-6)).minimum(norm.scalarLike(1));
        List<Tensor> out = new ArrayList<>(grads.size());
        for (Tensor g : grads) out.add(g.mul(scale));
        return out;
    }

    /** How many state tensors (momentum, moments) each parameter carries, each shaped like it. */
    public abstract int stateSize();

    /**
     * Names of the state tensors, as PyTorch's optimizers call them ({@code exp_avg},
     * {@code momentum_buffer}); checkpoints store them as {@code optimizer.<param>.<name>}.
     */
    public List<String> stateNames() {
        List<String> n = new ArrayList<>();
        for (int i = 0; i < stateSize(); i++) n.add("state" + i);
        return n;
    }

    /**
     * The new parameter value followed by the new state, from the parameter, its gradient, its
     * state, the learning rate and the 1-based step number (both scalars).
     */
    public abstract List<Tensor> update(Tensor param, Tensor grad, List<Tensor> state, Tensor lr, Tensor step);

    /**
     * {@link #update(Tensor, Tensor, List, Tensor, Tensor)} for parameter {@code p}: what trainers
     * call, so that an optimizer may treat parameters differently ({@link ParameterGroups}).
     */
    public List<Tensor> update(Parameter p, Tensor param, Tensor grad, List<Tensor> state, Tensor lr, Tensor step) {
        return update(param, grad, state, lr, step);
    }

    /** One eager step: updates every parameter in place from {@code grads} (same order); frozen ones are left as they are. */
    public void step(Kiln kiln, List<Parameter> params, List<Tensor> grads) {
        if (params.size() != grads.size()) throw new IllegalArgumentException(params.size() + " parameters but " + grads.size() + " gradients");
        Tensor lr = kiln.scalar(learningRateAt(steps)), t = kiln.scalar(steps + 1);
        steps++;
        List<Tensor> g = clipGradients(grads);
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            if (!p.isTrainable()) continue;
            Tensor value = p.value(kiln);
            List<Tensor> s = state.computeIfAbsent(p, k -> zeros(kiln, value));
            List<Tensor> out = update(p, value, g.get(i), s, lr, t);
            p.assign(out.getFirst());
            s.forEach(Tensor::close);
            state.put(p, new ArrayList<>(out.subList(1, out.size())));
        }
    }

    /** Updates {@link #step} has made (the compiled trainer keeps its own count). */
    public long steps() { return steps; }

    /** The state {@link #step} keeps for {@code p} ({@link #stateNames()} order), or null before its first update. */
    public List<Tensor> state(Parameter p) {
        List<Tensor> s = state.get(p);
        return s == null ? null : List.copyOf(s);
    }

    /**
     * Replaces the eager state and step count, as a checkpoint restores them: {@code state} maps
     * each parameter to its {@link #stateSize()} tensors, shaped like it.
     */
    public void restoreState(Map<Parameter, List<Tensor>> restored, long steps) {
        if (steps < 0) throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        restored.forEach((p, s) -> {
            if (s.size() != stateSize()) throw new IllegalArgumentException(this + " keeps " + stateSize() + " state tensors per parameter, got " + s.size());
            for (Tensor t : s) {
                if (!t.shape().equals(p.shape())) throw new IllegalArgumentException("state of " + p + " cannot have shape " + t.shape());
            }
        });
        state.values().forEach(l -> l.forEach(Tensor::close));
        state.clear();
        restored.forEach((p, s) -> state.put(p, new ArrayList<>(s)));
        this.steps = steps;
    }

    private List<Tensor> zeros(Kiln kiln, Tensor like) {
        List<Tensor> z = new ArrayList<>();
        for (int i = 0; i < stateSize(); i++) z.add(kiln.zeros(like.shape().dims()));
        return z;
    }
}
