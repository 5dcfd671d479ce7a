package dev.kiln.accel.xla.hlo;

import dev.kiln.core.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * Appends the body of {@code @main}, one op per line, and hands out fresh SSA names. Ops are
 * written in MLIR's generic form, {@code %r = "stablehlo.op"(%a, %b) {attrs} : (types) -> type}:
 * it spells every attribute by its stored name and needs no op-specific grammar, so it is what
 * StableHLO's parser has kept accepting across releases (the pretty forms of some ops, slice's
 * among them, changed during 2024). Only dot_general and convolution use their pretty forms, which
 * were checked against TensorFlow 2.18's XLA (see {@link StableHloEmitter}).
 *
 * <p>Helpers build the few patterns every lowering needs (constants, broadcasting, conversion,
 * comparison, select); each returns a new value and never mutates one.
 */
final class StableHloWriter {
    private final StringBuilder body = new StringBuilder();
    private int next;

    /** A value name that no other value uses; the emitter renames results of IR nodes afterwards. */
    String freshName() { return "%t" + next++; }

    Ssa fresh(HloElement element, Shape shape) { return new Ssa(freshName(), element, shape); }

    String text() { return body.toString(); }

    // ---- raw ops ------------------------------------------------------------------------------

    /** {@code "stablehlo.<op>"(operands) {attrs} : (operand types) -> result type}; {@code attrs} may be empty. */
    Ssa op(String op, HloElement element, Shape shape, String attrs, Ssa... operands) {
        Ssa r = fresh(element, shape);
        line(r.name() + " = \"stablehlo." + op + "\"(" + names(operands) + ")" + (attrs.isEmpty() ? "" : " {" + attrs + "}")
                + " : (" + types(operands) + ") -> " + r.type());
        return r;
    }

    /** A one-operand op of the CHLO dialect, {@code "chlo.<op>"(x)}, with {@code x}'s type. */
    Ssa chlo(String op, Ssa x) {
        Ssa r = fresh(x.element(), x.shape());
        line(r.name() + " = \"chlo." + op + "\"(" + x.name() + ") : (" + x.type() + ") -> " + r.type());
        return r;
    }

    /** An op in its pretty form: {@code head} is everything between {@code =} and the trailing function type. */
    Ssa pretty(String head, HloElement element, Shape shape, Ssa... operands) {
        Ssa r = fresh(element, shape);
        line(r.name() + " = " + head + " : (" + types(operands) + ") -> " + r.type());
        return r;
    }

    /**
     * An op with one region that folds two scalars of {@code scalar} with the elementwise op
     * {@code combiner} (reduce and scatter): the region is a block of two arguments, one combining
     * op and {@code stablehlo.return}. Its values get fresh names too, so every name in the
     * function is defined exactly once.
     */
    Ssa withCombiner(String op, HloElement element, Shape shape, String combiner, HloElement scalar, String attrs, Ssa... operands) {
        Ssa r = fresh(element, shape);
        Ssa a = fresh(scalar, Shape.scalar()), b = fresh(scalar, Shape.scalar()), c = fresh(scalar, Shape.scalar());
        line(r.name() + " = \"stablehlo." + op + "\"(" + names(operands) + ") ({");
        line("^bb0(" + a + ", " + b + "):");
        line("  " + c.name() + " = \"stablehlo." + combiner + "\"(" + a.name() + ", " + b.name() + ") : (" + a.type() + ", " + b.type() + ") -> " + c.type());
        line("  \"stablehlo.return\"(" + c.name() + ") : (" + c.type() + ") -> ()");
        line("})" + (attrs.isEmpty() ? "" : " {" + attrs + "}") + " : (" + types(operands) + ") -> " + r.type());
        return r;
    }

    /** This replica's index as an {@code i32} scalar ({@code stablehlo.replica_id} gives {@code ui32}, which no IR type is). */
    Ssa replicaId() {
        String raw = freshName();
        line(raw + " = \"stablehlo.replica_id\"() : () -> tensor<ui32>");
        Ssa r = fresh(HloElement.I32, Shape.scalar());
        line(r.name() + " = \"stablehlo.convert\"(" + raw + ") : (tensor<ui32>) -> " + r.type());
        return r;
    }

    private void line(String s) { body.append("    ").append(s).append('\n'); }

    // ---- helpers ------------------------------------------------------------------------------

    /** A scalar constant, {@code value} rounded or wrapped to {@code element} as Fill does. */
    Ssa constant(double value, HloElement element) { return constantLiteral(HloLiterals.of(value, element), element); }

    /** A scalar integer constant (also {@code ui64} words, written unsigned). */
    Ssa integer(long value, HloElement element) { return constantLiteral(HloLiterals.integer(value, element), element); }

    private Ssa constantLiteral(String literal, HloElement element) {
        String type = Ssa.tensorType(element, Shape.scalar());
        return op("constant", element, Shape.scalar(), "value = dense<" + literal + "> : " + type);
    }

    /**
     * {@code value} everywhere in {@code shape}: a scalar constant broadcast, so that a large fill
     * is not a large literal in the program.
     */
    Ssa splat(double value, HloElement element, Shape shape) {
        return broadcastTo(constant(value, element), shape);
    }

    /** A scalar constant of {@code like}'s element type, broadcast to {@code like}'s shape. */
    Ssa splatLike(double value, Ssa like) { return splat(value, like.element(), like.shape()); }

    Ssa broadcastInDim(Ssa x, Shape shape, int... dims) {
        return op("broadcast_in_dim", x.element(), shape, "broadcast_dimensions = " + i64Array(dims), x);
    }

    /** NumPy broadcasting of {@code x} to {@code shape}: trailing axes align; {@code x} itself when it already has the shape. */
    Ssa broadcastTo(Ssa x, Shape shape) {
        if (x.shape().equals(shape)) return x;
        int offset = shape.rank() - x.rank();
        int[] dims = new int[x.rank()];
        for (int i = 0; i < dims.length; i++) dims[i] = offset + i;
        return broadcastInDim(x, shape, dims);
    }

    Ssa reshape(Ssa x, Shape shape) { return op("reshape", x.element(), shape, "", x); }

    /** {@code stablehlo.convert}, or {@code x} itself when it already has that element type. */
    Ssa convert(Ssa x, HloElement element) {
        return x.element() == element ? x : op("convert", element, x.shape(), "", x);
    }

    /** {@code a <direction> b} ({@code EQ, NE, GT, GE, LT, LE}) on operands of one shape and type; i1 result. */
    Ssa compare(String direction, Ssa a, Ssa b) {
        return op("compare", HloElement.I1, a.shape(),
                "comparison_direction = #stablehlo<comparison_direction " + direction + ">, compare_type = #stablehlo<comparison_type "
                        + a.element().compareType() + ">", a, b);
    }

    Ssa select(Ssa cond, Ssa ifTrue, Ssa ifFalse) { return op("select", ifTrue.element(), ifTrue.shape(), "", cond, ifTrue, ifFalse); }

    /** An elementwise op whose result has its first operand's type ({@code add}, {@code tanh}, {@code and}, ...). */
    Ssa map(String op, Ssa... operands) { return op(op, operands[0].element(), operands[0].shape(), "", operands); }

    /** {@code x}, as a new value: for IR nodes that compute nothing but still need a value of their own. */
    Ssa copy(Ssa x) { return reshape(x, x.shape()); }

    // ---- attribute syntax ---------------------------------------------------------------------

    /** {@code array<i64: 1, 2>}, StableHLO 1.x's dense array attribute; {@code array<i64>} when empty. */
    static String i64Array(int... values) {
        if (values.length == 0) return "array<i64>";
        StringJoiner j = new StringJoiner(", ", "array<i64: ", ">");
        for (int v : values) j.add(Integer.toString(v));
        return j.toString();
    }

    /** {@code [1, 2]}, the list syntax inside {@code #stablehlo.gather<...>} and the pretty forms. */
    static String list(int... values) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        for (int v : values) j.add(Integer.toString(v));
        return j.toString();
    }

    static int[] range(int from, int to) {
        int[] r = new int[Math.max(0, to - from)];
        for (int i = 0; i < r.length; i++) r[i] = from + i;
        return r;
    }

    static int[] ints(List<Integer> values) { return values.stream().mapToInt(Integer::intValue).toArray(); }

    private static String names(Ssa... xs) {
        List<String> n = new ArrayList<>();
        for (Ssa x : xs) n.add(x.name());
        return String.join(", ", n);
    }

    private static String types(Ssa... xs) {
        List<String> n = new ArrayList<>();
        for (Ssa x : xs) n.add(x.type());
        return String.join(", ", n);
    }
}
