package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Fused;
import dev.kiln.spi.ir.TensorType;
import java.util.List;

/**
 * Several elementwise nodes of one output shape as one {@link MapKernel}: the nodes' bodies run in
 * sequence on registers, so a chain of k ops reads its inputs and writes its result once instead
 * of making k passes over memory. {@code body} reads {@code a0..} (the chain's inputs, broadcast
 * to the output shape) and assigns {@code r0}; it is the composition of the replaced nodes'
 * bodies, which the conformance kit checks by compiling with fusion on and off.
 */
record CudaChain(String body, List<DType> inputs, TensorType out) implements Fused {
    CudaChain {
        inputs = List.copyOf(inputs);
    }

    @Override public List<TensorType> infer(List<TensorType> in) {
        if (in.size() != inputs.size()) throw error("expects " + inputs.size() + " inputs", in);
        for (int i = 0; i < in.size(); i++) {
            if (in.get(i).dtype() != inputs.get(i) || !in.get(i).shape().broadcastsTo(out.shape())) throw error("input " + i + " does not fit", in);
        }
        return List.of(out);
    }

    MapKernel kernel() {
        return new MapKernel("chain_" + out.dtype().label() + "_" + Integer.toHexString(body.hashCode()), inputs, List.of(out.dtype()), body);
    }

    @Override public String opName() { return "chain"; }

    @Override public String toString() { return "Chain[" + inputs + " -> " + out + "]"; }
}
