package dev.kiln.api.optim;

import dev.kiln.api.Tensor;
import java.util.List;

/**
 * Adagrad as PyTorch's {@code torch.optim.Adagrad}: {@code sum += g^2},
 * {@code p -= clr g / (sqrt(sum) + eps)} with {@code clr = lr / (1 + (t - 1) lr_decay)} at step t,
 * and optional L2 weight decay added to the gradient. The accumulator starts at zero (PyTorch's
 * default {@code initial_accumulator_value}); state named as PyTorch's.
 */
public final class Adagrad extends Optimizer {
    private final double lrDecay, weightDecay, eps;

    /** PyTorch's defaults: no learning-rate decay, no weight decay, eps 1e-10. */
    public Adagrad(double lr) { this(lr, 0, 0, 1e-10); }

    public Adagrad(double lr, double lrDecay, double weightDecay, double eps) {
        super(lr);
        if (!(lrDecay >= 0) || !(weightDecay >= 0) || !(eps > 0)) {
            throw new IllegalArgumentException("Adagrad needs lr decay >= 0, weight decay >= 0 and eps > 0, got " + lrDecay + ", " + weightDecay + ", " + eps);
        }
        this.lrDecay = lrDecay;
        this.weightDecay = weightDecay;
        this.eps = eps;
    }

    @Override public int stateSize() { return 1; }

    @Override public List<String> stateNames() { return List.of("sum"); }

    @Override public List<Tensor> update(Tensor param, Tensor grad, List<Tensor> state, Tensor lr, Tensor step) {
        Tensor g = weightDecay == 0 ? grad : grad.add(param.mul(weightDecay));
        Tensor clr = lrDecay == 0 ? lr : lr.div(step.sub(1).mul(lrDecay).add(1));
        Tensor sum = state.getFirst().add(g.mul(g));
        return List.of(param.sub(g.div(sum.sqrt().add(eps)).mul(clr)), sum);
    }

    @Override public String toString() { return "Adagrad(lr=" + learningRate() + (lrDecay > 0 ? ", lr decay=" + lrDecay : "") + ")"; }
}
