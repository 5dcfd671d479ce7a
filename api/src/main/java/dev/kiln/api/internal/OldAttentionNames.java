package dev.kiln.api.internal;

import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.checkpoint.StoredTensor;
import dev.kiln.api.nn.Module;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checkpoints written before {@code MultiHeadAttention} took PyTorch's layout, brought to it. The
 * layer was four {@code Linear}s, so its tensors were {@code 0.weight}, {@code 0.bias} (query),
 * {@code 1.*} (key), {@code 2.*} (value) and {@code 3.*} (output) under its path; now they are
 * PyTorch's {@code in_proj_weight} (the three [E, E] weights stacked to [3E, E]),
 * {@code in_proj_bias} [3E], {@code out_proj.weight} and {@code out_proj.bias}. The same packing
 * applies to optimizer state ({@code optimizer.<name>.<slot>}), which is elementwise, so a
 * training checkpoint resumes exactly.
 */
public final class OldAttentionNames {
    private static final String IN_PROJ_WEIGHT = "in_proj_weight";

    /** New name, then the old names it is stacked from, in order. */
    private static final List<List<String>> PACKING = List.of(
            List.of(IN_PROJ_WEIGHT, "0.weight", "1.weight", "2.weight"),
            List.of("in_proj_bias", "0.bias", "1.bias", "2.bias"),
            List.of("out_proj.weight", "3.weight"),
            List.of("out_proj.bias", "3.bias"));

    private OldAttentionNames() {}

    /**
     * {@code tensors} itself when it needs nothing, else a copy with each attention layer of
     * {@code model} that the file holds in the old layout (and only in it) rewritten. Only the
     * model's own attention paths are looked at, so no other layer's {@code 0.weight} is touched;
     * a file that is in neither layout is left for {@link ModelWeights#check} to report.
     */
    public static Map<String, StoredTensor> upgrade(Module model, Map<String, StoredTensor> tensors) {
        Map<String, StoredTensor> out = null;
        for (String name : model.namedParameters().keySet()) {
            if (!name.endsWith(IN_PROJ_WEIGHT) || tensors.containsKey(name)) continue;
            String at = name.substring(0, name.length() - IN_PROJ_WEIGHT.length()); // "" or "2.0.1."
            List<String> suffixes = new ArrayList<>(List.of(""));
            String stateOf = ModelWeights.OPTIMIZER_PREFIX + at + "0.weight.";
            for (String key : tensors.keySet()) if (key.startsWith(stateOf)) suffixes.add(key.substring(stateOf.length() - 1));
            for (String suffix : suffixes) {
                String prefix = suffix.isEmpty() ? at : ModelWeights.OPTIMIZER_PREFIX + at;
                if (!complete(tensors, prefix, suffix)) continue;
                if (out == null) out = new LinkedHashMap<>(tensors);
                for (List<String> rule : PACKING) {
                    List<StoredTensor> parts = new ArrayList<>();
                    for (String old : rule.subList(1, rule.size())) parts.add(out.remove(prefix + old + suffix));
                    out.put(prefix + rule.getFirst() + suffix, stack(parts));
                }
            }
        }
        return out == null ? tensors : out;
    }

    /** Whether every old tensor is there, those stacked together of one dtype and shape. */
    private static boolean complete(Map<String, StoredTensor> tensors, String prefix, String suffix) {
        for (List<String> rule : PACKING) {
            StoredTensor first = tensors.get(prefix + rule.get(1) + suffix);
            if (first == null) return false;
            for (String old : rule.subList(2, rule.size())) {
                StoredTensor t = tensors.get(prefix + old + suffix);
                if (t == null || t.dtype() != first.dtype() || !Arrays.equals(t.shape(), first.shape()) || first.shape().length == 0) return false;
            }
        }
        return true;
    }

    /** The parts one after another along their first axis, bytes unchanged. */
    private static StoredTensor stack(List<StoredTensor> parts) {
        if (parts.size() == 1) return parts.getFirst();
        long[] shape = parts.getFirst().shape();
        shape[0] *= parts.size();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (StoredTensor p : parts) bytes.writeBytes(p.bytes());
        return StoredTensor.of(parts.getFirst().dtype(), shape, bytes.toByteArray());
    }
}
