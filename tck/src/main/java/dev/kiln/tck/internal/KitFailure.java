package dev.kiln.tck.internal;

import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Op;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * One failed test of the kit: its section ("forward f32"), its name, the one-op case it ran (null
 * for the round trips and the multi-node graph tests), whether it ran the case's gradients, and
 * the first line of its message.
 */
public record KitFailure(String section, String test, OpCase opCase, boolean gradient, String message) {
    /** The op family: the case's group ("tanh", "linear"), or the section of a graph test ("fused"). */
    public String family() { return opCase == null ? section : opCase.group(); }

    /** The case's op, or null. */
    public Op op() { return opCase == null ? null : opCase.op(); }

    /** The primitives the graph this test ran is made of, once lowered; empty for a test without a case. */
    public Set<String> primitivesUsed() {
        Set<String> names = new LinkedHashSet<>();
        if (opCase == null) return names;
        Graph g = gradient ? GradientCheck.gradients(opCase) : ForwardCheck.graph(opCase);
        for (Node n : Lowering.decompose(g, c -> false).nodes()) names.add(n.op().opName());
        return names;
    }

    /** The first line of {@code t}'s message, shortened: the summary names causes, the test's own report has the rest. */
    public static String firstLine(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int nl = m.indexOf('\n');
        if (nl >= 0) m = m.substring(0, nl);
        return m.length() > 240 ? m.substring(0, 237) + "..." : m;
    }
}
