package dev.kiln.spi.fusion;

import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.List;

/**
 * One entry of a rule table: looks at a node (the anchor, tried from the last node of the graph
 * to the first) and proposes a {@link Rewrite}, or returns null. Rules stay small and local; the
 * {@link Rewriter} checks that a rewrite keeps the graph well-formed and applies them to a fixed point.
 */
@FunctionalInterface
public interface Rule {

    Rewrite apply(Context cx, Node anchor);

    /** What a rule sees: the graph's index and fresh value ids for the nodes it builds. */
    interface Context {
        GraphIndex index();

        Value newValue(TensorType type);
    }

    /** Remove {@code removed}, add {@code added}; values read outside the removed nodes must be defined by the added ones. */
    record Rewrite(List<Node> removed, List<Node> added) {
        public Rewrite {
            removed = List.copyOf(removed);
            added = List.copyOf(added);
        }
    }

    /** Replaces the nodes a pattern matched; the replacement is null when the rule declines the match. */
    @FunctionalInterface
    interface Replacement {
        List<Node> replace(Context cx, Match m);
    }

    /** A rule from a pattern rooted at the anchor and its replacement. */
    static Rule of(Pattern pattern, Replacement replacement) {
        return (cx, anchor) -> {
            Match m = Pattern.match(pattern, cx.index(), anchor);
            if (m == null) return null;
            List<Node> added = replacement.replace(cx, m);
            return added == null ? null : new Rewrite(m.matched(), added);
        };
    }
}
