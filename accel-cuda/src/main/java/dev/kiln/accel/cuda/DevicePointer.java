package dev.kiln.accel.cuda;

import org.bytedeco.javacpp.Pointer;

/**
 * A JavaCPP pointer to an address JavaCPP did not allocate (device memory, kernel arguments): the
 * bytedeco bindings take {@link Pointer}s, while Kiln keeps raw addresses. Owns nothing.
 */
final class DevicePointer extends Pointer {
    DevicePointer(long address) { this.address = address; }
}
