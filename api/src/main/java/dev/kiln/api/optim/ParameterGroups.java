package dev.kiln.api.optim;

import dev.kiln.api.Tensor;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Parameter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * PyTorch's parameter groups: some parameters updated by an optimizer with other settings (its
 * own learning rate, weight decay, betas...), the rest by the default one.
 *
 * <pre>{@code
 * Optimizer opt = ParameterGroups.of(Adam.adamW(1e-3, 0.01))
 *         .group(backbone.parameters(), Adam.adamW(1e-4, 0.01))   // a tenth of the rate
 *         .group(norms, Adam.adamW(1e-3, 0))                      // no weight decay
 *         .build();
 * }</pre>
 *
 * The groups' optimizers must be of one kind (the state each parameter carries is the same). The
 * schedule, gradient clipping and the step count belong to this object, as in PyTorch, where a
 * scheduler scales every group's rate by the same factor: a group's rate at each step is the
 * scheduled rate times {@code group lr / default lr}.
 */
public final class ParameterGroups extends Optimizer {
    private final Optimizer defaults;
    private final Map<Parameter, Optimizer> groupOf;

    private ParameterGroups(Optimizer defaults, Map<Parameter, Optimizer> groupOf) {
        super(defaults.learningRate());
        this.defaults = defaults;
        this.groupOf = groupOf;
    }

    /** Groups over {@code defaults}, the optimizer of every parameter no group names. */
    public static Builder of(Optimizer defaults) { return new Builder(defaults); }

    /** Collects the groups; a parameter may be in one group at most. */
    public static final class Builder {
        private final Optimizer defaults;
        private final Map<Parameter, Optimizer> groupOf = new IdentityHashMap<>();
        private final List<Optimizer> groups = new ArrayList<>();

        private Builder(Optimizer defaults) {
            this.defaults = Objects.requireNonNull(defaults, "defaults");
            if (defaults instanceof ParameterGroups) throw new IllegalArgumentException("parameter groups do not nest");
            if (defaults.schedule() != null || defaults.maxGradNorm() != 0) {
                throw new IllegalArgumentException("set the schedule and clipping on the ParameterGroups (build().schedule(...)), not on " + defaults);
            }
        }

        public Builder group(Collection<Parameter> params, Optimizer optimizer) {
            Objects.requireNonNull(optimizer, "optimizer");
            if (optimizer.getClass() != defaults.getClass() || !optimizer.stateNames().equals(defaults.stateNames())) {
                throw new IllegalArgumentException("a group's optimizer must be of the default's kind and state (" + defaults + "), not " + optimizer);
            }
            if (optimizer.schedule() != null || optimizer.maxGradNorm() != 0) {
                throw new IllegalArgumentException("schedules and clipping are the groups' together: set them on the ParameterGroups, not on " + optimizer);
            }
            for (Parameter p : params) {
                if (groupOf.putIfAbsent(p, optimizer) != null) throw new IllegalArgumentException(p + " is in two parameter groups");
            }
            groups.add(optimizer);
            return this;
        }

        /** A group of every parameter of {@code module} and its children. */
        public Builder group(Module module, Optimizer optimizer) { return group(module.parameters(), optimizer); }

        public ParameterGroups build() { return new ParameterGroups(defaults, new IdentityHashMap<>(groupOf)); }
    }

    @Override public int stateSize() { return defaults.stateSize(); }

    @Override public List<String> stateNames() { return defaults.stateNames(); }

    /** Without the parameter there is no group to choose: the default optimizer's update. */
    @Override public List<Tensor> update(Tensor param, Tensor grad, List<Tensor> state, Tensor lr, Tensor step) {
        return defaults.update(param, grad, state, lr, step);
    }

    @Override public List<Tensor> update(Parameter p, Tensor param, Tensor grad, List<Tensor> state, Tensor lr, Tensor step) {
        Optimizer o = groupOf.getOrDefault(p, defaults);
        Tensor rate = o == defaults ? lr : lr.mul(o.learningRate() / defaults.learningRate());
        return o.update(param, grad, state, rate, step);
    }

    @Override public String toString() { return "ParameterGroups(" + defaults + ", " + groupOf.size() + " parameters in other groups)"; }
}
