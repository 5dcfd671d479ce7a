package dev.kiln.api.internal;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.api.nn.Parameter;
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

    /** Uploads {@code data} as the next value of {@code p}; {@code p} itself is untouched. */
    public void put(Kiln kiln, Parameter p, float[] data) {
        Tensor t = kiln.tensor(data, p.shape().dims());
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
