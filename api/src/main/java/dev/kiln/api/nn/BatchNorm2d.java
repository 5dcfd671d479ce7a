package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.api.internal.StateUpdates;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Batch normalisation over the channels of x[batch, channels, h, w], as PyTorch's
 * {@code BatchNorm2d}: in training mode it normalises with the batch statistics and updates the
 * running mean and (unbiased) variance with {@code momentum} and counts the batch in
 * {@code num_batches_tracked}; in evaluation mode it uses the running statistics. These are
 * buffers, so compiled training steps update them too. Kiln's momentum is always a number, so the
 * count never changes the result (PyTorch reads it only for {@code momentum=None}, a cumulative
 * average); it is kept, as an i64, so that state dicts match PyTorch's.
 */
public final class BatchNorm2d extends Module {
    private final int channels;
    private final double eps, momentum;
    private final Parameter weight, bias, runningMean, runningVar, numBatchesTracked = Parameter.counter();

    public BatchNorm2d(int channels) { this(channels, 1e-5, 0.1); }

    public BatchNorm2d(int channels, double eps, double momentum) {
        if (channels <= 0 || !(eps > 0) || !(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("BatchNorm2d needs channels > 0, eps > 0, momentum in [0, 1], got " + channels + ", " + eps + ", " + momentum);
        }
        this.channels = channels;
        this.eps = eps;
        this.momentum = momentum;
        this.weight = Parameter.of(toString(), "weight", Parameter.Initializer.constant(1), channels);
        this.bias = Parameter.of(toString(), "bias", Parameter.Initializer.constant(0), channels);
        this.runningMean = Parameter.of(toString(), "running_mean", Parameter.Initializer.constant(0), channels);
        this.runningVar = Parameter.of(toString(), "running_var", Parameter.Initializer.constant(1), channels);
    }

    @Override public Tensor forward(Tensor x) {
        Shape s = x.shape();
        if (s.rank() != 4 || s.dim(1) != channels) {
            throw new IllegalArgumentException(describe() + ": expected input of shape [batch, " + channels + ", height, width] but got " + s);
        }
        if (isTraining() && s.size() / channels < 2) {
            throw new IllegalArgumentException(describe() + ": training needs more than one value per channel, got input " + s);
        }
        var k = x.kiln();
        List<Tensor> out = Tensor.apply(new Composite.BatchNorm(isTraining(), momentum, eps), x, weight.value(k), bias.value(k),
                runningMean.value(k), runningVar.value(k));
        if (isTraining()) {
            StateUpdates.assign(runningMean, out.get(1));
            StateUpdates.assign(runningVar, out.get(2));
            // The one comes from x so that it is traced with x: a constant alone would be added once, when the step is traced.
            Tensor one = x.scalarLike(1).cast(DType.I64);
            StateUpdates.assign(numBatchesTracked, numBatchesTracked.value(k).add(one));
        }
        return out.getFirst();
    }

    public Parameter runningMean() { return runningMean; }

    public Parameter runningVar() { return runningVar; }

    /** The training batches seen, an i64 scalar: PyTorch's {@code num_batches_tracked}. */
    public Parameter numBatchesTracked() { return numBatchesTracked; }

    @Override protected Map<String, Parameter> ownParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("weight", weight);
        m.put("bias", bias);
        return m;
    }

    @Override protected Map<String, Parameter> ownBuffers() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("running_mean", runningMean);
        m.put("running_var", runningVar);
        m.put("num_batches_tracked", numBatchesTracked);
        return m;
    }

    @Override public LayerConfig config() { return LayerConfig.of("BatchNorm2d", "channels", channels, "eps", eps, "momentum", momentum); }

    @Override public String toString() { return "BatchNorm2d(" + channels + ")"; }
}
