package dev.kiln.accel.xla.pjrt;

import java.lang.foreign.MemorySegment;

/**
 * An addressable device of a {@link PjrtClient}: its {@code PJRT_Device*} (owned by the client) and
 * what its description says.
 *
 * @param id the description's id, unique among the platform's devices
 * @param kind the vendor's name for it, e.g. {@code "NVIDIA H200"} or {@code "TPU v5 lite"}
 */
public record PjrtDevice(MemorySegment handle, int id, String kind) {
    @Override public String toString() { return kind + " (id " + id + ")"; }
}
