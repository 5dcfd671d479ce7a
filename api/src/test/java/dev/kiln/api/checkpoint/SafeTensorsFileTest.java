package dev.kiln.api.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors format at byte level: what Kiln writes, what it reads, and what it refuses. */
class SafeTensorsFileTest {
    @TempDir Path dir;

    @Test void writesTheLayoutTheSpecDescribes() throws IOException {
        Path f = dir.resolve("a.safetensors");
        new SafeTensorsFile(Map.of("a", StoredTensor.ofFloats(new float[] {1, 2}, Shape.of(2))), Map.of("k", "v")).write(f);
        byte[] b = Files.readAllBytes(f);
        ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long n = le.getLong(0);
        assertEquals(0, n % 8, "header padded so the data is 8-byte aligned");
        assertEquals(8 + n + 8, b.length);
        String header = new String(b, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals("{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", header.stripTrailing());
        assertTrue(header.substring(header.lastIndexOf('}') + 1).isBlank(), "padding is spaces");
        assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40}, Arrays.copyOfRange(b, b.length - 8, b.length));
    }

    @Test void roundTripsEveryDtypeExactly() {
        Path f = dir.resolve("all.safetensors");
        Map<String, StoredTensor> t = new LinkedHashMap<>();
        for (StoredTensor.Type type : StoredTensor.Type.values()) {
            byte[] raw = new byte[3 * type.byteSize()];
            for (int i = 0; i < raw.length; i++) raw[i] = (byte) (i * 7 + type.ordinal());
            if (type == StoredTensor.Type.BOOL) raw = new byte[] {0, 1, 1};
            t.put(type.name().toLowerCase(), StoredTensor.of(type, new long[] {3}, raw));
        }
        t.put("empty", StoredTensor.of(StoredTensor.Type.F32, new long[] {0, 4}, new byte[0]));
        t.put("scalar", StoredTensor.ofDoubles(new double[] {Math.PI}, Shape.scalar()));
        new SafeTensorsFile(t, Map.of("step", "12", "quote\"d", "line\nbreak")).write(f);
        SafeTensorsFile r = SafeTensorsFile.read(f);
        assertEquals(t.keySet(), r.tensors().keySet());
        t.forEach((k, v) -> {
            assertArrayEquals(v.bytes(), r.tensors().get(k).bytes(), k);
            assertArrayEquals(v.shape(), r.tensors().get(k).shape(), k);
            assertEquals(v.dtype(), r.tensors().get(k).dtype(), k);
        });
        assertEquals("line\nbreak", r.metadata().get("quote\"d"));
        assertEquals(Math.PI, r.tensors().get("scalar").toDoubles()[0]);
    }

    @Test void readsHandBuiltBytesFollowingTheSpec() throws IOException {
        // Unpadded header, spaces in the JSON, tensors listed out of offset order, no metadata.
        String json = "{ \"b\" : {\"dtype\":\"BF16\", \"shape\":[2], \"data_offsets\":[16,20]},\n"
                + "  \"a\": {\"dtype\":\"F64\",\"shape\":[1,2],\"data_offsets\":[0,16]},"
                + "  \"c\": {\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[20,22]} }";
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + 22).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        b.putDouble(-2.5).putDouble(1e300);
        b.putShort((short) 0x3fc0).putShort((short) 0xc000); // bf16 1.5, -2
        b.putShort((short) 0x3555);                          // f16 0.333251953125
        Path f = dir.resolve("hand.safetensors");
        Files.write(f, b.array());
        SafeTensorsFile r = SafeTensorsFile.read(f);
        assertArrayEquals(new double[] {-2.5, 1e300}, r.tensors().get("a").toDoubles());
        assertArrayEquals(new float[] {1.5f, -2f}, r.tensors().get("b").toFloats());
        assertArrayEquals(new float[] {0.333251953125f}, r.tensors().get("c").toFloats());
        assertArrayEquals(new long[0], r.tensors().get("c").shape());
        assertTrue(r.metadata().isEmpty());
    }

    @Test void aFileCutShortNamesTheFileAndSaysSo() throws IOException {
        Path good = dir.resolve("good.safetensors");
        new SafeTensorsFile(Map.of("w", StoredTensor.ofFloats(new float[] {1, 2, 3, 4}, Shape.of(2, 2))), Map.of()).write(good);
        byte[] b = Files.readAllBytes(good);
        int headerEnd = 8 + (int) ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        for (int cut : new int[] {0, 5, 8, headerEnd - 3, headerEnd, b.length - 1}) {
            Path f = dir.resolve("cut" + cut + ".safetensors");
            Files.write(f, Arrays.copyOf(b, cut));
            CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensorsFile.read(f), "cut at " + cut);
            assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("cut short"), "cut at " + cut + ": " + e.getMessage());
            assertEquals(f, e.path());
        }
    }

    @Test void corruptHeadersAreRefusedWithTheReason() throws IOException {
        assertCorrupt("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "invalid JSON");
        assertCorrupt("[1,2]", 0, "expected a JSON object");
        assertCorrupt("{\"w\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype Q7");
        assertCorrupt("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "span 8");
        assertCorrupt("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "non-negative");
        assertCorrupt("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "starts at data offset 4");
        assertCorrupt("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "4 bytes after the last tensor");
        assertCorrupt("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"w\":{}}", 8, "duplicate key");
        assertCorrupt("{\"__metadata__\":{\"step\":3}}", 0, "not a string");
        Path f = dir.resolve("huge.safetensors");
        Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array());
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensorsFile.read(f));
        assertTrue(e.getMessage().contains("not plausible"), e.getMessage());
        CheckpointException missing = assertThrows(CheckpointException.class, () -> SafeTensorsFile.read(dir.resolve("nope.safetensors")));
        assertTrue(missing.getMessage().contains("nope.safetensors: does not exist"), missing.getMessage());
    }

    @Test void everyHeaderFieldIsCheckedAndNamed() throws IOException {
        String w = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
        assertCorrupt(w + ",\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "tensor \"v\" starts at data offset 4 but the previous one ends at 8");
        assertCorrupt(w + "}", 4, "the tensors need 8 data bytes but only 4 are present");
        assertCorrupt("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "tensor \"w\" has data_offsets 8 > 0");
        assertCorrupt("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,16]}}", 16, "tensor \"w\" data_offsets must be a list of 2");
        assertCorrupt("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor \"w\" has no dtype");
        assertCorrupt("{\"w\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor \"w\" has no dtype");
        assertCorrupt("{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, "tensor \"w\" shape must be a list");
        assertCorrupt("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "tensor \"w\" shape must hold non-negative integers");
        assertCorrupt("{\"w\":[1]}", 0, "tensor \"w\" is not an object");
        assertCorrupt("{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", 8, "invalid JSON, bad number");
        assertCorrupt("{\"w\\u+041\":{}}", 0, "bad \\u escape");
        // Shapes whose byte count overflows a long, which unchecked would wrap to a small span.
        assertCorrupt("{\"w\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8,
                "tensor \"w\" has shape [4294967296, 4294967296] of more F64 bytes than a long can count");
        assertCorrupt("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,0]}}", 0, "than a long can count");
        assertCorrupt("{\"__metadata__\":[\"a\"]}", 0, "__metadata__ is not an object");
        Path f = dir.resolve("latin1.safetensors");
        Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(8).put("{\"\u00e9\":1}".getBytes(StandardCharsets.ISO_8859_1)).array());
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensorsFile.read(f));
        assertTrue(e.getMessage().contains("not UTF-8"), e.getMessage());
    }

    @Test void aTensorOver2GiBIsReadFromASparseFile() throws IOException {
        long big = 3L << 30; // 3 GiB of U8, more than one Java array holds
        String json = "{\"big\":{\"dtype\":\"U8\",\"shape\":[3,1073741824],\"data_offsets\":[0," + big + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + big + "," + (big + 8) + "]},"
                + "\"wide\":{\"dtype\":\"F32\",\"shape\":[0,4294967296],\"data_offsets\":[" + (big + 8) + "," + (big + 8) + "]}}";
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        Path f = dir.resolve("big.safetensors");
        long data = 8 + h.length;
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            // setLength leaves a hole: the file takes a few pages of disk, not 3 GiB.
            raf.setLength(data + big + 8);
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            raf.write(h);
            raf.seek(data + big - 1);
            raf.write(7);
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).array());
        }
        SafeTensorsFile r = SafeTensorsFile.read(f);
        StoredTensor t = r.tensors().get("big");
        assertEquals(big, t.elementCount());
        assertEquals(7, t.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, big - 1));
        assertEquals(0, t.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 12345));
        assertArrayEquals(new float[] {1.5f, -2f}, r.tensors().get("tail").toFloats());
        IllegalStateException bytes = assertThrows(IllegalStateException.class, t::bytes);
        assertTrue(bytes.getMessage().contains("U8[3, 1073741824] is 3221225472 bytes, more than one Java array holds"), bytes.getMessage());
        assertThrows(IllegalStateException.class, t::toFloats);
        IllegalArgumentException wide = assertThrows(IllegalArgumentException.class, () -> r.tensors().get("wide").kilnShape());
        assertTrue(wide.getMessage().contains("F32[0, 4294967296]: dimension 1 is larger than a Kiln shape holds"), wide.getMessage());
    }

    @Test void aFailedWriteLeavesThePreviousFileAndNoLitter() throws IOException {
        Path f = dir.resolve("ckpt.safetensors");
        new SafeTensorsFile(Map.of("w", StoredTensor.ofFloats(new float[] {7}, Shape.of(1))), Map.of()).write(f);
        byte[] before = Files.readAllBytes(f);
        IOException crash = assertThrows(IOException.class, () -> AtomicFiles.write(f, ch -> {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            throw new IOException("disk full (simulated)");
        }));
        assertEquals("disk full (simulated)", crash.getMessage());
        assertArrayEquals(before, Files.readAllBytes(f));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "the temporary file is removed");
        }
    }

    private void assertCorrupt(String header, int dataBytes, String expected) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = dir.resolve("corrupt.safetensors");
        Files.write(f, b.array());
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensorsFile.read(f), header);
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected \"" + expected + "\" in: " + e.getMessage());
    }
}
