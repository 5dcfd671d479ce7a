package dev.kiln.api.optim;

import dev.kiln.api.Tensor;
import dev.kiln.spi.ir.Composite;
import java.util.List;

/**
 * Adam, and AdamW with decoupled weight decay, as PyTorch defines them: the arithmetic of
 * {@code torch.optim.Adam}'s single-tensor loop (no amsgrad), with the bias corrections computed
 * in float64 and rounded once, as PyTorch's Python floats are (see {@link Composite.AdamUpdate}).
 * The step count {@code t} comes from the host's exact count (saved in checkpoints) as a float32,
 * exact up to 2^24 steps; both corrections are exactly 1 long before that.
 */
public final class Adam extends Optimizer {
    private final Composite.AdamUpdate op;

    public Adam(double lr) { this(lr, 0.9, 0.999, 1e-8, 0, false); }

    public Adam(double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        super(lr);
        if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1) throw new IllegalArgumentException("betas must be in [0, 1)");
        if (eps <= 0 || weightDecay < 0) throw new IllegalArgumentException("eps must be > 0 and weight decay >= 0");
        this.op = new Composite.AdamUpdate(beta1, beta2, eps, weightDecay, decoupled);
    }

    /** AdamW: Adam with decoupled weight decay (PyTorch's default decay is 0.01). */
    public static Adam adamW(double lr, double weightDecay) { return new Adam(lr, 0.9, 0.999, 1e-8, weightDecay, true); }

    @Override public int stateSize() { return 2; }

    @Override public List<String> stateNames() { return List.of("exp_avg", "exp_avg_sq"); }

    @Override public List<Tensor> update(Tensor param, Tensor grad, List<Tensor> state, Tensor lr, Tensor step) {
        return Tensor.apply(op, param, grad, state.get(0), state.get(1), lr, step);
    }

    @Override public String toString() { return (op.decoupled() ? "AdamW" : "Adam") + "(lr=" + learningRate() + ")"; }
}
