package dev.kiln.api.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Mutations that know the safetensors layout: structural ones change one field of an otherwise
 * well-formed file (a metadata value, a dtype, a shape, offsets that overlap or leave the file),
 * textual ones mangle the header's JSON itself (numbers past a long, deep nesting, bad escapes,
 * cut-off text), and either may lie about the header length.
 */
final class SafeTensorsMutations {
    static final String[] DTYPES = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3", "Q7", "f32", "", "F32 "};
    /** Metadata values that break a naive parse or a missing range check. */
    static final String[] VALUES = {
        "-1", "0", "1", "2", "NaN", "Infinity", "-Infinity", "1e309", "-0.0", "0.5", "1e-320", "4.9e-324", "1.7976931348623157E308",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "2147483647", "2147483648", "-2147483649",
        "abc", "", "0x10", " 1", "1 ", "+1", "1.0", "65536.0", "1000000", "kiln.trainer", "kiln.eager", "exp_avg", "momentum_buffer",
    };
    static final String[] NUMBERS = {"-1", "0", "1", "-0", "1.5", "1e400", "99999999999999999999", "9223372036854775807",
        "9223372036854775808", "4294967296", "4611686018427387904", "2147483648", "0x10", "00", "-", "1e", "3.0"};
    private static final String STRUCTURAL = "{}[],:\"\\ -0e.tfn";
    private static final Pattern NUMBER = Pattern.compile("-?\\d+");
    private static final Pattern STRING = Pattern.compile("\"([^\"\\\\]*)\"");

    private SafeTensorsMutations() {}

    /** One or two fields of {@code valid} changed; the rest encoded correctly. */
    static byte[] structural(SafeTensorsImage valid, SplittableRandom r) {
        SafeTensorsImage img = valid.copy();
        for (int n = 1 + r.nextInt(2); n > 0; n--) structuralOnce(img, r);
        if (r.nextInt(10) > 0) return img.encode();
        byte[] h = img.header().getBytes(StandardCharsets.UTF_8);
        return img.encode(h, Mutations.interesting(r, h.length));
    }

    /** Only metadata values changed: what a restore must check after the file parses. */
    static byte[] metadataValue(SafeTensorsImage valid, SplittableRandom r) {
        SafeTensorsImage img = valid.copy();
        for (int n = 1 + r.nextInt(2); n > 0; n--) setMetadata(img, r);
        return img.encode();
    }

    private static void setMetadata(SafeTensorsImage img, SplittableRandom r) {
        List<String> keys = new ArrayList<>(img.metadata.keySet());
        if (keys.isEmpty()) return;
        String key = keys.get(r.nextInt(keys.size()));
        String value = switch (r.nextInt(4)) {
            case 0 -> VALUES[r.nextInt(VALUES.length)];
            case 1 -> img.metadata.get(keys.get(r.nextInt(keys.size()))); // another field's value
            case 2 -> Long.toString(r.nextLong(-1000, 100_000));
            default -> Double.toString(r.nextDouble(-10, 1e6));
        };
        img.metadata.put(key, value);
    }

    private static void structuralOnce(SafeTensorsImage img, SplittableRandom r) {
        int what = r.nextInt(10);
        if (what <= 2 || img.entries.isEmpty()) {
            List<String> keys = new ArrayList<>(img.metadata.keySet());
            if (what == 1 && !keys.isEmpty()) img.metadata.remove(keys.get(r.nextInt(keys.size())));
            else if (what == 2) img.metadata.put(r.nextBoolean() ? "scaler.scale" : "x" + r.nextInt(100), VALUES[r.nextInt(VALUES.length)]);
            else setMetadata(img, r);
            return;
        }
        SafeTensorsImage.Entry e = img.entries.get(r.nextInt(img.entries.size()));
        switch (what) {
            case 3 -> e.dtype = DTYPES[r.nextInt(DTYPES.length)];
            case 4 -> e.shape = shape(e.shape, r);
            case 5 -> e.data = r.nextBoolean() ? java.util.Arrays.copyOf(e.data, r.nextInt(e.data.length + 1)) : Mutations.extend(e.data, r);
            case 6 -> offsets(e, r);
            case 7 -> img.entries.remove(e);
            case 8 -> {
                SafeTensorsImage.Entry d = e.copy();
                if (r.nextBoolean()) d.name = d.name + "_copy"; // same data twice: the second overlaps what follows
                img.entries.add(r.nextInt(img.entries.size() + 1), d);
            }
            default -> e.name = switch (r.nextInt(4)) {
                case 0 -> "optimizer." + e.name;
                case 1 -> e.name + ".x";
                case 2 -> "__metadata__";
                default -> img.entries.get(r.nextInt(img.entries.size())).name; // a duplicate key
            };
        }
    }

    private static long[] shape(long[] s, SplittableRandom r) {
        long[] c = s.clone();
        switch (r.nextInt(4)) {
            case 0 -> { if (c.length > 0) c[r.nextInt(c.length)] = Mutations.interesting(r, c[r.nextInt(c.length)]); }
            case 1 -> { if (c.length > 0) c[r.nextInt(c.length)] += r.nextBoolean() ? 1 : -1; }
            case 2 -> {
                c = java.util.Arrays.copyOf(c, c.length + 1);
                c[c.length - 1] = r.nextBoolean() ? 1 : Mutations.interesting(r, 2);
            }
            default -> { if (c.length > 0) c = java.util.Arrays.copyOf(c, c.length - 1); }
        }
        return c;
    }

    private static void offsets(SafeTensorsImage.Entry e, SplittableRandom r) {
        switch (r.nextInt(3)) {
            case 0 -> e.begin = Mutations.interesting(r, e.data.length);
            case 1 -> e.end = Mutations.interesting(r, e.data.length);
            default -> { // shifted or reversed, so that it overlaps a neighbour or leaves the file
                long shift = r.nextInt(17) - 8;
                e.begin = (long) r.nextInt(64) + shift;
                e.end = r.nextBoolean() ? e.begin + e.data.length : e.begin - 1;
            }
        }
    }

    /** The header text itself mangled, its length stated truly or not. */
    static byte[] textual(SafeTensorsImage valid, SplittableRandom r) {
        String h = valid.header();
        for (int n = 1 + r.nextInt(2); n > 0; n--) h = textOnce(h, r);
        byte[] bytes = h.getBytes(StandardCharsets.UTF_8);
        if (r.nextInt(8) == 0 && bytes.length > 0) bytes[r.nextInt(bytes.length)] = (byte) (0x80 + r.nextInt(128)); // not UTF-8
        return valid.encode(bytes, r.nextInt(7) == 0 ? Mutations.interesting(r, bytes.length) : null);
    }

    private static String textOnce(String h, SplittableRandom r) {
        return switch (r.nextInt(8)) {
            case 0 -> replaceOne(h, NUMBER, NUMBERS[r.nextInt(NUMBERS.length)], r);
            case 1 -> h.isEmpty() ? h : deleteChar(h, r.nextInt(h.length()));
            case 2 -> insert(h, r.nextInt(h.length() + 1), String.valueOf(STRUCTURAL.charAt(r.nextInt(STRUCTURAL.length()))));
            case 3 -> replaceOne(h, STRING, "\"" + new String[] {"\\u00zz", "\\ud800", "\\", "\\x41", "\u00e9\u4e2d", "\\u0000", "a\tb"}[r.nextInt(7)] + "\"", r);
            case 4 -> {
                int depth = 10 + r.nextInt(30);
                yield replaceOne(h, NUMBER, "[".repeat(depth) + "1" + "]".repeat(depth), r);
            }
            case 5 -> h.substring(0, r.nextInt(h.length() + 1));
            case 6 -> h + new String[] {"   ", "x", "}", ",{}", "\u0000"}[r.nextInt(5)];
            default -> garbage(r);
        };
    }

    private static String garbage(SplittableRandom r) {
        String[] tokens = {"{", "}", "[", "]", ",", ":", "\"a\"", "\"dtype\"", "\"F32\"", "\"shape\"", "\"data_offsets\"", "1", "-1", "true", "null", "1e9"};
        StringBuilder sb = new StringBuilder();
        for (int i = r.nextInt(40); i > 0; i--) sb.append(tokens[r.nextInt(tokens.length)]);
        return sb.toString();
    }

    private static String replaceOne(String h, Pattern p, String with, SplittableRandom r) {
        Matcher m = p.matcher(h);
        List<int[]> spans = new ArrayList<>();
        while (m.find()) spans.add(new int[] {m.start(), m.end()});
        if (spans.isEmpty()) return h;
        int[] s = spans.get(r.nextInt(spans.size()));
        return h.substring(0, s[0]) + with + h.substring(s[1]);
    }

    private static String deleteChar(String h, int at) { return h.substring(0, at) + h.substring(at + 1); }

    private static String insert(String h, int at, String s) { return h.substring(0, at) + s + h.substring(at); }
}
