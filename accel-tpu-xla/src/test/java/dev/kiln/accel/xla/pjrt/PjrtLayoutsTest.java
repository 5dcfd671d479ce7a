package dev.kiln.accel.xla.pjrt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Each expected size below was worked out by hand from the pinned header (0.94), LP64: pointers and
 * size_t 8 bytes, enums and int 4, enums followed by a pointer padded to 8.
 */
class PjrtLayoutsTest {
    private static final Map<PjrtLayouts.Struct, Long> BY_HAND = Map.ofEntries(
            Map.entry(PjrtLayouts.API_VERSION, 24L),                 // 8+8, major@16, minor@20
            Map.entry(PjrtLayouts.ERROR_DESTROY_ARGS, 24L),          // error@16
            Map.entry(PjrtLayouts.ERROR_MESSAGE_ARGS, 40L),          // error@16 message@24 message_size@32
            Map.entry(PjrtLayouts.ERROR_GETCODE_ARGS, 28L),          // error@16 code@24 (4)
            Map.entry(PjrtLayouts.NAMED_VALUE, 56L),                 // name@16 name_size@24 type@32 union@40 value_size@48
            Map.entry(PjrtLayouts.PLUGIN_INITIALIZE_ARGS, 16L),      // sized to extension_start@8
            Map.entry(PjrtLayouts.PLUGIN_ATTRIBUTES_ARGS, 32L),      // attributes@16 num_attributes@24
            Map.entry(PjrtLayouts.EVENT_DESTROY_ARGS, 24L),
            Map.entry(PjrtLayouts.EVENT_AWAIT_ARGS, 24L),
            // options@16 n@24 get@32 arg@40 put@48 arg@56 client@64 try_get@72 try_get_arg@80
            Map.entry(PjrtLayouts.CLIENT_CREATE_ARGS, 88L),
            Map.entry(PjrtLayouts.CLIENT_DESTROY_ARGS, 24L),
            Map.entry(PjrtLayouts.CLIENT_PLATFORM_NAME_ARGS, 40L),
            Map.entry(PjrtLayouts.CLIENT_DEVICES_ARGS, 40L),         // client@16 devices@24 num_devices@32
            Map.entry(PjrtLayouts.CLIENT_ADDRESSABLE_DEVICES_ARGS, 40L),
            Map.entry(PjrtLayouts.CLIENT_PLATFORM_VERSION_ARGS, 40L), // client@16 platform_version@24 size@32
            Map.entry(PjrtLayouts.DEVICE_GET_DESCRIPTION_ARGS, 32L),  // device@16 device_description@24
            Map.entry(PjrtLayouts.DEVICE_DESCRIPTION_ID_ARGS, 28L),   // device_description@16 id@24 (int)
            Map.entry(PjrtLayouts.DEVICE_DESCRIPTION_KIND_ARGS, 40L), // device_description@16 device_kind@24 size@32
            Map.entry(PjrtLayouts.PROGRAM, 48L),                     // code@16 code_size@24 format@32 format_size@40
            Map.entry(PjrtLayouts.CLIENT_COMPILE_ARGS, 56L),         // client@16 program@24 opts@32 size@40 executable@48
            // client@16 data@24 type@32(+4) dims@40 num_dims@48 strides@56 n@64 semantics@72(+4)
            // device@80 memory@88 device_layout@96 done_with_host_buffer@104 buffer@112
            Map.entry(PjrtLayouts.CLIENT_BUFFER_FROM_HOST_BUFFER_ARGS, 120L),
            Map.entry(PjrtLayouts.BUFFER_TO_HOST_BUFFER_ARGS, 56L),  // src@16 host_layout@24 dst@32 dst_size@40 event@48
            Map.entry(PjrtLayouts.BUFFER_DESTROY_ARGS, 24L),
            // send@16 recv@24 nsend@32 nrecv@40 launch_id@48(+4) non_donatable@56 n@64 context@72
            // call_location@80 num_tasks@88 task_ids@96 incarnation_ids@104
            Map.entry(PjrtLayouts.EXECUTE_OPTIONS, 112L),
            // executable@16 options@24 argument_lists@32 num_devices@40 num_args@48 output_lists@56
            // device_complete_events@64 execute_device@72
            Map.entry(PjrtLayouts.LOADED_EXECUTABLE_EXECUTE_ARGS, 80L),
            Map.entry(PjrtLayouts.LOADED_EXECUTABLE_DESTROY_ARGS, 24L),
            Map.entry(PjrtLayouts.LOADED_EXECUTABLE_GET_EXECUTABLE_ARGS, 32L),
            Map.entry(PjrtLayouts.EXECUTABLE_NUM_OUTPUTS_ARGS, 32L),
            Map.entry(PjrtLayouts.EXECUTABLE_DESTROY_ARGS, 24L),
            // struct_size@0 extension_start@8 pjrt_api_version@16 (24), then 129 function pointers from @40
            Map.entry(PjrtLayouts.API, 40L + 129 * 8));

    @Test void structSizesAgreeWithTheHeaderByHand() {
        BY_HAND.forEach((s, size) -> assertEquals(size, s.structSize(), s.layout().name().orElseThrow()));
    }

    @Test void paddedSizeofCanExceedStructSize() {
        // GetCode's args end in a 4-byte enum: sizeof is 32, but struct_size must say 28.
        assertEquals(32, PjrtLayouts.ERROR_GETCODE_ARGS.layout().byteSize());
    }

    @Test void apiSlots() {
        assertEquals(129, PjrtLayouts.API_FUNCTIONS.size());
        assertEquals(0, PjrtLayouts.slot("PJRT_Error_Destroy"));
        assertEquals(2, PjrtLayouts.slot("PJRT_Error_GetCode"));
        assertEquals(4, PjrtLayouts.slot("PJRT_Plugin_Attributes"));
        assertEquals(8, PjrtLayouts.slot("PJRT_Event_Await"));
        assertEquals(10, PjrtLayouts.slot("PJRT_Client_Create"));
        assertEquals(15, PjrtLayouts.slot("PJRT_Client_Devices"));
        assertEquals(20, PjrtLayouts.slot("PJRT_Client_Compile"));
        assertEquals(22, PjrtLayouts.slot("PJRT_Client_BufferFromHostBuffer"));
        assertEquals(55, PjrtLayouts.slot("PJRT_LoadedExecutable_Execute"));
        assertEquals(58, PjrtLayouts.slot("PJRT_Buffer_Destroy"));
        assertEquals(70, PjrtLayouts.slot("PJRT_Buffer_ToHostBuffer"));
        assertEquals(92, PjrtLayouts.slot("PJRT_Buffer_CopyToMemory"));
        assertEquals(93, PjrtLayouts.slot("PJRT_Client_CreateViewOfDeviceBuffer"));
        assertEquals(128, PjrtLayouts.slot("PJRT_Device_GetAttributes"));
        assertEquals(40, PjrtLayouts.offsetOf("PJRT_Error_Destroy"));
        assertEquals(40 + 8 * 10, PjrtLayouts.offsetOf("PJRT_Client_Create"));
        assertThrows(IllegalArgumentException.class, () -> PjrtLayouts.slot("PJRT_NoSuchFunction"));
    }
}
