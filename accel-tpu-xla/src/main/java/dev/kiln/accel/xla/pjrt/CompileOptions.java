package dev.kiln.accel.xla.pjrt;

import java.io.ByteArrayOutputStream;

/**
 * A serialized {@code xla.CompileOptionsProto} for {@code PJRT_Client_Compile}, written by hand so the
 * module needs no protobuf dependency. Field numbers, checked in openxla/xla
 * {@code xla/pjrt/proto/compile_options.proto} (commit 83ee4095609e): {@code CompileOptionsProto.executable_build_options = 3}
 * (a message); in {@code ExecutableBuildOptionsProto}, {@code num_replicas = 4} and
 * {@code num_partitions = 5} (int64).
 *
 * <p>Both counts are always written: an empty options message means {@code num_replicas 0}, which a
 * GPU client CHECK-aborts on. No device assignment is written, so the client's default is used.
 */
public final class CompileOptions {
    private CompileOptions() {}

    private static final int EXECUTABLE_BUILD_OPTIONS = 3, NUM_REPLICAS = 4, NUM_PARTITIONS = 5;
    private static final int VARINT = 0, LENGTH_DELIMITED = 2;

    /** {@code executable_build_options { num_replicas: replicas, num_partitions: 1 }}. */
    public static byte[] replicas(int replicas) {
        if (replicas < 1) throw new IllegalArgumentException("num_replicas must be at least 1: " + replicas);
        ByteArrayOutputStream build = new ByteArrayOutputStream();
        tag(build, NUM_REPLICAS, VARINT);
        varint(build, replicas);
        tag(build, NUM_PARTITIONS, VARINT);
        varint(build, 1);
        ByteArrayOutputStream options = new ByteArrayOutputStream();
        tag(options, EXECUTABLE_BUILD_OPTIONS, LENGTH_DELIMITED);
        varint(options, build.size());
        options.writeBytes(build.toByteArray());
        return options.toByteArray();
    }

    private static void tag(ByteArrayOutputStream out, int field, int wireType) {
        varint(out, ((long) field << 3) | wireType);
    }

    /** Base-128, least significant group first, high bit set on all but the last byte. */
    static void varint(ByteArrayOutputStream out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.write((int) value);
    }
}
