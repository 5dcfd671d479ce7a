package dev.kiln.accel.onednn;

import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_version_t;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;

/** Loading the library, turning status codes into exceptions, and building memory descriptors. */
final class OneDnnNative {
    private OneDnnNative() {}

    /** Loads libdnnl (and its bundled OpenMP) once; throws whatever the loader throws. */
    static void load() { Holder.touch(); }

    /** Throws {@link IllegalStateException} naming {@code what} and the status unless it is success. */
    static void check(int status, String what) {
        if (status != dnnl_success) throw new IllegalStateException("oneDNN " + statusName(status) + " in " + what);
    }

    static String statusName(int status) {
        if (status == dnnl_success) return "dnnl_success";
        if (status == dnnl_out_of_memory) return "dnnl_out_of_memory";
        if (status == dnnl_invalid_arguments) return "dnnl_invalid_arguments";
        if (status == dnnl_unimplemented) return "dnnl_unimplemented";
        if (status == dnnl_last_impl_reached) return "dnnl_last_impl_reached";
        if (status == dnnl_runtime_error) return "dnnl_runtime_error";
        if (status == dnnl_not_required) return "dnnl_not_required";
        return "dnnl status " + status;
    }

    static String version() {
        dnnl_version_t v = dnnl_version();
        return v.major() + "." + v.minor() + "." + v.patch();
    }

    /** The ISA oneDNN dispatches to, as oneDNN names it without its prefix ({@code avx512_core_bf16}). */
    static String effectiveIsa() {
        int isa = dnnl_get_effective_cpu_isa();
        // The enum is only reachable as constants, so the name is found by reflection, once, at probe time.
        for (Field f : org.bytedeco.dnnl.global.dnnl.class.getFields()) {
            String n = f.getName();
            if (!n.startsWith("dnnl_cpu_isa_") || n.equals("dnnl_cpu_isa_no_hints") || n.equals("dnnl_cpu_isa_prefer_ymm")) continue;
            if (!Modifier.isStatic(f.getModifiers()) || f.getType() != int.class) continue;
            try {
                if (f.getInt(null) == isa) return n.substring("dnnl_cpu_isa_".length());
            } catch (IllegalAccessException e) {
                break;
            }
        }
        return "isa " + isa;
    }

    /** Threads oneDNN uses when the caller does not choose (OMP_NUM_THREADS, else all cores). */
    static int defaultThreads() { return Holder.defaultThreads; }

    /** Makes OpenMP use {@code n} threads for parallel regions started from the calling thread. */
    static void setThreads(int n) {
        if (Holder.setNumThreads == null) return;
        try {
            Holder.setNumThreads.invokeExact(n);
        } catch (Throwable t) {
            throw new IllegalStateException("omp_set_num_threads failed", t);
        }
    }

    static int dataType(DType t) {
        return switch (t) {
            case F32 -> dnnl_f32;
            case F64 -> dnnl_f64;
            case BF16 -> dnnl_bf16;
            case F16 -> dnnl_f16;
            case I32 -> dnnl_s32;
            case I8 -> dnnl_s8;
            case BOOL -> dnnl_u8;
            case I64 -> throw new IllegalArgumentException("oneDNN has no i64 type");
        };
    }

    /** oneDNN has no rank-0 tensors; a scalar is one element of rank 1. */
    static long[] dims(Shape s) {
        if (s.rank() == 0) return new long[] {1};
        long[] d = new long[s.rank()];
        for (int i = 0; i < d.length; i++) d[i] = s.dim(i);
        return d;
    }

    static long[] rowMajorStrides(long[] dims) {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    /** A plain row-major descriptor; the caller destroys it. */
    static dnnl_memory_desc desc(DType t, long[] dims) { return desc(t, dims, rowMajorStrides(dims)); }

    /** A descriptor with explicit element strides (transposes and permutations are strides); the caller destroys it. */
    static dnnl_memory_desc desc(DType t, long[] dims, long[] strides) { return desc(dataType(t), t.label(), dims, strides); }

    /** As {@link #desc(DType, long[], long[])} for a oneDNN data type Kiln has no DType for ({@code dnnl_u8}, named {@code label}). */
    static dnnl_memory_desc desc(int dataType, String label, long[] dims, long[] strides) {
        dnnl_memory_desc md = new dnnl_memory_desc();
        try (LongPointer d = new LongPointer(dims); LongPointer s = new LongPointer(strides)) {
            check(dnnl_memory_desc_create_with_strides(md, dims.length, d, dataType, s),
                    "memory descriptor " + label + java.util.Arrays.toString(dims));
        }
        return md;
    }

    static void destroy(dnnl_memory_desc... mds) {
        for (dnnl_memory_desc md : mds) if (md != null && !md.isNull()) dnnl_memory_desc_destroy(md);
    }

    /** Lazy holder: class loading of the provider must not touch native code. */
    @SuppressWarnings("restricted")
    private static final class Holder {
        static final MethodHandle setNumThreads;
        static final int defaultThreads;

        static {
            // libgomp reads this when it loads: passive workers sleep between parallel regions instead of
            // spinning for ~300k iterations on the cores the JVM's own threads (the JIT, the data loader)
            // and anything else on the machine need; see docs/onednn.md.
            CEnvironment.setIfUnset("OMP_WAIT_POLICY", "passive");
            String jni = Loader.load(org.bytedeco.dnnl.global.dnnl.class);
            MethodHandle set = null;
            int threads = Runtime.getRuntime().availableProcessors();
            try {
                // libdnnl is built against the libgomp bundled next to the JNI library; dlopen finds the loaded copy.
                SymbolLookup gomp = SymbolLookup.libraryLookup(Path.of(jni).resolveSibling("libgomp.so.1"), Arena.global());
                Linker linker = Linker.nativeLinker();
                set = linker.downcallHandle(gomp.find("omp_set_num_threads").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
                MethodHandle get = linker.downcallHandle(gomp.find("omp_get_max_threads").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
                threads = (int) get.invokeExact();
            } catch (Throwable t) {
                set = null; // no OpenMP control: oneDNN keeps its own default
            }
            setNumThreads = set;
            defaultThreads = threads;
        }

        static void touch() {}
    }
}
