package dev.kiln.api.checkpoint;

import dev.kiln.api.Kiln;
import dev.kiln.api.nn.Architectures;
import dev.kiln.api.nn.LayerConfig;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.QuantizedLinear;
import dev.kiln.api.nn.Sequential;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A whole model from {@link dev.kiln.api.nn.Quantization#quantizeDynamic} in one safetensors file,
 * as {@link ModelFile} writes float models: metadata {@code "format": "kiln.quantized_model"},
 * {@code "format_version": "1"} and the {@code "architecture"} JSON, whose int8 layers have type
 * {@code QuantizedLinear}. Each of those at path {@code p} stores {@code p.weight} (i8 [out, in],
 * row-major), {@code p.weight_scale} (f32 [out], real weight = int8 value times its row's scale)
 * and {@code p.bias} (f32 [out]); every other layer's parameters and buffers keep their
 * {@link ModelWeights} names. Loading reads the int8 values as stored: nothing is quantized again.
 */
public final class QuantizedModelFile {
    private QuantizedModelFile() {}

    static final String FORMAT = "kiln.quantized_model", VERSION = "1";

    /** Writes {@code model}'s architecture, int8 layers and other weights, atomically. */
    public static void save(Module model, Kiln kiln, Path path) {
        Map<String, StoredTensor> tensors = new LinkedHashMap<>();
        collect(model, "", kiln, tensors);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", VERSION);
        meta.put("architecture", ModelFile.json(model.config()));
        new SafeTensorsFile(tensors, meta).write(path);
    }

    private static void collect(Module m, String prefix, Kiln kiln, Map<String, StoredTensor> out) {
        switch (m) {
            case QuantizedLinear q -> {
                out.put(prefix + "weight", StoredTensor.of(StoredTensor.Type.I8, new long[] {q.outFeatures(), q.inFeatures()}, q.weight()));
                out.put(prefix + "weight_scale", StoredTensor.ofFloats(q.scale(), dev.kiln.core.Shape.of(q.outFeatures())));
                out.put(prefix + "bias", StoredTensor.ofFloats(q.bias(), dev.kiln.core.Shape.of(q.outFeatures())));
            }
            case Sequential s -> {
                for (int i = 0; i < s.children().size(); i++) collect(s.children().get(i), prefix + i + ".", kiln, out);
            }
            default -> ModelWeights.capture(m, kiln).forEach((k, v) -> out.put(prefix + k, v));
        }
    }

    /**
     * The quantized model in {@code path}, in evaluation mode.
     *
     * @throws CheckpointException when the file is not a quantized model file or does not fit its
     *     architecture, naming the file and the tensor
     */
    public static Module load(Kiln kiln, Path path) {
        SafeTensorsFile f = SafeTensorsFile.read(path);
        Map<String, String> meta = f.metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new CheckpointException(path, "not a Kiln quantized model file (format is " + meta.get("format") + ", expected " + FORMAT
                    + (ModelFile.FORMAT.equals(meta.get("format")) ? "; a float model loads with ModelFile.load)" : ")"));
        }
        if (!VERSION.equals(meta.get("format_version"))) throw new CheckpointException(path, "quantized model file version " + meta.get("format_version") + " is not " + VERSION);
        LayerConfig arch;
        try {
            arch = ModelFile.config(Json.parse(meta.getOrDefault("architecture", "")));
        } catch (Json.ParseException | RuntimeException e) {
            throw new CheckpointException(path, "the architecture cannot be read: " + e.getMessage(), e);
        }
        Set<String> used = new HashSet<>();
        Module model = build(arch, "", kiln, f.tensors(), path, used);
        List<String> extra = new ArrayList<>();
        for (String name : f.tensors().keySet()) if (!used.contains(name)) extra.add(name);
        if (!extra.isEmpty()) throw new CheckpointException(path, "unexpected tensors " + extra + " (the architecture has no place for them)");
        model.eval();
        return model;
    }

    private static Module build(LayerConfig c, String prefix, Kiln kiln, Map<String, StoredTensor> all, Path path, Set<String> used) {
        switch (c.type()) {
            case "QuantizedLinear" -> {
                int in = c.integer("in"), out = c.integer("out");
                StoredTensor w = take(all, prefix + "weight", StoredTensor.Type.I8, new long[] {out, in}, path, used);
                StoredTensor s = take(all, prefix + "weight_scale", StoredTensor.Type.F32, new long[] {out}, path, used);
                StoredTensor b = take(all, prefix + "bias", StoredTensor.Type.F32, new long[] {out}, path, used);
                try {
                    return new QuantizedLinear(in, out, w.bytes(), s.toFloats(), b.toFloats());
                } catch (IllegalArgumentException e) {
                    throw new CheckpointException(path, "layer " + prefix + ": " + e.getMessage(), e);
                }
            }
            case "Sequential" -> {
                List<Module> layers = new ArrayList<>();
                for (int i = 0; i < c.children().size(); i++) layers.add(build(c.children().get(i), prefix + i + ".", kiln, all, path, used));
                return Sequential.of(layers.toArray(Module[]::new));
            }
            default -> {
                Module m;
                try {
                    m = Architectures.build(c);
                } catch (RuntimeException e) {
                    throw new CheckpointException(path, "layer " + prefix + " (" + c.type() + ") cannot be rebuilt: " + e.getMessage(), e);
                }
                Map<String, StoredTensor> mine = new LinkedHashMap<>();
                for (String local : ModelWeights.stateOf(m).keySet()) {
                    StoredTensor t = all.get(prefix + local);
                    if (t != null) {
                        mine.put(local, t);
                        used.add(prefix + local);
                    }
                }
                ModelWeights.apply(m, kiln, mine, path);
                return m;
            }
        }
    }

    private static StoredTensor take(Map<String, StoredTensor> all, String name, StoredTensor.Type type, long[] shape, Path path, Set<String> used) {
        StoredTensor t = all.get(name);
        if (t == null) throw new CheckpointException(path, "missing tensor \"" + name + "\" (" + type + java.util.Arrays.toString(shape) + ")");
        if (t.dtype() != type || !java.util.Arrays.equals(t.shape(), shape)) {
            throw new CheckpointException(path, "tensor \"" + name + "\" is " + t + ", expected " + type + java.util.Arrays.toString(shape));
        }
        used.add(name);
        return t;
    }
}
