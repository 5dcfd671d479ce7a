package dev.kiln.tck.internal;

import dev.kiln.spi.ir.Primitive;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The summary printed at the end of a failing kit run. One broken kernel fails every case of its
 * primitive, in every section, and every composite built on it: ninety failures for one bug. The
 * summary names each failing family once, by its first failure: first the likely causes (a
 * primitive whose own forward case fails, or a family none of those explains), then the families
 * whose failing graph uses a broken primitive, then the graph tests.
 */
public final class RootCauses {
    private RootCauses() {}

    public static String summarize(String plugin, List<KitFailure> failures) {
        Map<String, List<KitFailure>> families = new LinkedHashMap<>();
        for (KitFailure f : failures) families.computeIfAbsent(f.family(), k -> new ArrayList<>()).add(f);
        // A primitive whose own forward case fails is broken; whatever else fails may follow from it.
        Set<String> brokenPrimitives = new LinkedHashSet<>();
        for (KitFailure f : failures) if (!f.gradient() && f.op() instanceof Primitive p) brokenPrimitives.add(p.opName());

        List<String> causes = new ArrayList<>(), following = new ArrayList<>(), others = new ArrayList<>();
        for (Map.Entry<String, List<KitFailure>> e : families.entrySet()) {
            KitFailure first = e.getValue().getFirst();
            String line = "  " + e.getKey() + " (" + e.getValue().size() + " failed), first " + first.section() + ": " + first.test() + ": " + first.message();
            Set<String> used = first.primitivesUsed();
            if (first.op() instanceof Primitive p && brokenPrimitives.contains(p.opName())) used.clear();
            used.retainAll(brokenPrimitives);
            if (!used.isEmpty()) following.add("  " + e.getKey() + " (" + e.getValue().size() + " failed) uses " + String.join(", ", used));
            else if (first.op() == null) others.add(line);
            else causes.add(line);
        }
        StringBuilder sb = new StringBuilder("Kiln conformance kit: " + plugin + " failed " + failures.size() + " tests in "
                + families.size() + (families.size() == 1 ? " family" : " families") + "\n");
        section(sb, "root causes, the first failure of each:", causes);
        section(sb, "failing through them (their decomposition uses a failing primitive):", following);
        section(sb, "other failing tests:", others);
        return sb.toString();
    }

    private static void section(StringBuilder sb, String title, List<String> lines) {
        if (lines.isEmpty()) return;
        sb.append(title).append('\n');
        for (String l : lines) sb.append(l).append('\n');
    }
}
