package dev.kiln.api.checkpoint;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A file in the safetensors format (Hugging Face's, read by PyTorch, JAX and Transformers): an
 * unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON, then the tensors' raw
 * little-endian bytes. The header maps each tensor name to
 * {@code {"dtype": "F32", "shape": [128, 784], "data_offsets": [begin, end]}} (offsets relative to
 * the first data byte) and may hold a {@code "__metadata__"} map of strings to strings.
 *
 * <p>Kiln writes tensors in the map's order, contiguously, and pads the header with spaces to a
 * multiple of 8 bytes so every tensor starts aligned, as the reference implementation does.
 * Reading checks what that implementation checks (known dtypes, offsets that tile the data
 * exactly, sizes that match shapes) and reports the file and the fault.
 */
public record SafeTensorsFile(Map<String, StoredTensor> tensors, Map<String, String> metadata) {
    /** The reference implementation refuses larger headers; so does Kiln, before allocating them. */
    static final long MAX_HEADER = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";
    private static final long WRITE_SLICE = 1L << 30;

    public SafeTensorsFile {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        if (tensors.containsKey(METADATA_KEY)) throw new IllegalArgumentException("a tensor cannot be called " + METADATA_KEY);
    }

    /** The tensor called {@code name}, or a {@link CheckpointException} listing what the file has. */
    public StoredTensor tensor(String name, Path source) {
        StoredTensor t = tensors.get(name);
        if (t == null) throw new CheckpointException(source, "has no tensor \"" + name + "\"; it has " + tensors.keySet());
        return t;
    }

    // ---- writing ----

    /** Writes atomically: a crash during the write leaves any previous file at {@code path} intact. */
    public void write(Path path) {
        try {
            AtomicFiles.write(path, ch -> {
                ByteBuffer h = ByteBuffer.wrap(headerBytes());
                while (h.hasRemaining()) ch.write(h);
                for (StoredTensor t : tensors.values()) {
                    MemorySegment seg = t.segment();
                    // A ByteBuffer spans at most 2 GiB, so larger tensors go out in slices.
                    for (long at = 0; at < seg.byteSize(); at += WRITE_SLICE) {
                        ByteBuffer b = seg.asSlice(at, Math.min(WRITE_SLICE, seg.byteSize() - at)).asByteBuffer();
                        while (b.hasRemaining()) ch.write(b);
                    }
                }
            });
        } catch (IOException e) {
            throw new CheckpointException(path, "could not be written: " + e.getMessage(), e);
        }
    }

    /** The 8-byte length and the padded JSON header. */
    byte[] headerBytes() {
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            json.append(Json.quote(METADATA_KEY)).append(":{");
            String sep = "";
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                json.append(sep).append(Json.quote(e.getKey())).append(':').append(Json.quote(e.getValue()));
                sep = ",";
            }
            json.append('}');
        }
        long offset = 0;
        String sep = metadata.isEmpty() ? "" : ",";
        for (Map.Entry<String, StoredTensor> e : tensors.entrySet()) {
            StoredTensor t = e.getValue();
            json.append(sep).append(Json.quote(e.getKey())).append(":{\"dtype\":\"").append(t.dtype()).append("\",\"shape\":[");
            long[] s = t.shape();
            for (int i = 0; i < s.length; i++) json.append(i == 0 ? "" : ",").append(s[i]);
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + t.byteLength()).append("]}");
            offset += t.byteLength();
            sep = ",";
        }
        json.append('}');
        byte[] utf8 = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (utf8.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(utf8);
        while (b.hasRemaining()) b.put((byte) ' ');
        return b.array();
    }

    // ---- reading ----

    /**
     * Reads and validates a whole file; any fault raises a {@link CheckpointException} naming the
     * file and the field. The header is checked in full before any tensor is read, and what is
     * allocated is bounded by the file's real size, whatever the header claims. A tensor over
     * 2 GiB is mapped from the file rather than copied, so the file must not be truncated while
     * the returned tensors are in use.
     */
    public static SafeTensorsFile read(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new CheckpointException(path, "is " + size + " bytes long, too short for the 8-byte header length (file cut short?)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long n = lenBuf.getLong(0);
            if (n < 2 || n > MAX_HEADER) throw new CheckpointException(path, "header length " + Long.toUnsignedString(n) + " is not plausible (not a safetensors file, or a corrupt one)");
            if (8 + n > size) throw new CheckpointException(path, "header length says " + n + " bytes but only " + (size - 8) + " follow it (file cut short?)");
            ByteBuffer header = ByteBuffer.allocate((int) n);
            readFully(ch, header, 8);
            long dataSize = size - 8 - n;
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = parseHeader(path, header.array(), dataSize, entries);
            Map<String, StoredTensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, Entry> e : entries.entrySet()) {
                Entry en = e.getValue();
                long span = en.end - en.begin, at = 8 + n + en.begin;
                MemorySegment data;
                if (span <= StoredTensor.MAX_ARRAY) {
                    byte[] bytes = new byte[(int) span];
                    readFully(ch, ByteBuffer.wrap(bytes), at);
                    data = MemorySegment.ofArray(bytes);
                } else {
                    data = ch.map(FileChannel.MapMode.READ_ONLY, at, span, Arena.ofAuto());
                }
                tensors.put(e.getKey(), StoredTensor.of(en.type, en.shape, data));
            }
            return new SafeTensorsFile(tensors, metadata);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(path, "does not exist", e);
        } catch (IOException e) {
            throw new CheckpointException(path, "could not be read: " + e, e);
        }
    }

    private record Entry(String name, StoredTensor.Type type, long[] shape, long begin, long end) {}

    /** Fills {@code out} with the tensor entries in file order and returns the metadata. */
    private static Map<String, String> parseHeader(Path path, byte[] header, long dataSize, Map<String, Entry> out) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(header)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(path, "corrupt header: not UTF-8 text");
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.ParseException e) {
            throw new CheckpointException(path, "corrupt header: invalid JSON, " + e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> root)) throw new CheckpointException(path, "corrupt header: expected a JSON object");
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> list = new ArrayList<>();
        for (Map.Entry<?, ?> e : root.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) {
                if (!(e.getValue() instanceof Map<?, ?> m)) throw new CheckpointException(path, "corrupt header: " + METADATA_KEY + " is not an object");
                for (Map.Entry<?, ?> me : m.entrySet()) {
                    if (!(me.getValue() instanceof String v)) throw new CheckpointException(path, "corrupt header: metadata \"" + me.getKey() + "\" is not a string");
                    metadata.put((String) me.getKey(), v);
                }
                continue;
            }
            list.add(entry(path, name, e.getValue()));
        }
        // The tensors must tile the data area exactly: no gaps, no overlaps, nothing left over.
        List<Entry> byOffset = new ArrayList<>(list);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        for (Entry en : byOffset) {
            if (en.begin != expected) {
                throw new CheckpointException(path, "corrupt header: tensor \"" + en.name + "\" starts at data offset " + en.begin + " but the previous one ends at " + expected);
            }
            expected = en.end;
        }
        if (expected > dataSize) {
            throw new CheckpointException(path, "file cut short: the tensors need " + expected + " data bytes but only " + dataSize + " are present");
        }
        if (expected < dataSize) throw new CheckpointException(path, "corrupt file: " + (dataSize - expected) + " bytes after the last tensor");
        for (Entry en : list) out.put(en.name, en);
        return metadata;
    }

    private static Entry entry(Path path, String name, Object v) {
        String where = "corrupt header: tensor \"" + name + "\" ";
        if (!(v instanceof Map<?, ?> m)) throw new CheckpointException(path, where + "is not an object");
        if (!(m.get("dtype") instanceof String dt)) throw new CheckpointException(path, where + "has no dtype");
        StoredTensor.Type type = StoredTensor.Type.forName(dt);
        if (type == null) throw new CheckpointException(path, where + "has dtype " + dt + ", which Kiln does not read (it reads " + List.of(StoredTensor.Type.values()) + ")");
        long[] shape = longs(path, where + "shape", m.get("shape"), -1);
        long[] off = longs(path, where + "data_offsets", m.get("data_offsets"), 2);
        if (off[0] > off[1]) throw new CheckpointException(path, where + "has data_offsets " + off[0] + " > " + off[1]);
        long bytes;
        try {
            bytes = StoredTensor.byteCount(type, shape);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(path, where + "has shape " + java.util.Arrays.toString(shape) + " of more " + dt + " bytes than a long can count");
        }
        if (bytes != off[1] - off[0]) {
            throw new CheckpointException(path, where + "is " + dt + java.util.Arrays.toString(shape) + " = " + bytes
                    + " bytes but its data_offsets span " + (off[1] - off[0]));
        }
        return new Entry(name, type, shape, off[0], off[1]);
    }

    private static long[] longs(Path path, String what, Object v, int length) {
        if (!(v instanceof List<?> l) || (length >= 0 && l.size() != length)) {
            throw new CheckpointException(path, what + " must be a list of " + (length >= 0 ? length + " " : "") + "non-negative integers, got " + v);
        }
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Long x) || x < 0) throw new CheckpointException(path, what + " must hold non-negative integers, got " + v);
            out[i] = x;
        }
        return out;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
        long pos = at;
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) throw new IOException("unexpected end of file at byte " + pos);
            pos += r;
        }
    }
}
