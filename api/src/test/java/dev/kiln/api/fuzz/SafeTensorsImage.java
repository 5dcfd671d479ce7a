package dev.kiln.api.fuzz;

import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.checkpoint.StoredTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file as editable parts (tensor entries and metadata) that encode to bytes in
 * memory, so a mutation can lie about one field (an offset, a dtype, a shape) while the rest stays
 * well-formed. Writing through {@link SafeTensorsFile#write} would force every input to disk.
 */
final class SafeTensorsImage {
    /** One header entry; {@code begin}/{@code end} null means "where the data really is". */
    static final class Entry {
        String name, dtype;
        long[] shape;
        byte[] data;
        Long begin, end;

        Entry(String name, String dtype, long[] shape, byte[] data) {
            this.name = name;
            this.dtype = dtype;
            this.shape = shape;
            this.data = data;
        }

        Entry copy() {
            Entry e = new Entry(name, dtype, shape.clone(), data.clone());
            e.begin = begin;
            e.end = end;
            return e;
        }
    }

    final List<Entry> entries = new ArrayList<>();
    final Map<String, String> metadata = new LinkedHashMap<>();

    static SafeTensorsImage of(Path valid) {
        SafeTensorsFile f = SafeTensorsFile.read(valid);
        SafeTensorsImage img = new SafeTensorsImage();
        f.tensors().forEach((name, t) -> img.entries.add(new Entry(name, t.dtype().name(), t.shape(), t.bytes())));
        img.metadata.putAll(f.metadata());
        return img;
    }

    static SafeTensorsImage of(Map<String, StoredTensor> tensors, Map<String, String> metadata) {
        SafeTensorsImage img = new SafeTensorsImage();
        tensors.forEach((name, t) -> img.entries.add(new Entry(name, t.dtype().name(), t.shape(), t.bytes())));
        img.metadata.putAll(metadata);
        return img;
    }

    SafeTensorsImage copy() {
        SafeTensorsImage c = new SafeTensorsImage();
        entries.forEach(e -> c.entries.add(e.copy()));
        c.metadata.putAll(metadata);
        return c;
    }

    /** The header's JSON text, with offsets where the data goes unless an entry says otherwise. */
    String header() {
        StringBuilder json = new StringBuilder("{");
        String sep = "";
        if (!metadata.isEmpty()) {
            json.append("\"__metadata__\":{");
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                json.append(sep).append(quote(m.getKey())).append(':').append(quote(m.getValue()));
                sep = ",";
            }
            json.append('}');
        }
        long offset = 0;
        for (Entry e : entries) {
            json.append(sep).append(quote(e.name)).append(":{\"dtype\":").append(quote(e.dtype)).append(",\"shape\":[");
            for (int i = 0; i < e.shape.length; i++) json.append(i == 0 ? "" : ",").append(e.shape[i]);
            long begin = e.begin != null ? e.begin : offset, end = e.end != null ? e.end : offset + e.data.length;
            json.append("],\"data_offsets\":[").append(begin).append(',').append(end).append("]}");
            offset += e.data.length;
            sep = ",";
        }
        return json.append('}').toString();
    }

    byte[] encode() { return encode(header().getBytes(StandardCharsets.UTF_8), null); }

    /** The file for {@code header} and this image's data; {@code claimedLength} null means the header's true length. */
    byte[] encode(byte[] header, Long claimedLength) {
        int data = entries.stream().mapToInt(e -> e.data.length).sum();
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(claimedLength != null ? claimedLength : header.length).put(header);
        for (Entry e : entries) b.put(e.data);
        return b.array();
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') sb.append('\\').append(c);
            else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        return sb.append('"').toString();
    }
}
