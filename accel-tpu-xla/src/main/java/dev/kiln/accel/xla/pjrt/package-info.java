/**
 * The start of Kiln's PJRT executor: the pieces that can be checked without a plugin.
 *
 * <p>Pinned header: {@code xla/pjrt/c/pjrt_c_api.h} of openxla/xla at commit
 * {@code 00fcf3f218e36866d5a84d127aed963df0aa3db3}, which declares {@code PJRT_API_MAJOR 0} and
 * {@code PJRT_API_MINOR 33}. The header is not copied into the repository; {@link
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
 * <p>0.33 is old: plugins seen in the wild are 0.81 to 0.103, and a plugin may reject an args struct
 * whose {@code struct_size} is smaller than its own. Only the header copy in the code index was
 * readable from this session (the openxla/xla mirror was too large to fetch), so re-pinning to a
 * current header, and re-deriving the sizes in {@code PjrtLayoutsTest}, comes before real use.
 *
 * <p>Nothing here is wired into {@code XlaProvider}: no plugin is available on the build machine, so
 * nothing in this package has run against a real one.
 */
package dev.kiln.accel.xla.pjrt;
