package dev.kiln.api.checkpoint;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The little JSON a safetensors header needs: objects, arrays, strings, integers (and, to fail
 * politely, other numbers, booleans and null). Written by hand so the API module keeps no JSON
 * dependency; parse errors carry the byte offset so a corrupt header can be located.
 */
final class Json {
    /** What went wrong and where in the text. */
    static final class ParseException extends Exception {
        private static final long serialVersionUID = 1L;

        ParseException(String message, int offset) { super(message + " at offset " + offset); }
    }

    private final String text;
    private int pos;

    private Json(String text) { this.text = text; }

    /** Maps become LinkedHashMap (file order kept), arrays List, integers Long, other numbers Double. */
    static Object parse(String text) throws ParseException {
        Json j = new Json(text);
        Object v = j.value(0);
        j.skipSpace();
        if (j.pos != text.length()) throw new ParseException("unexpected text after the JSON value", j.pos);
        return v;
    }

    private Object value(int depth) throws ParseException {
        if (depth > 16) throw new ParseException("nesting too deep", pos);
        skipSpace();
        if (pos >= text.length()) throw new ParseException("unexpected end of JSON", pos);
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) yield number();
                throw new ParseException("unexpected character '" + c + "'", pos);
            }
        };
    }

    private Map<String, Object> object(int depth) throws ParseException {
        Map<String, Object> m = new LinkedHashMap<>();
        pos++;
        skipSpace();
        if (peek('}')) { pos++; return m; }
        while (true) {
            skipSpace();
            if (!peek('"')) throw new ParseException("expected a quoted key", pos);
            int keyAt = pos;
            String k = string();
            skipSpace();
            expect(':');
            if (m.put(k, value(depth + 1)) != null) throw new ParseException("duplicate key \"" + k + "\"", keyAt);
            skipSpace();
            if (peek(',')) { pos++; continue; }
            expect('}');
            return m;
        }
    }

    private List<Object> array(int depth) throws ParseException {
        List<Object> l = new ArrayList<>();
        pos++;
        skipSpace();
        if (peek(']')) { pos++; return l; }
        while (true) {
            l.add(value(depth + 1));
            skipSpace();
            if (peek(',')) { pos++; continue; }
            expect(']');
            return l;
        }
    }

    private String string() throws ParseException {
        StringBuilder sb = new StringBuilder();
        pos++;
        while (pos < text.length()) {
            char c = text.charAt(pos++);
            if (c == '"') return sb.toString();
            if (c < 0x20) throw new ParseException("control character in string", pos - 1);
            if (c != '\\') { sb.append(c); continue; }
            if (pos >= text.length()) break;
            char e = text.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (pos + 4 > text.length()) throw new ParseException("short \\u escape", pos);
                    int code = 0;
                    for (int i = 0; i < 4; i++) { // not Integer.parseInt, which would take a sign
                        int digit = "0123456789abcdef".indexOf(Character.toLowerCase(text.charAt(pos + i)));
                        if (digit < 0) throw new ParseException("bad \\u escape", pos);
                        code = code * 16 + digit;
                    }
                    sb.append((char) code);
                    pos += 4;
                }
                default -> throw new ParseException("bad escape \\" + e, pos - 1);
            }
        }
        throw new ParseException("unterminated string", pos);
    }

    private Object number() throws ParseException {
        int start = pos;
        if (peek('-')) pos++;
        while (pos < text.length() && "0123456789+-.eE".indexOf(text.charAt(pos)) >= 0) pos++;
        String n = text.substring(start, pos);
        try {
            if (n.matches("-?\\d+")) return Long.parseLong(n);
            return Double.parseDouble(n);
        } catch (NumberFormatException e) {
            throw new ParseException("bad number " + n, start);
        }
    }

    private Object literal(String word, Object v) throws ParseException {
        if (!text.startsWith(word, pos)) throw new ParseException("unexpected character '" + text.charAt(pos) + "'", pos);
        pos += word.length();
        return v;
    }

    private boolean peek(char c) { return pos < text.length() && text.charAt(pos) == c; }

    private void expect(char c) throws ParseException {
        if (!peek(c)) throw new ParseException("expected '" + c + "'", pos);
        pos++;
    }

    private void skipSpace() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) pos++;
    }

    /** {@code s} as a JSON string literal. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
