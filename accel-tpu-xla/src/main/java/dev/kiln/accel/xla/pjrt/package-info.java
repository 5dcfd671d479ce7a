/**
 * Kiln's PJRT binding: the PJRT C API through the Foreign Function &amp; Memory API.
 *
 * <p>Pinned header: {@code xla/pjrt/c/pjrt_c_api.h} of openxla/xla at commit
 * {@code 0882740a8496c82a8dc8a25fadba88ca342fb0aa}, which declares {@code PJRT_API_MAJOR 0} and
 * {@code PJRT_API_MINOR 94}. The header is not copied into the repository; {@link
 * dev.kiln.accel.xla.pjrt.PjrtLayouts} records only the structs and slots Kiln uses, and its test
 * writes down the {@code *_STRUCT_SIZE} of each as derived by hand from that header (LP64).
 *
 * <ul>
 *   <li>{@link dev.kiln.accel.xla.pjrt.PjrtPluginLocator}: where a plugin is, and how it was found.
 *   <li>{@link dev.kiln.accel.xla.pjrt.PjrtApi}: dlopen, {@code GetPjrtApi}, version and size checks,
 *       {@code PJRT_Plugin_Initialize} and {@code PJRT_Plugin_Attributes}, and every call.
 *   <li>{@link dev.kiln.accel.xla.pjrt.PjrtClient}, {@link dev.kiln.accel.xla.pjrt.PjrtDevice},
 *       {@link dev.kiln.accel.xla.pjrt.PjrtBuffer}, {@link dev.kiln.accel.xla.pjrt.PjrtExecutable}:
 *       the objects, each destroyed by its {@code close} or at the latest by the client's.
 *   <li>{@link dev.kiln.accel.xla.pjrt.PjrtErrors}: a {@code PJRT_Error*} becomes a
 *       {@link dev.kiln.accel.xla.pjrt.PjrtException}, and is always destroyed.
 *   <li>{@link dev.kiln.accel.xla.pjrt.CompileOptions}: a serialized {@code xla.CompileOptionsProto}.
 *   <li>{@link dev.kiln.accel.xla.pjrt.StableHloVersions}: whether the plugin reads what Kiln writes.
 * </ul>
 *
 * <p>A plugin may reject an args struct whose {@code struct_size} is smaller than its own, so
 * plugins newer than 0.94 (libtpu has been reported at 0.103) may need a newer pin; older ones read
 * only the prefix they know. {@link dev.kiln.accel.xla.pjrt.PjrtApi#has} guards slots past an
 * older plugin's table.
 *
 * <p>No real plugin is available on the build machine: the tests run this package against a
 * {@code PJRT_Api} table of Java upcall stubs whose modules XLA:CPU executes.
 */
package dev.kiln.accel.xla.pjrt;
