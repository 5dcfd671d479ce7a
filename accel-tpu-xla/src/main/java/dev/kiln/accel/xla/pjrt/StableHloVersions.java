package dev.kiln.accel.xla.pjrt;

import java.util.Arrays;
import java.util.Map;

/**
 * Whether a plugin accepts the StableHLO Kiln writes. A plugin reports the range it reads as
 * {@code stablehlo_minimum_version} and {@code stablehlo_current_version} (int64 lists such as
 * {@code [1, 8, 0]}); Kiln's emitter writes the opset of {@link #EMITTED}, so that version must lie
 * inside the range. A plugin that reports neither attribute is taken at its word.
 */
public final class StableHloVersions {
    private StableHloVersions() {}

    /**
     * StableHLO 1.0.0, the first release with compatibility guarantees: every op and attribute the
     * emitter writes (generic MLIR form) exists unchanged since then, and TF 2.18's XLA accepts it.
     */
    public static final long[] EMITTED = {1, 0, 0};

    /** @throws IllegalStateException naming both versions when the plugin cannot read what Kiln writes */
    public static void check(Map<String, Object> attributes) {
        if (attributes.get("stablehlo_minimum_version") instanceof long[] min && compare(EMITTED, min) < 0)
            throw new IllegalStateException("the PJRT plugin reads StableHLO " + text(min) + " and newer; Kiln writes "
                    + text(EMITTED) + " (plugin attributes: " + describe(attributes) + ")");
        if (attributes.get("stablehlo_current_version") instanceof long[] current && compare(current, EMITTED) < 0)
            throw new IllegalStateException("the PJRT plugin reads StableHLO up to " + text(current) + "; Kiln writes "
                    + text(EMITTED) + " (plugin attributes: " + describe(attributes) + ")");
    }

    static int compare(long[] a, long[] b) {
        for (int i = 0; i < Math.max(a.length, b.length); i++) {
            int c = Long.compare(i < a.length ? a[i] : 0, i < b.length ? b[i] : 0);
            if (c != 0) return c;
        }
        return 0;
    }

    static String text(long[] v) {
        return String.join(".", Arrays.stream(v).mapToObj(Long::toString).toList());
    }

    private static String describe(Map<String, Object> attributes) {
        StringBuilder sb = new StringBuilder();
        attributes.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append('=')
                .append(v instanceof long[] l ? text(l) : String.valueOf(v)));
        return sb.toString();
    }
}
