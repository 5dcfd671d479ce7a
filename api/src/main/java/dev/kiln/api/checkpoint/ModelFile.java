package dev.kiln.api.checkpoint;

import dev.kiln.api.Kiln;
import dev.kiln.api.nn.Architectures;
import dev.kiln.api.nn.LayerConfig;
import dev.kiln.api.nn.Module;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A whole model in one file: its architecture and its weights, loaded without the program that
 * built it (Keras's {@code model.save}/{@code load_model}). The file is safetensors, so any
 * safetensors reader sees the weights under PyTorch's state-dict names; the header's metadata adds
 * {@code "format": "kiln.model"}, {@code "format_version": "1"} and {@code "architecture"}: the
 * {@link Module#config()} tree as JSON, {@code {"type": ..., "settings": {...}, "children": [...]}},
 * integers as JSON integers and reals always with a point or an exponent so they read back as what
 * they were.
 */
public final class ModelFile {
    private ModelFile() {}

    static final String FORMAT = "kiln.model", VERSION = "1";

    /** Writes {@code model}'s architecture and weights (parameters and buffers), atomically. */
    public static void save(Module model, Kiln kiln, Path path) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", VERSION);
        meta.put("architecture", json(model.config()));
        new SafeTensorsFile(ModelWeights.capture(model, kiln), meta).write(path);
    }

    /**
     * The model in {@code path}, built from its architecture (every type must be registered with
     * {@link Architectures}; Kiln's layers are) and given its weights. It is in training mode, as
     * every freshly built module is; call {@code eval()} for inference.
     *
     * @throws CheckpointException when the file is not a Kiln model file, or its architecture or
     *     weights do not fit, naming the file and what is wrong
     */
    public static Module load(Kiln kiln, Path path) {
        SafeTensorsFile f = SafeTensorsFile.read(path);
        Map<String, String> meta = f.metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new CheckpointException(path, "not a Kiln model file (format is " + meta.get("format") + ", expected " + FORMAT
                    + "); a file of weights alone loads into a model you build with ModelWeights.load");
        }
        if (!VERSION.equals(meta.get("format_version"))) throw new CheckpointException(path, "model file version " + meta.get("format_version") + " is not " + VERSION);
        Module model;
        try {
            model = Architectures.build(config(Json.parse(meta.getOrDefault("architecture", ""))));
        } catch (Json.ParseException | RuntimeException e) {
            throw new CheckpointException(path, "the architecture cannot be rebuilt: " + e.getMessage(), e);
        }
        ModelWeights.apply(model, kiln, f.tensors(), path);
        return model;
    }

    static String json(LayerConfig c) {
        StringBuilder sb = new StringBuilder("{\"type\": ").append(Json.quote(c.type())).append(", \"settings\": {");
        boolean first = true;
        for (Map.Entry<String, Object> e : c.settings().entrySet()) {
            sb.append(first ? "" : ", ").append(Json.quote(e.getKey())).append(": ").append(value(e.getValue()));
            first = false;
        }
        sb.append("}, \"children\": [");
        for (int i = 0; i < c.children().size(); i++) sb.append(i == 0 ? "" : ", ").append(json(c.children().get(i)));
        return sb.append("]}").toString();
    }

    private static String value(Object v) {
        return switch (v) {
            case Integer i -> Integer.toString(i);
            // Double.toString always has a point or an exponent; JSON has no NaN or infinity.
            case Double d -> {
                if (d.isNaN() || d.isInfinite()) throw new IllegalArgumentException("a model file cannot hold the setting " + d);
                yield Double.toString(d);
            }
            case Boolean b -> Boolean.toString(b);
            case String s -> Json.quote(s);
            case int[] a -> {
                StringBuilder sb = new StringBuilder("[");
                for (int i = 0; i < a.length; i++) sb.append(i == 0 ? "" : ", ").append(a[i]);
                yield sb.append(']').toString();
            }
            default -> throw new IllegalArgumentException("a model file cannot hold the setting " + v);
        };
    }

    @SuppressWarnings("unchecked")
    static LayerConfig config(Object json) {
        if (!(json instanceof Map<?, ?> m) || !(m.get("type") instanceof String type)) throw new IllegalArgumentException("a layer is an object with a \"type\"");
        Map<String, Object> settings = new LinkedHashMap<>();
        if (m.get("settings") instanceof Map<?, ?> s) {
            for (Map.Entry<?, ?> e : s.entrySet()) settings.put((String) e.getKey(), setting(type, (String) e.getKey(), e.getValue()));
        }
        List<LayerConfig> children = new ArrayList<>();
        if (m.get("children") instanceof List<?> l) for (Object child : l) children.add(config(child));
        return new LayerConfig(type, settings, children);
    }

    private static Object setting(String type, String name, Object v) {
        return switch (v) {
            case Long l -> Math.toIntExact(l);
            case Double d -> d;
            case Boolean b -> b;
            case String s -> s;
            case List<?> l -> {
                int[] a = new int[l.size()];
                for (int i = 0; i < a.length; i++) {
                    if (!(l.get(i) instanceof Long x)) throw new IllegalArgumentException(type + "." + name + ": only integer lists are settings");
                    a[i] = Math.toIntExact(x);
                }
                yield a;
            }
            default -> throw new IllegalArgumentException(type + "." + name + ": unsupported setting " + v);
        };
    }
}
