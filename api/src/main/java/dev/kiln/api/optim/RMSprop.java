package dev.kiln.api.optim;

import dev.kiln.api.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * RMSprop as PyTorch's {@code torch.optim.RMSprop}: {@code v = alpha v + (1 - alpha) g^2},
 * {@code p -= lr g / (sqrt(v) + eps)}, with optional L2 weight decay (added to the gradient),
 * momentum ({@code buf = momentum buf + g / (sqrt(v) + eps)}, {@code p -= lr buf}) and the
 * centered variant (the denominator uses {@code v - mean(g)^2}). Written in tensor ops, which a
 * plugin's elementwise fusion runs as one pass; state named as PyTorch's.
 */
public final class RMSprop extends Optimizer {
    private final double alpha, eps, weightDecay, momentum;
    private final boolean centered;

    /** PyTorch's defaults: alpha 0.99, eps 1e-8, no weight decay, no momentum, not centered. */
    public RMSprop(double lr) { this(lr, 0.99, 1e-8, 0, 0, false); }

    public RMSprop(double lr, double alpha, double eps, double weightDecay, double momentum, boolean centered) {
        super(lr);
        if (!(alpha >= 0 && alpha < 1) || !(eps > 0) || !(weightDecay >= 0) || !(momentum >= 0)) {
            throw new IllegalArgumentException("RMSprop needs 0 <= alpha < 1, eps > 0, weight decay >= 0 and momentum >= 0, got alpha "
                    + alpha + ", eps " + eps + ", weight decay " + weightDecay + ", momentum " + momentum);
        }
        this.alpha = alpha;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.momentum = momentum;
        this.centered = centered;
    }

    @Override public int stateSize() { return stateNames().size(); }

    @Override public List<String> stateNames() {
        List<String> n = new ArrayList<>(List.of("square_avg"));
        if (momentum > 0) n.add("momentum_buffer");
        if (centered) n.add("grad_avg");
        return n;
    }

    @Override public List<Tensor> update(Tensor param, Tensor grad, List<Tensor> state, Tensor lr, Tensor step) {
        Tensor g = weightDecay == 0 ? grad : grad.add(param.mul(weightDecay));
        Tensor squareAvg = state.get(0).mul(alpha).add(g.mul(g).mul(1 - alpha));
        Tensor gradAvg = centered ? state.get(momentum > 0 ? 2 : 1).mul(alpha).add(g.mul(1 - alpha)) : null;
        Tensor avg = (centered ? squareAvg.sub(gradAvg.mul(gradAvg)) : squareAvg).sqrt().add(eps);
        List<Tensor> out = new ArrayList<>();
        if (momentum > 0) {
            Tensor buf = state.get(1).mul(momentum).add(g.div(avg));
            out.add(param.sub(buf.mul(lr)));
            out.add(squareAvg);
            out.add(buf);
        } else {
            out.add(param.sub(g.div(avg).mul(lr)));
            out.add(squareAvg);
        }
        if (centered) out.add(gradAvg);
        return out;
    }

    @Override public String toString() {
        return "RMSprop(lr=" + learningRate() + ", alpha=" + alpha + (momentum > 0 ? ", momentum=" + momentum : "") + (centered ? ", centered" : "") + ")";
    }
}
