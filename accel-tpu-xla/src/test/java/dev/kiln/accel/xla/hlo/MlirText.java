package dev.kiln.accel.xla.hlo;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small reader of the emitted module, for tests: the {@code @main} signature, every op's result
 * and operand types, and the returned values. Reading it checks what MLIR's parser would reject
 * first: every SSA name defined once and before its use, each operand's type in an op's signature
 * equal to the type its definition gave it, and {@code func.return}'s types equal to the
 * function's result types. It knows only the shapes of line the emitter writes, not MLIR.
 */
final class MlirText {
    private static final Pattern NAME = Pattern.compile("%[A-Za-z0-9_.$]+");
    private static final Pattern FUNC = Pattern.compile("^\\s*func\\.func public @main\\((.*?)\\)(?: -> \\((.*)\\))? \\{$");

    record Arg(String name, String type, String attributes) {}

    /** One op: its result, its name ({@code stablehlo.add}), operands in order and the types its signature declares. */
    record Op(String result, String name, List<String> operands, List<String> operandTypes, String resultType, String line) {}

    private final List<Arg> args = new ArrayList<>();
    private final List<String> resultTypes = new ArrayList<>();
    private final Map<String, String> types = new HashMap<>();
    private final List<Op> ops = new ArrayList<>();
    private final List<String> returned = new ArrayList<>();

    private MlirText() {}

    List<Arg> args() { return args; }

    List<String> resultTypes() { return resultTypes; }

    List<Op> ops() { return ops; }

    List<String> returned() { return returned; }

    /** The type a name was defined with, or null. */
    String typeOf(String name) { return types.get(name); }

    long count(String opName) { return ops.stream().filter(o -> o.name().equals(opName)).count(); }

    /** Parses {@code text}, failing with an {@link AssertionError} naming the line at the first thing MLIR would refuse. */
    static MlirText parse(String text) {
        MlirText m = new MlirText();
        m.read(text.split("\n"));
        return m;
    }

    private void read(String[] lines) {
        int i = 0;
        check(lines[i++].startsWith("module @"), "the text must open with a module", lines[0]);
        Matcher f = FUNC.matcher(lines[i++]);
        check(f.matches(), "the second line must be func.func public @main(...)", lines[1]);
        for (String a : splitTopLevel(f.group(1))) {
            int colon = a.indexOf(": ");
            check(colon > 0, "bad argument", a);
            String name = a.substring(0, colon), rest = a.substring(colon + 2);
            int brace = rest.indexOf(" {");
            String type = brace < 0 ? rest : rest.substring(0, brace);
            define(name, type, a);
            args.add(new Arg(name, type, brace < 0 ? "" : rest.substring(brace + 2, rest.length() - 1)));
        }
        if (f.group(2) != null) resultTypes.addAll(splitTopLevel(f.group(2)));

        Deque<String[]> open = new ArrayDeque<>(); // ops whose region is being read: {result, name, operands}
        boolean ended = false;
        for (; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) continue;
            if (line.equals("}")) {
                ended = true;
                continue;
            }
            check(!ended, "text after the function", line);
            if (line.startsWith("^bb")) {
                check(!open.isEmpty() && line.endsWith("):"), "a block outside a region", line);
                for (String a : splitTopLevel(line.substring(line.indexOf('(') + 1, line.length() - 2))) {
                    int colon = a.indexOf(": ");
                    define(a.substring(0, colon), a.substring(colon + 2), line);
                }
            } else if (line.startsWith("\"stablehlo.return\"")) {
                check(!open.isEmpty(), "a return outside a region", line);
                checkUses(line.substring(0, line.lastIndexOf(" : ")), line);
            } else if (line.startsWith("\"func.return\"")) {
                check(open.isEmpty(), "func.return inside a region", line);
                String[] sig = signature(line);
                List<String> uses = names(line.substring(0, topLevelColon(line)));
                checkOperands(uses, splitParens(sig[0]), line);
                check(splitParens(sig[0]).equals(resultTypes), "func.return types differ from the function's results " + resultTypes, line);
                returned.addAll(uses);
            } else if (line.startsWith("})")) {
                check(!open.isEmpty(), "a region closes that never opened", line);
                String[] op = open.pop();
                String[] sig = signature(line.substring(2));
                List<String> operands = op[2].isEmpty() ? List.of() : List.of(op[2].split(","));
                addOp(op[0], op[1], operands, sig, line);
            } else {
                check(line.startsWith("%") && line.contains(" = "), "not an op", line);
                String result = line.substring(0, line.indexOf(" = "));
                check(!result.contains(":") && !result.contains("#"), "multi-result ops are not expected", line);
                String rest = line.substring(line.indexOf(" = ") + 3);
                String opName = rest.startsWith("\"") ? rest.substring(1, rest.indexOf('"', 1)) : rest.split("[ (]", 2)[0];
                if (line.endsWith("({")) {
                    List<String> operands = names(rest);
                    checkUses(rest, line);
                    open.push(new String[] {result, opName, String.join(",", operands)});
                } else {
                    int colon = topLevelColon(line);
                    List<String> operands = names(line.substring(line.indexOf(" = ") + 3, colon));
                    checkUses(line.substring(line.indexOf(" = ") + 3, colon), line);
                    addOp(result, opName, operands, signature(line), line);
                }
            }
        }
        check(open.isEmpty(), "an unclosed region", "");
        check(ended, "the function never closes", "");
    }

    private void addOp(String result, String opName, List<String> operands, String[] sig, String line) {
        List<String> operandTypes = splitParens(sig[0]);
        checkOperands(operands, operandTypes, line);
        define(result, sig[1], line);
        ops.add(new Op(result, opName, operands, operandTypes, sig[1], line));
    }

    private void checkOperands(List<String> operands, List<String> declared, String line) {
        check(operands.size() == declared.size(), operands.size() + " operands but " + declared.size() + " types", line);
        for (int k = 0; k < operands.size(); k++) {
            String t = types.get(operands.get(k));
            check(t != null, operands.get(k) + " is used before it is defined", line);
            check(t.equals(declared.get(k)), operands.get(k) + " is " + t + " but the op says " + declared.get(k), line);
        }
    }

    private void checkUses(String text, String line) {
        for (String n : names(text)) check(types.containsKey(n), n + " is used before it is defined", line);
    }

    private void define(String name, String type, String line) {
        check(NAME.matcher(name).matches(), "bad SSA name " + name, line);
        check(type.startsWith("tensor<") && type.endsWith(">"), "not a tensor type: " + type, line);
        check(types.put(name, type) == null, name + " is defined twice", line);
    }

    private static List<String> names(String text) {
        List<String> r = new ArrayList<>();
        Matcher m = NAME.matcher(text);
        while (m.find()) r.add(m.group());
        return r;
    }

    /** The {@code (operand types)} and result type after the line's last top-level {@code " : "}. */
    private static String[] signature(String line) {
        String sig = line.substring(topLevelColon(line) + 3);
        int arrow = sig.lastIndexOf(") -> ");
        check(sig.startsWith("(") && arrow >= 0, "no function type", line);
        return new String[] {sig.substring(0, arrow + 1), sig.substring(arrow + 5)};
    }

    /** The last {@code " : "} outside brackets; attribute values such as {@code dense<1.0> : tensor<f32>} sit inside braces. */
    private static int topLevelColon(String s) {
        int depth = 0, at = -1;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c == '-' && k + 1 < s.length() && s.charAt(k + 1) == '>') {
                k++;
                continue;
            }
            if (c == '(' || c == '[' || c == '{' || c == '<') depth++;
            else if (c == ')' || c == ']' || c == '}' || c == '>') depth--;
            else if (depth == 0 && s.startsWith(" : ", k)) at = k;
        }
        check(at >= 0, "no top-level type", s);
        return at;
    }

    private static List<String> splitParens(String s) {
        check(s.startsWith("(") && s.endsWith(")"), "not a parenthesised list: " + s, s);
        return splitTopLevel(s.substring(1, s.length() - 1));
    }

    private static List<String> splitTopLevel(String s) {
        List<String> parts = new ArrayList<>();
        if (s.isBlank()) return parts;
        int depth = 0, start = 0;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c == '-' && k + 1 < s.length() && s.charAt(k + 1) == '>') {
                k++;
                continue;
            }
            if (c == '(' || c == '[' || c == '{' || c == '<') depth++;
            else if (c == ')' || c == ']' || c == '}' || c == '>') depth--;
            else if (c == ',' && depth == 0) {
                parts.add(s.substring(start, k).strip());
                start = k + 1;
            }
        }
        parts.add(s.substring(start).strip());
        return parts;
    }

    private static void check(boolean ok, String what, String line) {
        if (!ok) throw new AssertionError(what + (line.isEmpty() ? "" : "\n  at: " + line));
    }
}
