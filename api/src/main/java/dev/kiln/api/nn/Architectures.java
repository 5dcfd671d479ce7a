package dev.kiln.api.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Builds modules from {@link LayerConfig}s: a factory per type name, Kiln's layers registered
 * here, a user's own with {@link #register} (Keras's {@code custom_objects}). A model file stores
 * the config tree of {@link Module#config()} so the model can be rebuilt without its code.
 */
public final class Architectures {
    private Architectures() {}

    private static final Map<String, Function<LayerConfig, Module>> FACTORIES = new ConcurrentHashMap<>();

    static {
        register("Sequential", c -> Sequential.of(children(c).toArray(Module[]::new)));
        register("Residual", c -> new Residual(only(c)));
        register("Linear", c -> new Linear(c.integer("in"), c.integer("out")));
        register("Conv2d", c -> {
            int[] k = c.integers("kernel"), s = c.integers("stride"), p = c.integers("padding"), d = c.integers("dilation");
            return Conv2d.builder(c.integer("in"), c.integer("out")).kernel(k[0], k[1]).stride(s[0], s[1]).padding(p[0], p[1])
                    .dilation(d[0], d[1]).groups(c.integer("groups")).bias(c.flag("bias")).build();
        });
        register("ConvTranspose2d", c -> {
            int[] k = c.integers("kernel"), s = c.integers("stride"), p = c.integers("padding"), d = c.integers("dilation"), o = c.integers("output_padding");
            return ConvTranspose2d.builder(c.integer("in"), c.integer("out")).kernel(k[0], k[1]).stride(s[0], s[1]).padding(p[0], p[1])
                    .dilation(d[0], d[1]).outputPadding(o[0], o[1]).groups(c.integer("groups")).bias(c.flag("bias")).build();
        });
        register("LayerNorm", c -> new LayerNorm(c.number("eps"), c.flag("elementwise_affine"), c.integers("normalized_shape")));
        register("BatchNorm2d", c -> new BatchNorm2d(c.integer("channels"), c.number("eps"), c.number("momentum")));
        register("MultiHeadAttention", c -> new MultiHeadAttention(c.integer("dim"), c.integer("heads"), c.flag("causal")));
        register("Embedding", c -> new Embedding(c.integer("count"), c.integer("dim")));
        register("Dropout", c -> new Dropout(c.number("p")));
        register("Flatten", c -> new Flatten());
        register("ReLU", c -> new ReLU());
        register("Sigmoid", c -> new Sigmoid());
        register("Tanh", c -> new Tanh());
        register("GELU", c -> new GELU(GELU.Approximate.valueOf(c.text("approximate"))));
        register("Reshape", c -> new Reshape(c.integers("shape")));
        register("MaxPool2d", c -> new MaxPool2d(c.integer("kernel"), c.integer("stride"), c.integer("padding"), c.flag("ceil_mode")));
        register("AvgPool2d", c -> new AvgPool2d(c.integer("kernel"), c.integer("stride"), c.integer("padding"), c.flag("ceil_mode"),
                c.flag("count_include_pad")));
        register("LSTM", c -> new LSTM(c.integer("input"), c.integer("hidden"), c.integer("layers"), c.flag("batch_first")));
        register("GRU", c -> new GRU(c.integer("input"), c.integer("hidden"), c.integer("layers"), c.flag("batch_first")));
    }

    /** Makes {@code type} buildable; a type already registered is replaced (so a user may override Kiln's). */
    public static void register(String type, Function<LayerConfig, Module> factory) {
        FACTORIES.put(java.util.Objects.requireNonNull(type, "type"), java.util.Objects.requireNonNull(factory, "factory"));
    }

    /** The module a config describes, with freshly initialised parameters. */
    public static Module build(LayerConfig config) {
        Function<LayerConfig, Module> f = FACTORIES.get(config.type());
        if (f == null) {
            throw new IllegalArgumentException("no module type '" + config.type() + "' is registered (register yours with Architectures.register); known: "
                    + FACTORIES.keySet().stream().sorted().toList());
        }
        return f.apply(config);
    }

    private static List<Module> children(LayerConfig c) {
        List<Module> out = new ArrayList<>();
        for (LayerConfig child : c.children()) out.add(build(child));
        return out;
    }

    private static Module only(LayerConfig c) {
        if (c.children().size() != 1) throw new IllegalArgumentException(c.type() + " has one child, the config lists " + c.children().size());
        return build(c.children().getFirst());
    }
}
