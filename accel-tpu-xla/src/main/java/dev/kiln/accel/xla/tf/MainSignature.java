package dev.kiln.accel.xla.tf;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * The argument and result types of a StableHLO text module's {@code @main}, read from its
 * signature so that they can be held against the types the caller declared.
 *
 * <p>Why: TF types XlaCallModule's results by its {@code Tout} attribute but sizes their buffers
 * by what XLA computed. A {@code Tout} that differs from the module's result type is not refused;
 * the result tensor then claims more (or fewer) bytes than its buffer holds, and copying it out
 * reads past the buffer's end. Checked on TF 2.18: {@code Tout=[f64]} for a {@code tensor<2x3xf32>}
 * result ran "successfully" and returned three doubles of f32 pairs and three of stray memory.
 *
 * <p>This is a reader of the one line that matters, not an MLIR parser: it wants {@code @main}
 * in the pretty form ({@code func.func public @main(%a: tensor<2x3xf32> {attrs}, ...) -> (...)})
 * and reads {@code tensor<DIMSxTYPE>} types with static dimensions. Attribute dictionaries and
 * string literals in the signature are skipped.
 */
record MainSignature(List<TensorType> arguments, List<TensorType> results) {

    /** @throws IllegalArgumentException when {@code @main}'s signature cannot be read or uses types Kiln lacks */
    static MainSignature of(String text) {
        Scanner s = new Scanner(text);
        int at = s.findMain();
        if (at < 0) {
            throw new IllegalArgumentException("the module has no '@main(' signature in the pretty form"
                    + " (func.func public @main(%arg0: tensor<...>, ...) -> ...) to check its types against");
        }
        s.pos = at;
        List<TensorType> arguments = s.typeList("argument");
        s.skipSpace();
        List<TensorType> results = List.of();
        if (s.startsWith("->")) {
            s.pos += 2;
            s.skipSpace();
            results = s.startsWith("(") ? s.typeList("result") : List.of(s.type("result 0"));
        }
        return new MainSignature(arguments, results);
    }

    /** @throws IllegalArgumentException naming the first argument or result whose type differs */
    void require(List<TensorType> declaredInputs, List<TensorType> declaredOutputs) {
        match("input", arguments, declaredInputs);
        match("output", results, declaredOutputs);
    }

    private static void match(String what, List<TensorType> module, List<TensorType> declared) {
        if (module.size() != declared.size()) {
            throw new IllegalArgumentException("@main has " + module.size() + " " + what + "s " + module
                    + ", but " + declared.size() + " were declared: " + declared);
        }
        for (int i = 0; i < module.size(); i++) {
            if (!module.get(i).equals(declared.get(i))) {
                throw new IllegalArgumentException(what + " " + i + " of @main is " + module.get(i) + ", but " + declared.get(i) + " was declared");
            }
        }
    }

    private static final class Scanner {
        /** What stands before {@code @main} where it is defined rather than called. */
        private static final java.util.regex.Pattern DEFINITION = java.util.regex.Pattern.compile("func(\\.func)?(\\s+(public|private|nested))?\\s*$");
        final String text;
        int pos;

        Scanner(String text) { this.text = text; }

        /** Where the '(' after the first {@code @main} outside comments and strings is, or -1. */
        int findMain() {
            for (pos = 0; pos < text.length(); ) {
                char c = text.charAt(pos);
                if (c == '"') skipString();
                else if (startsWith("//")) skipLine();
                else if (startsWith("@main") && !identifierChar(pos + 5) && DEFINITION.matcher(text.substring(Math.max(0, pos - 40), pos)).find()) {
                    pos += 5;
                    skipSpace();
                    if (startsWith("(")) return pos;
                } else pos++;
            }
            return -1;
        }

        /** A parenthesized, comma-separated list of {@code [%name:] type [{attrs}]}. */
        List<TensorType> typeList(String what) {
            List<TensorType> types = new ArrayList<>();
            pos++; // '('
            skipSpace();
            if (startsWith(")")) { pos++; return types; }
            while (true) {
                skipSpace();
                if (startsWith("%")) {
                    while (pos < text.length() && text.charAt(pos) != ':') pos++;
                    pos++;
                    skipSpace();
                }
                types.add(type(what + " " + types.size()));
                skipSpace();
                if (startsWith("{")) skipBalanced('{', '}');
                skipSpace();
                if (startsWith("loc(")) skipBalanced('(', ')');
                skipSpace();
                if (startsWith(",")) { pos++; continue; }
                if (startsWith(")")) { pos++; return types; }
                throw unreadable(what + " " + types.size());
            }
        }

        TensorType type(String what) {
            if (!startsWith("tensor<")) {
                int end = Math.min(text.length(), pos + 40);
                throw new IllegalArgumentException("@main's " + what + " is '" + text.substring(pos, end).split("[,){\\n]")[0]
                        + "', not a tensor<...> with static dimensions");
            }
            int start = pos + "tensor<".length();
            int close = text.indexOf('>', start);
            if (close < 0) throw unreadable(what);
            pos = close + 1;
            String body = text.substring(start, close);
            int comma = body.indexOf(',');
            if (comma >= 0) body = body.substring(0, comma); // an encoding: tensor<4xf32, #enc>
            String[] parts = body.trim().split("x");
            int[] dims = new int[parts.length - 1];
            for (int i = 0; i < dims.length; i++) {
                if (!parts[i].matches("[0-9]+")) {
                    throw new IllegalArgumentException("@main's " + what + " is tensor<" + body + ">: only static dimensions can be run");
                }
                dims[i] = Integer.parseInt(parts[i]);
            }
            return new TensorType(elementType(parts[parts.length - 1], what, body), Shape.of(dims));
        }

        private static DType elementType(String name, String what, String body) {
            return switch (name) {
                case "f32" -> DType.F32;
                case "f64" -> DType.F64;
                case "bf16" -> DType.BF16;
                case "f16" -> DType.F16;
                case "i32" -> DType.I32;
                case "i64" -> DType.I64;
                case "i8" -> DType.I8;
                case "i1" -> DType.BOOL;
                default -> throw new IllegalArgumentException("@main's " + what + " is tensor<" + body + ">, whose element type "
                        + name + " Kiln has no DType for");
            };
        }

        void skipBalanced(char open, char close) {
            int depth = 0;
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c == '"') { skipString(); continue; }
                pos++;
                if (c == open) depth++;
                else if (c == close && --depth == 0) return;
            }
        }

        void skipString() {
            pos++;
            while (pos < text.length() && text.charAt(pos) != '"') pos += text.charAt(pos) == '\\' ? 2 : 1;
            pos++;
        }

        void skipLine() {
            while (pos < text.length() && text.charAt(pos) != '\n') pos++;
        }

        void skipSpace() {
            while (pos < text.length()) {
                if (Character.isWhitespace(text.charAt(pos))) pos++;
                else if (startsWith("//")) skipLine();
                else return;
            }
        }

        boolean startsWith(String s) { return text.startsWith(s, pos); }

        private boolean identifierChar(int i) {
            return i < text.length() && (Character.isLetterOrDigit(text.charAt(i)) || text.charAt(i) == '_' || text.charAt(i) == '$' || text.charAt(i) == '.');
        }

        IllegalArgumentException unreadable(String what) {
            int end = Math.min(text.length(), pos + 40);
            return new IllegalArgumentException("cannot read @main's " + what + " at '" + text.substring(pos, end) + "'");
        }
    }
}
