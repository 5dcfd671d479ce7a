package dev.kiln.api.internal;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.checkpoint.StoredTensor;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Parameter;
import dev.kiln.core.DType;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * New parameter values uploaded but not yet assigned, so that a checkpoint load changes either
 * every parameter or none: an upload that fails part-way (the accelerator out of memory) leaves
 * the model as it was, and closing without {@link #commit} frees what was uploaded.
 */
public final class StagedValues implements AutoCloseable {
    private final Map<Parameter, Tensor> values = new LinkedHashMap<>();
    private boolean committed;

    /**
     * Stages every parameter and buffer of {@code model} from the tensor of its name, which
     * {@link ModelWeights#check} has checked: f32 values, or exact i64 ones for a counter. A
     * counter the tensors lack starts at 0, as PyTorch's BatchNorm does with a state dict saved
     * before it counted (and Kiln files from before Kiln did).
     */
    public void putState(Kiln kiln, Module model, Map<String, StoredTensor> tensors) {
        ModelWeights.stateOf(model).forEach((name, p) -> {
            StoredTensor t = tensors.get(name);
            int[] dims = p.shape().dims();
            if (p.dtype() == DType.I64) put(p, kiln.tensor(t == null ? new long[Math.toIntExact(p.shape().size())] : t.toLongs(), dims));
            else put(p, kiln.tensor(t.toFloats(), dims));
        });
    }

    /** Makes {@code t}, already uploaded, the next value of {@code p}; {@code p} itself is untouched. */
    private void put(Parameter p, Tensor t) {
        Tensor old = values.put(p, t);
        if (old != null) old.close();
    }

    /** Gives every parameter its staged value; cannot fail, as shapes were checked on upload. */
    public void commit() {
        values.forEach(Parameter::assign);
        committed = true;
    }

    @Override public void close() {
        if (!committed) values.values().forEach(Tensor::close);
    }
}
