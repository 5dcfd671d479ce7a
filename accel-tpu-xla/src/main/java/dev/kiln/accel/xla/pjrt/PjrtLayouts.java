package dev.kiln.accel.xla.pjrt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.util.List;

/**
 * The PJRT C API structs Kiln uses, as {@link StructLayout}s with the header's member names in header
 * order (pinned header: see package-info, 0.94), and the function-pointer slots of {@code PJRT_Api}.
 *
 * <p>{@code size_t} is taken as 64 bits: PJRT plugins are LP64 shared objects. A struct's
 * {@code struct_size} is not its padded {@code sizeof} but {@code offsetof(last) + sizeof(last)} for
 * the member the header names in {@code PJRT_DEFINE_STRUCT_TRAITS}; that member is usually, but not
 * always, the last one (not in {@code PJRT_DeviceDescription_Attributes_Args}), so each
 * {@link Struct} carries it.
 */
public final class PjrtLayouts {
    private PjrtLayouts() {}

    /** A header struct: its layout and the member its {@code *_STRUCT_SIZE} is measured to. */
    public record Struct(StructLayout layout, String sizedTo) {
        /** {@code offsetof(sizedTo) + sizeof(sizedTo)}: the value to write into {@code struct_size}. */
        public long structSize() {
            PathElement member = PathElement.groupElement(sizedTo);
            return layout.byteOffset(member) + layout.select(member).byteSize();
        }

        /** Byte offset of {@code member}. */
        public long at(String member) { return layout.byteOffset(PathElement.groupElement(member)); }

        /** A zeroed instance in {@code arena} with its {@code struct_size} set. */
        public MemorySegment allocate(Arena arena) {
            MemorySegment m = arena.allocate(layout);
            m.set(JAVA_LONG, 0, structSize());
            return m;
        }

        public MemorySegment pointer(MemorySegment s, String member) { return s.get(ADDRESS, at(member)); }

        public long size(MemorySegment s, String member) { return s.get(JAVA_LONG, at(member)); }

        public void set(MemorySegment s, String member, MemorySegment value) { s.set(ADDRESS, at(member), value); }

        public void set(MemorySegment s, String member, long value) { s.set(JAVA_LONG, at(member), value); }

        public void setInt(MemorySegment s, String member, int value) { s.set(JAVA_INT, at(member), value); }

        /** A {@code const char*} plus {@code size_t} pair of out-members as a Java string. */
        public String string(MemorySegment s, String pointer, String size) {
            return PjrtApi.string(pointer(s, pointer), size(s, size));
        }
    }

    private static final MemoryLayout SIZE_T = JAVA_LONG;

    private static Struct args(String name, String sizedTo, MemoryLayout... members) {
        MemoryLayout[] all = new MemoryLayout[members.length + 2];
        all[0] = SIZE_T.withName("struct_size");
        all[1] = ADDRESS.withName("extension_start");
        System.arraycopy(members, 0, all, 2, members.length);
        return new Struct(padded(name, all), sizedTo);
    }

    /** A struct with the C padding inserted before each member that needs alignment. */
    private static StructLayout padded(String name, MemoryLayout... members) {
        List<MemoryLayout> out = new java.util.ArrayList<>();
        long offset = 0, maxAlign = 1;
        for (MemoryLayout m : members) {
            long align = m.byteAlignment();
            maxAlign = Math.max(maxAlign, align);
            long gap = (align - offset % align) % align;
            if (gap > 0) out.add(MemoryLayout.paddingLayout(gap));
            out.add(m);
            offset += gap + m.byteSize();
        }
        long tail = (maxAlign - offset % maxAlign) % maxAlign;
        if (tail > 0) out.add(MemoryLayout.paddingLayout(tail));
        return MemoryLayout.structLayout(out.toArray(MemoryLayout[]::new)).withName(name);
    }

    private static MemoryLayout ptr(String name) { return ADDRESS.withName(name); }
    private static MemoryLayout size(String name) { return SIZE_T.withName(name); }
    private static MemoryLayout i32(String name) { return JAVA_INT.withName(name); }

    public static final Struct API_VERSION = args("PJRT_Api_Version", "minor_version",
            i32("major_version"), i32("minor_version"));

    public static final Struct ERROR_DESTROY_ARGS = args("PJRT_Error_Destroy_Args", "error", ptr("error"));
    public static final Struct ERROR_MESSAGE_ARGS = args("PJRT_Error_Message_Args", "message_size",
            ptr("error"), ptr("message"), size("message_size"));
    /** {@code code} is a C enum: 32 bits. */
    public static final Struct ERROR_GETCODE_ARGS = args("PJRT_Error_GetCode_Args", "code",
            ptr("error"), i32("code"));

    /** The value union (string/int64/int64 array/float/bool) is one 8-byte slot. */
    public static final Struct NAMED_VALUE = args("PJRT_NamedValue", "value_size",
            ptr("name"), size("name_size"), i32("type"), JAVA_LONG.withName("value"), size("value_size"));

    public static final Struct PLUGIN_INITIALIZE_ARGS = args("PJRT_Plugin_Initialize_Args", "extension_start");
    public static final Struct PLUGIN_ATTRIBUTES_ARGS = args("PJRT_Plugin_Attributes_Args", "num_attributes",
            ptr("attributes"), size("num_attributes"));

    public static final Struct EVENT_DESTROY_ARGS = args("PJRT_Event_Destroy_Args", "event", ptr("event"));
    public static final Struct EVENT_AWAIT_ARGS = args("PJRT_Event_Await_Args", "event", ptr("event"));

    /** The try-get callback members come after {@code client}: they were appended in a minor version. */
    public static final Struct CLIENT_CREATE_ARGS = args("PJRT_Client_Create_Args", "kv_try_get_user_arg",
            ptr("create_options"), size("num_options"), ptr("kv_get_callback"), ptr("kv_get_user_arg"),
            ptr("kv_put_callback"), ptr("kv_put_user_arg"), ptr("client"), ptr("kv_try_get_callback"),
            ptr("kv_try_get_user_arg"));
    public static final Struct CLIENT_DESTROY_ARGS = args("PJRT_Client_Destroy_Args", "client", ptr("client"));
    public static final Struct CLIENT_PLATFORM_NAME_ARGS = args("PJRT_Client_PlatformName_Args",
            "platform_name_size", ptr("client"), ptr("platform_name"), size("platform_name_size"));
    public static final Struct CLIENT_DEVICES_ARGS = args("PJRT_Client_Devices_Args", "num_devices",
            ptr("client"), ptr("devices"), size("num_devices"));
    public static final Struct CLIENT_ADDRESSABLE_DEVICES_ARGS = args("PJRT_Client_AddressableDevices_Args",
            "num_addressable_devices", ptr("client"), ptr("addressable_devices"), size("num_addressable_devices"));

    public static final Struct CLIENT_PLATFORM_VERSION_ARGS = args("PJRT_Client_PlatformVersion_Args",
            "platform_version_size", ptr("client"), ptr("platform_version"), size("platform_version_size"));

    public static final Struct DEVICE_GET_DESCRIPTION_ARGS = args("PJRT_Device_GetDescription_Args",
            "device_description", ptr("device"), ptr("device_description"));
    public static final Struct DEVICE_DESCRIPTION_ID_ARGS = args("PJRT_DeviceDescription_Id_Args", "id",
            ptr("device_description"), i32("id"));
    public static final Struct DEVICE_DESCRIPTION_KIND_ARGS = args("PJRT_DeviceDescription_Kind_Args",
            "device_kind_size", ptr("device_description"), ptr("device_kind"), size("device_kind_size"));

    public static final Struct PROGRAM = args("PJRT_Program", "format_size",
            ptr("code"), size("code_size"), ptr("format"), size("format_size"));
    public static final Struct CLIENT_COMPILE_ARGS = args("PJRT_Client_Compile_Args", "executable",
            ptr("client"), ptr("program"), ptr("compile_options"), size("compile_options_size"), ptr("executable"));

    /** {@code type} and {@code host_buffer_semantics} are C enums (32 bits, then padding). */
    public static final Struct CLIENT_BUFFER_FROM_HOST_BUFFER_ARGS = args("PJRT_Client_BufferFromHostBuffer_Args",
            "buffer", ptr("client"), ptr("data"), i32("type"), ptr("dims"), size("num_dims"),
            ptr("byte_strides"), size("num_byte_strides"), i32("host_buffer_semantics"), ptr("device"),
            ptr("memory"), ptr("device_layout"), ptr("done_with_host_buffer"), ptr("buffer"));
    public static final Struct BUFFER_TO_HOST_BUFFER_ARGS = args("PJRT_Buffer_ToHostBuffer_Args", "event",
            ptr("src"), ptr("host_layout"), ptr("dst"), size("dst_size"), ptr("event"));
    public static final Struct BUFFER_DESTROY_ARGS = args("PJRT_Buffer_Destroy_Args", "buffer", ptr("buffer"));

    /** {@code non_donatable_input_indices} is how Execute opts inputs out of donation. */
    public static final Struct EXECUTE_OPTIONS = args("PJRT_ExecuteOptions", "incarnation_ids",
            ptr("send_callbacks"), ptr("recv_callbacks"), size("num_send_ops"), size("num_recv_ops"),
            i32("launch_id"), ptr("non_donatable_input_indices"), size("num_non_donatable_input_indices"),
            ptr("context"), ptr("call_location"), size("num_tasks"), ptr("task_ids"), ptr("incarnation_ids"));
    public static final Struct LOADED_EXECUTABLE_EXECUTE_ARGS = args("PJRT_LoadedExecutable_Execute_Args",
            "execute_device", ptr("executable"), ptr("options"), ptr("argument_lists"), size("num_devices"),
            size("num_args"), ptr("output_lists"), ptr("device_complete_events"), ptr("execute_device"));
    public static final Struct LOADED_EXECUTABLE_DESTROY_ARGS = args("PJRT_LoadedExecutable_Destroy_Args",
            "executable", ptr("executable"));
    public static final Struct LOADED_EXECUTABLE_GET_EXECUTABLE_ARGS = args(
            "PJRT_LoadedExecutable_GetExecutable_Args", "executable", ptr("loaded_executable"), ptr("executable"));
    public static final Struct EXECUTABLE_NUM_OUTPUTS_ARGS = args("PJRT_Executable_NumOutputs_Args",
            "num_outputs", ptr("executable"), size("num_outputs"));
    public static final Struct EXECUTABLE_DESTROY_ARGS = args("PJRT_Executable_Destroy_Args", "executable",
            ptr("executable"));

    /**
     * The function-pointer members of {@code PJRT_Api}, in the pinned header's order; a function's
     * slot is its index here. Later headers only append (a reorder bumps the major version).
     */
    public static final List<String> API_FUNCTIONS = List.of(
            "PJRT_Error_Destroy", "PJRT_Error_Message", "PJRT_Error_GetCode",
            "PJRT_Plugin_Initialize", "PJRT_Plugin_Attributes",
            "PJRT_Event_Destroy", "PJRT_Event_IsReady", "PJRT_Event_Error", "PJRT_Event_Await",
            "PJRT_Event_OnReady",
            "PJRT_Client_Create", "PJRT_Client_Destroy", "PJRT_Client_PlatformName", "PJRT_Client_ProcessIndex",
            "PJRT_Client_PlatformVersion", "PJRT_Client_Devices", "PJRT_Client_AddressableDevices",
            "PJRT_Client_LookupDevice", "PJRT_Client_LookupAddressableDevice", "PJRT_Client_AddressableMemories",
            "PJRT_Client_Compile", "PJRT_Client_DefaultDeviceAssignment", "PJRT_Client_BufferFromHostBuffer",
            "PJRT_DeviceDescription_Id", "PJRT_DeviceDescription_ProcessIndex", "PJRT_DeviceDescription_Attributes",
            "PJRT_DeviceDescription_Kind", "PJRT_DeviceDescription_DebugString", "PJRT_DeviceDescription_ToString",
            "PJRT_Device_GetDescription", "PJRT_Device_IsAddressable", "PJRT_Device_LocalHardwareId",
            "PJRT_Device_AddressableMemories", "PJRT_Device_DefaultMemory", "PJRT_Device_MemoryStats",
            "PJRT_Memory_Id", "PJRT_Memory_Kind", "PJRT_Memory_DebugString", "PJRT_Memory_ToString",
            "PJRT_Memory_AddressableByDevices",
            "PJRT_Executable_Destroy", "PJRT_Executable_Name", "PJRT_Executable_NumReplicas",
            "PJRT_Executable_NumPartitions", "PJRT_Executable_NumOutputs",
            "PJRT_Executable_SizeOfGeneratedCodeInBytes", "PJRT_Executable_GetCostAnalysis",
            "PJRT_Executable_OutputMemoryKinds", "PJRT_Executable_OptimizedProgram", "PJRT_Executable_Serialize",
            "PJRT_LoadedExecutable_Destroy", "PJRT_LoadedExecutable_GetExecutable",
            "PJRT_LoadedExecutable_AddressableDevices", "PJRT_LoadedExecutable_Delete",
            "PJRT_LoadedExecutable_IsDeleted", "PJRT_LoadedExecutable_Execute",
            "PJRT_Executable_DeserializeAndLoad", "PJRT_LoadedExecutable_Fingerprint",
            "PJRT_Buffer_Destroy", "PJRT_Buffer_ElementType", "PJRT_Buffer_Dimensions",
            "PJRT_Buffer_UnpaddedDimensions", "PJRT_Buffer_DynamicDimensionIndices", "PJRT_Buffer_GetMemoryLayout",
            "PJRT_Buffer_OnDeviceSizeInBytes", "PJRT_Buffer_Device", "PJRT_Buffer_Memory", "PJRT_Buffer_Delete",
            "PJRT_Buffer_IsDeleted", "PJRT_Buffer_CopyToDevice", "PJRT_Buffer_ToHostBuffer", "PJRT_Buffer_IsOnCpu",
            "PJRT_Buffer_ReadyEvent", "PJRT_Buffer_UnsafePointer", "PJRT_Buffer_IncreaseExternalReferenceCount",
            "PJRT_Buffer_DecreaseExternalReferenceCount", "PJRT_Buffer_OpaqueDeviceMemoryDataPointer",
            "PJRT_CopyToDeviceStream_Destroy", "PJRT_CopyToDeviceStream_AddChunk",
            "PJRT_CopyToDeviceStream_TotalBytes", "PJRT_CopyToDeviceStream_GranuleSize",
            "PJRT_CopyToDeviceStream_CurrentBytes",
            "PJRT_TopologyDescription_Create", "PJRT_TopologyDescription_Destroy",
            "PJRT_TopologyDescription_PlatformName", "PJRT_TopologyDescription_PlatformVersion",
            "PJRT_TopologyDescription_GetDeviceDescriptions", "PJRT_TopologyDescription_Serialize",
            "PJRT_TopologyDescription_Attributes",
            "PJRT_Compile",
            "PJRT_Executable_OutputElementTypes", "PJRT_Executable_OutputDimensions",
            "PJRT_Buffer_CopyToMemory",
            "PJRT_Client_CreateViewOfDeviceBuffer", "PJRT_Executable_Fingerprint", "PJRT_Client_TopologyDescription",
            "PJRT_Executable_GetCompiledMemoryStats", "PJRT_Memory_Kind_Id",
            "PJRT_ExecuteContext_Create", "PJRT_ExecuteContext_Destroy", "PJRT_Buffer_CopyRawToHost",
            "PJRT_AsyncHostToDeviceTransferManager_Destroy", "PJRT_AsyncHostToDeviceTransferManager_TransferData",
            "PJRT_Client_CreateBuffersForAsyncHostToDevice",
            "PJRT_AsyncHostToDeviceTransferManager_RetrieveBuffer", "PJRT_AsyncHostToDeviceTransferManager_Device",
            "PJRT_AsyncHostToDeviceTransferManager_BufferCount", "PJRT_AsyncHostToDeviceTransferManager_BufferSize",
            "PJRT_AsyncHostToDeviceTransferManager_SetBufferError",
            "PJRT_AsyncHostToDeviceTransferManager_AddMetadata", "PJRT_Client_DmaMap", "PJRT_Client_DmaUnmap",
            "PJRT_Client_CreateUninitializedBuffer", "PJRT_Client_UpdateGlobalProcessInfo",
            "PJRT_TopologyDescription_Deserialize", "PJRT_Client_CreateAliasBuffer", "PJRT_Client_FulfillAliasBuffer",
            "PJRT_LoadedExecutable_GetDeviceAssignment", "PJRT_Client_CreateErrorBuffer",
            "PJRT_AsyncHostToDeviceTransferManager_TransferLiteral", "PJRT_Buffer_CopyRawToHostFuture",
            "PJRT_Device_PoisonExecution", "PJRT_Device_CreateAsyncTrackingEvent", "PJRT_AsyncTrackingEvent_Destroy",
            "PJRT_Executable_GetCompileOptions", "PJRT_Buffer_DonateWithControlDependency",
            "PJRT_Event_Create", "PJRT_Event_Set", "PJRT_Device_GetAttributes");

    /** {@code PJRT_Api}: struct_size, extension_start, pjrt_api_version, then one pointer per function. */
    public static final Struct API;
    static {
        MemoryLayout[] members = new MemoryLayout[3 + API_FUNCTIONS.size()];
        members[0] = size("struct_size");
        members[1] = ptr("extension_start");
        members[2] = API_VERSION.layout().withName("pjrt_api_version");
        for (int i = 0; i < API_FUNCTIONS.size(); i++) members[3 + i] = ptr(API_FUNCTIONS.get(i));
        API = new Struct(padded("PJRT_Api", members), API_FUNCTIONS.getLast());
    }

    /** The pinned header's version. */
    public static final int API_MAJOR = 0, API_MINOR = 94;

    /** The slot of a {@code PJRT_Api} function; throws for a name the pinned header lacks. */
    public static int slot(String function) {
        int i = API_FUNCTIONS.indexOf(function);
        if (i < 0) throw new IllegalArgumentException("not in PJRT_Api " + API_MAJOR + "." + API_MINOR + ": " + function);
        return i;
    }

    /** Byte offset of a function's pointer in {@code PJRT_Api}. */
    public static long offsetOf(String function) {
        slot(function);
        return API.layout().byteOffset(PathElement.groupElement(function));
    }
}
