package dev.kiln.tck.containers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a kit run inside a container reports to the host: one entry per test (and per class or
 * container that was skipped or failed as a whole), with its path of display names. Written as
 * one line per entry, {@code STATUS TAB path TAB message}, path segments separated by US (0x1F),
 * tabs, newlines and backslashes escaped, so no library is needed on either side.
 */
record KitReport(List<Entry> entries) {
    enum Status { PASSED, FAILED, SKIPPED }

    record Entry(Status status, List<String> path, String message) {
        Entry {
            path = List.copyOf(path);
            if (path.isEmpty()) throw new IllegalArgumentException("a report entry needs a path");
            message = message == null ? "" : message;
        }
    }

    KitReport { entries = List.copyOf(entries); }

    long count(Status s) { return entries.stream().filter(e -> e.status() == s).count(); }

    void write(Writer out) throws IOException {
        for (Entry e : entries) {
            List<String> path = e.path().stream().map(KitReport::escape).toList();
            out.write(e.status() + "\t" + String.join("\u001F", path) + "\t" + escape(e.message()) + "\n");
        }
        out.flush();
    }

    static KitReport read(InputStream in) throws IOException {
        List<Entry> entries = new ArrayList<>();
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        int n = 0;
        for (String line; (line = r.readLine()) != null; ) {
            n++;
            String[] f = line.split("\t", -1);
            if (f.length != 3) throw new IOException("kit report line " + n + " has " + f.length + " fields, not 3: " + line);
            Status s;
            try {
                s = Status.valueOf(f[0]);
            } catch (IllegalArgumentException e) {
                throw new IOException("kit report line " + n + ": unknown status " + f[0], e);
            }
            entries.add(new Entry(s, Arrays.stream(f[1].split("\u001F", -1)).map(KitReport::unescape).toList(), unescape(f[2])));
        }
        return new KitReport(entries);
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r").replace("\u001F", " ");
    }

    private static String unescape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) { b.append(c); continue; }
            char n = s.charAt(++i);
            b.append(switch (n) { case 't' -> '\t'; case 'n' -> '\n'; case 'r' -> '\r'; default -> n; });
        }
        return b.toString();
    }
}
