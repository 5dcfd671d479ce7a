package dev.kiln.api.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A CSV file with a header row, read whole into memory as text, for small tabular datasets: cells
 * are turned into numbers only for the columns asked for ({@link #floats}, {@link #dataset}), so a
 * text column (a name, an id) can sit beside them. Fields are separated by commas and may be
 * quoted ({@code "a, b"}, {@code ""} for a quote), as RFC 4180 has it, but may not span lines.
 * Every error is a {@link DatasetException} naming the file, the line and the column.
 */
public final class CsvTable {
    private final String source;
    private final Path path;
    private final List<String> header;
    private final List<String[]> rows;
    private final int[] lines;
    private final Map<String, Integer> index = new HashMap<>();

    private CsvTable(String source, Path path, List<String> header, List<String[]> rows, int[] lines) {
        this.source = source;
        this.path = path;
        this.header = List.copyOf(header);
        this.rows = rows;
        this.lines = lines;
        for (int c = 0; c < header.size(); c++) {
            if (index.putIfAbsent(header.get(c), c) != null) {
                throw error(1, "column " + (c + 1) + " is named '" + header.get(c) + "' like column " + (index.get(header.get(c)) + 1));
            }
        }
    }

    /** Reads {@code file} (UTF-8). */
    public static CsvTable read(Path file) {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(file.toString(), file, in);
        } catch (IOException e) {
            throw new DatasetException(file, "cannot read the CSV file: " + e.getMessage(), e);
        }
    }

    /** Reads a class-path resource (UTF-8), e.g. {@code read(MyApp.class, "/data/table.csv")}. */
    public static CsvTable read(Class<?> anchor, String resource) {
        InputStream s = anchor.getResourceAsStream(resource);
        if (s == null) throw new DatasetException(null, "the CSV resource " + resource + " is not on the class path of " + anchor.getName());
        try (Reader in = new InputStreamReader(s, StandardCharsets.UTF_8)) {
            return parse(resource, null, in);
        } catch (IOException e) {
            throw new DatasetException(null, resource + ": cannot read the CSV resource: " + e.getMessage(), e);
        }
    }

    /** Parses CSV text from {@code in}; {@code source} names it in errors. */
    public static CsvTable parse(String source, Reader in) {
        try {
            return parse(source, null, in);
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": " + e.getMessage(), e);
        }
    }

    private static CsvTable parse(String source, Path path, Reader in) throws IOException {
        BufferedReader r = in instanceof BufferedReader b ? b : new BufferedReader(in);
        List<String> header = null;
        List<String[]> rows = new ArrayList<>();
        List<Integer> lines = new ArrayList<>();
        int line = 0;
        for (String text; (text = r.readLine()) != null; ) {
            line++;
            if (line == 1 && text.startsWith("\uFEFF")) text = text.substring(1); // a byte-order mark some editors write
            if (text.isBlank()) continue;
            List<String> fields = split(source, path, line, text);
            if (header == null) {
                header = fields.stream().map(String::strip).toList();
                continue;
            }
            if (fields.size() != header.size()) {
                throw new DatasetException(path, where(source, path, line) + "has " + fields.size() + " fields but the header has " + header.size());
            }
            rows.add(fields.toArray(String[]::new));
            lines.add(line);
        }
        if (header == null) throw new DatasetException(path, where(source, path, 0) + "is empty: a header row is needed");
        return new CsvTable(source, path, header, rows, lines.stream().mapToInt(Integer::intValue).toArray());
    }

    /** One line's fields: commas separate, double quotes enclose, {@code ""} is a quote inside them. */
    private static List<String> split(String source, Path path, int line, String text) {
        List<String> out = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (quoted) {
                if (ch != '"') f.append(ch);
                else if (i + 1 < text.length() && text.charAt(i + 1) == '"') { f.append('"'); i++; }
                else quoted = false;
            } else if (ch == '"' && f.isEmpty()) quoted = true;
            else if (ch == ',') { out.add(f.toString()); f.setLength(0); }
            else f.append(ch);
        }
        if (quoted) throw new DatasetException(path, where(source, path, line) + "column " + (out.size() + 1) + ": a quoted field is not closed on its line");
        out.add(f.toString());
        return out;
    }

    private static String where(String source, Path path, int line) {
        // A DatasetException with a path puts the path first itself.
        return (path == null ? source + ": " : "") + (line > 0 ? "line " + line + ": " : "");
    }

    private DatasetException error(int line, String message) { return new DatasetException(path, where(source, path, line) + message); }

    /** The column names, in file order. */
    public List<String> columns() { return header; }

    /** Number of data rows (the header and blank lines not counted). */
    public int size() { return rows.size(); }

    /** The text of column {@code column} in data row {@code row}, unquoted and as written. */
    public String cell(int row, String column) { return rows.get(Objects.checkIndex(row, rows.size()))[column(column)]; }

    /** The values of {@code columns} in every row, as numbers: {@code [size()][columns.length]}. */
    public float[][] floats(String... columns) {
        int[] cols = Arrays.stream(columns).mapToInt(this::column).toArray();
        float[][] out = new float[rows.size()][cols.length];
        for (int i = 0; i < out.length; i++) {
            for (int j = 0; j < cols.length; j++) out[i][j] = number(i, cols[j]);
        }
        return out;
    }

    /** A dataset of {@code features} columns as examples {@code [features.size()]} and {@code targets} columns as float targets. */
    public ArrayDataset dataset(List<String> features, List<String> targets) {
        if (features.isEmpty() || targets.isEmpty()) throw new IllegalArgumentException("a dataset needs at least one feature and one target column");
        if (rows.isEmpty()) throw error(0, "has a header but no rows");
        return ArrayDataset.of(floats(features.toArray(String[]::new)), floats(targets.toArray(String[]::new)));
    }

    private int column(String name) {
        Integer c = index.get(Objects.requireNonNull(name, "column"));
        if (c == null) throw error(1, "no column '" + name + "'; the header has " + header);
        return c;
    }

    private float number(int row, int col) {
        String text = rows.get(row)[col].strip();
        float v;
        try {
            v = Float.parseFloat(text);
        } catch (NumberFormatException e) {
            throw error(lines[row], "column " + (col + 1) + " (" + header.get(col) + "): '" + rows.get(row)[col] + "' is not a number"
                    + (text.isEmpty() ? " (the cell is empty: a missing value; drop or fill such rows first)" : ""));
        }
        // parseFloat accepts "NaN", "Infinity" and hex floats; a table of measurements should not hold the first two.
        if (!Float.isFinite(v)) throw error(lines[row], "column " + (col + 1) + " (" + header.get(col) + "): '" + text + "' is not a finite number");
        return v;
    }

    @Override public String toString() { return "CsvTable[" + source + ", " + rows.size() + " rows, columns " + header + "]"; }
}
