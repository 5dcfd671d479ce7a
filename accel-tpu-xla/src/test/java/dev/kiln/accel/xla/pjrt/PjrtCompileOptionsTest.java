package dev.kiln.accel.xla.pjrt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

class PjrtCompileOptionsTest {
    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) b[i] = (byte) values[i];
        return b;
    }

    @Test void oneReplica() {
        // The bytes known to compile on a single device (shared notes).
        assertArrayEquals(bytes(0x1A, 0x04, 0x20, 0x01, 0x28, 0x01), CompileOptions.replicas(1));
    }

    @Test void eightReplicas() {
        assertArrayEquals(bytes(0x1A, 0x04, 0x20, 0x08, 0x28, 0x01), CompileOptions.replicas(8));
    }

    @Test void aReplicaCountPastOneVarintByte() {
        // 300 = 0b10_0101100 -> AC 02; the nested message grows to 5 bytes.
        assertArrayEquals(bytes(0x1A, 0x05, 0x20, 0xAC, 0x02, 0x28, 0x01), CompileOptions.replicas(300));
    }

    @Test void noReplicasIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> CompileOptions.replicas(0));
    }

    @Test void varints() {
        var out = new ByteArrayOutputStream();
        CompileOptions.varint(out, 0);
        CompileOptions.varint(out, 127);
        CompileOptions.varint(out, 128);
        assertArrayEquals(bytes(0x00, 0x7F, 0x80, 0x01), out.toByteArray());
    }
}
