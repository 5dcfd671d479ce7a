package dev.kiln.api.optim;

import dev.kiln.api.Tensor;
import dev.kiln.spi.ir.Composite;
import java.util.List;

/** Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, as PyTorch's. */
public final class SGD extends Optimizer {
    private final Composite.SgdUpdate op;

    public SGD(double lr) { this(lr, 0, false, 0); }

    public SGD(double lr, double momentum) { this(lr, momentum, false, 0); }

    public SGD(double lr, double momentum, boolean nesterov, double weightDecay) {
        super(lr);
        if (momentum < 0 || weightDecay < 0) throw new IllegalArgumentException("momentum and weight decay must be >= 0");
        if (nesterov && momentum == 0) throw new IllegalArgumentException("Nesterov momentum needs momentum > 0");
        this.op = new Composite.SgdUpdate(momentum, nesterov, weightDecay);
    }

    @Override public int stateSize() { return 1; }

    @Override public List<String> stateNames() { return List.of("momentum_buffer"); }

    @Override public List<Tensor> update(Tensor param, Tensor grad, List<Tensor> state, Tensor lr, Tensor step) {
        return Tensor.apply(op, param, grad, state.getFirst(), lr);
    }

    @Override public String toString() { return "SGD(lr=" + learningRate() + ", momentum=" + op.momentum() + ")"; }
}
