package dev.kiln.api.train;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.TensorType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * How gradients are packed for all-reduce, as PyTorch's DDP packs them: parameters in reverse
 * order (the last layer's gradients are ready first in the backward pass), a small first bucket
 * so that communication can start early, then buckets up to a cap, one dtype per bucket. The plan
 * depends only on the model, so every rank reduces the same buckets in the same order — the
 * condition for collectives that neither hang nor mix up tensors.
 */
record Buckets(List<Bucket> list) {
    /** PyTorch's defaults: {@code bucket_cap_mb=25} and a 1 MiB first bucket. */
    static final long DEFAULT_FIRST_BYTES = 1L << 20, DEFAULT_BYTES = 25L << 20;

    /** Gradients {@code members} (indices into the step's trainable parameters) laid end to end. */
    record Bucket(DType dtype, List<Integer> members, List<Integer> offsets, int elements) {
        TensorType type() { return TensorType.of(dtype, elements); }
    }

    /**
     * Buckets for gradients of these types, member {@code k} belonging to parameter
     * {@code order.get(k)} of the model; higher parameter indices go first.
     */
    static Buckets plan(List<TensorType> types, List<Integer> order, long firstBytes, long bytes) {
        List<Integer> ks = IntStream.range(0, types.size()).boxed()
                .sorted(Comparator.comparing((Integer k) -> order.get(k)).reversed()).toList();
        List<Bucket> out = new ArrayList<>();
        List<Integer> members = new ArrayList<>(), offsets = new ArrayList<>();
        long elements = 0, used = 0;
        DType dtype = null;
        for (int k : ks) {
            TensorType t = types.get(k);
            long cap = out.isEmpty() ? firstBytes : bytes;
            if (!members.isEmpty() && (t.dtype() != dtype || used + t.byteSize() > cap)) {
                out.add(bucket(dtype, members, offsets, elements));
                members = new ArrayList<>();
                offsets = new ArrayList<>();
                elements = used = 0;
            }
            dtype = t.dtype();
            members.add(k);
            offsets.add(Math.toIntExact(elements));
            elements += t.shape().size();
            used += t.byteSize();
        }
        if (!members.isEmpty()) out.add(bucket(dtype, members, offsets, elements));
        return new Buckets(List.copyOf(out));
    }

    private static Bucket bucket(DType dtype, List<Integer> members, List<Integer> offsets, long elements) {
        if (elements > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a gradient bucket of " + elements + " elements is more than one buffer can hold (2^31-1)");
        }
        return new Bucket(dtype, List.copyOf(members), List.copyOf(offsets), (int) elements);
    }

    int size() { return list.size(); }
}
