package dev.kiln.api.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a module needs to be rebuilt without its code being run again: its type name, its
 * settings and its children's configs, as Keras's {@code get_config()}. Settings hold Integer,
 * Double, Boolean, String or int[] values; {@link Architectures#build} turns a config back into
 * a module (with fresh parameters, which a model file then overwrites).
 */
public record LayerConfig(String type, Map<String, Object> settings, List<LayerConfig> children) {
    public LayerConfig {
        Objects.requireNonNull(type, "type");
        settings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        children = List.copyOf(children);
        for (Map.Entry<String, Object> e : settings.entrySet()) {
            Object v = e.getValue();
            if (!(v instanceof Integer || v instanceof Double || v instanceof Boolean || v instanceof String || v instanceof int[])) {
                throw new IllegalArgumentException(type + ": setting " + e.getKey() + " is a " + (v == null ? "null" : v.getClass().getName())
                        + "; a config holds Integer, Double, Boolean, String or int[]");
            }
        }
    }

    /** A leaf: settings as alternating names and values, {@code of("Linear", "in", 784, "out", 128)}. */
    public static LayerConfig of(String type, Object... namesAndValues) { return withChildren(type, List.of(), namesAndValues); }

    public static LayerConfig withChildren(String type, List<LayerConfig> children, Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) throw new IllegalArgumentException(type + ": settings come as name, value pairs");
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) m.put((String) namesAndValues[i], namesAndValues[i + 1]);
        return new LayerConfig(type, m, children);
    }

    public int integer(String name) { return (Integer) require(name, Integer.class); }

    public double number(String name) {
        Object v = require(name, Object.class);
        if (v instanceof Number n) return n.doubleValue();
        throw wrong(name, "a number", v);
    }

    public boolean flag(String name) { return (Boolean) require(name, Boolean.class); }

    public String text(String name) { return (String) require(name, String.class); }

    public int[] integers(String name) { return ((int[]) require(name, int[].class)).clone(); }

    private Object require(String name, Class<?> type) {
        Object v = settings.get(name);
        if (v == null) throw new IllegalArgumentException(this.type + ": the config has no setting '" + name + "'; it has " + settings.keySet());
        if (!type.isInstance(v)) throw wrong(name, type.getSimpleName(), v);
        return v;
    }

    private IllegalArgumentException wrong(String name, String want, Object v) {
        return new IllegalArgumentException(type + ": setting '" + name + "' should be " + want + " but is " + v + " (" + v.getClass().getSimpleName() + ")");
    }
}
