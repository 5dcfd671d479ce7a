/**
 * The start of Kiln's PJRT executor: the pieces that can be checked without a plugin.
 *
 * <p>Pinned header: {@code xla/pjrt/c/pjrt_c_api.h} of openxla/xla at commit
 * {@code 0882740a8496c82a8dc8a25fadba88ca342fb0aa}, which declares {@code PJRT_API_MAJOR 0} and
 * {@code PJRT_API_MINOR 94}. The header is not copied into the repository; {@link
 * dev.kiln.accel.xla.pjrt.PjrtLayouts} records only the structs and slots Kiln uses, and its test
 * writes down the {@code *_STRUCT_SIZE} of each as derived by hand from that header (LP64).
 *
 * <ul>
 *   <li>{@link dev.kiln.accel.xla.pjrt.PjrtPluginLocator}: where a plugin is, and how it was found.
 *   <li>{@link dev.kiln.accel.xla.pjrt.PjrtLayouts}: args-struct layouts and {@code PJRT_Api} slots.
 *   <li>{@link dev.kiln.accel.xla.pjrt.PjrtErrors}: a {@code PJRT_Error*} becomes a
 *       {@link dev.kiln.accel.xla.pjrt.PjrtException}, and is always destroyed.
 *   <li>{@link dev.kiln.accel.xla.pjrt.CompileOptions}: a serialized {@code xla.CompileOptionsProto}.
 *   <li>{@link dev.kiln.accel.xla.pjrt.PjrtApi}: dlopen, {@code GetPjrtApi}, version and size checks,
 *       {@code PJRT_Plugin_Initialize} and {@code PJRT_Plugin_Attributes}; tested on a fake table of
 *       Java upcall stubs, never on a real plugin.
 * </ul>
 *
 * <p>A plugin may reject an args struct whose {@code struct_size} is smaller than its own, so
 * plugins newer than 0.94 (libtpu has been reported at 0.103) may need a newer pin; older ones read
 * only the prefix they know. {@link dev.kiln.accel.xla.pjrt.PjrtApi#has} guards slots past an
 * older plugin's table.
 *
 * <p>Nothing here is wired into {@code XlaProvider}: no plugin is available on the build machine, so
 * nothing in this package has run against a real one.
 */
package dev.kiln.accel.xla.pjrt;
