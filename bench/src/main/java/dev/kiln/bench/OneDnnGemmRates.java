package dev.kiln.bench;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * oneDNN's own GEMM rates, with no Kiln in between: each layer of an MLP at one batch size as a
 * oneDNN matmul in f32, in int8 (u8 and s8 sources times s8 weights in oneDNN's preferred
 * layout, s32 sums, f32 out with scales, bias and ReLU: what Kiln's int8 kernel runs) and in
 * bf16 (bf16 source and weights, f32 out with bias and ReLU: Kiln's bf16-mixed layer), on one
 * thread and on all, median of many runs. The sum of the layers' times, f32 over int8, is the
 * most a dynamically quantized model of these layers can gain over f32 on this CPU (and bf16's
 * the most bf16-mixed can). Half of {@code bench/int8.sh} and of {@code bench/bf16.sh}. Usage: {@code OneDnnGemmRates BATCH WIDTH,WIDTH,...} (e.g. 256 784,1024,1024,10).
 */
public final class OneDnnGemmRates {
    private OneDnnGemmRates() {}

    private static final int RUNS = 41;

    /** One source type: its name and oneDNN data types of source and weights. */
    private record Kind(String name, int src, int wei) {}

    private static final List<Kind> KINDS = List.of(new Kind("f32", dnnl_f32, dnnl_f32), new Kind("u8s8", dnnl_u8, dnnl_s8), new Kind("s8s8", dnnl_s8, dnnl_s8),
            new Kind("bf16", dnnl_bf16, dnnl_bf16));

    public static void main(String[] args) throws Throwable {
        if (args.length != 2) {
            System.err.println("usage: OneDnnGemmRates BATCH WIDTH,WIDTH,... (e.g. 256 784,1024,1024,10)");
            System.exit(2);
        }
        int batch = Integer.parseInt(args[0]);
        int[] widths = Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray();
        MethodHandle setThreads = openMpThreads();
        int all = Runtime.getRuntime().availableProcessors();
        dnnl_engine engine = new dnnl_engine();
        dnnl_stream stream = new dnnl_stream();
        check(dnnl_engine_create(engine, dnnl_cpu, 0), "engine");
        check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "stream");
        for (int threads : all > 1 ? new int[] {1, all} : new int[] {1}) {
            setThreads.invokeExact(threads);
            double[] total = new double[KINDS.size()];
            for (int l = 0; l + 1 < widths.length; l++) {
                int k = widths[l], n = widths[l + 1];
                List<String> parts = new ArrayList<>();
                for (int i = 0; i < KINDS.size(); i++) {
                    double us = medianMicros(engine, stream, KINDS.get(i), batch, k, n);
                    total[i] += us;
                    parts.add(String.format(Locale.ROOT, "%s %.1f us = %.0f G%s/s", KINDS.get(i).name(), us, 2.0 * batch * k * n / us / 1e3, i == 0 ? "FLOP" : "OP"));
                }
                System.out.printf(Locale.ROOT, "onednn gemm %dx%dx%d, %d thread%s: %s%n", batch, k, n, threads, threads == 1 ? "" : "s", String.join(", ", parts));
            }
            System.out.printf(Locale.ROOT, "onednn gemm layers %s at batch %d, %d thread%s: f32 %.1f us, u8s8 %.1f us, s8s8 %.1f us; f32/int8 %.2f (u8s8), %.2f (s8s8)%n",
                    args[1], batch, threads, threads == 1 ? "" : "s", total[0], total[1], total[2], total[0] / total[1], total[0] / total[2]);
            System.out.printf(Locale.ROOT, "onednn gemm layers %s at batch %d, %d thread%s: f32 %.1f us, bf16 %.1f us; bf16/f32 speed %.2f%n",
                    args[1], batch, threads, threads == 1 ? "" : "s", total[0], total[3], total[0] / total[3]);
        }
    }

    /** Median microseconds of one run of the layer's matmul, weights in the layout oneDNN asks for. */
    private static double medianMicros(dnnl_engine engine, dnnl_stream stream, Kind kind, int m, int k, int n) {
        boolean int8 = kind.wei() == dnnl_s8;
        dnnl_memory_desc src = desc(kind.src(), m, k), wei = anyLayout(kind.wei(), k, n);
        dnnl_memory_desc bias = desc(dnnl_f32, 1, n), dst = desc(dnnl_f32, m, n), one = desc(dnnl_f32, 1, 1), perColumn = desc(dnnl_f32, 1, n);
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        check(dnnl_primitive_attr_create(attr), "attr");
        if (int8) {
            check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_SRC, 0), "source scale");
            check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_WEIGHTS, 1 << 1), "weight scales");
        }
        dnnl_post_ops ops = new dnnl_post_ops();
        check(dnnl_post_ops_create(ops), "post-ops");
        check(dnnl_post_ops_append_eltwise(ops, dnnl_eltwise_relu, 0f, 0f), "relu");
        check(dnnl_primitive_attr_set_post_ops(attr, ops), "post-ops");
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_matmul_primitive_desc_create(pd, engine, src, wei, bias, dst, attr), kind.name() + " matmul");
        dnnl_primitive p = new dnnl_primitive();
        check(dnnl_primitive_create(p, pd), "primitive");
        dnnl_memory_desc[] mds = {src, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), bias, dst, one, perColumn};
        int[] kinds = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST, DNNL_ARG_ATTR_SCALES | DNNL_ARG_SRC, DNNL_ARG_ATTR_SCALES | DNNL_ARG_WEIGHTS};
        int count = int8 ? 6 : 4;
        List<Pointer> data = new ArrayList<>();
        List<dnnl_memory> mems = new ArrayList<>();
        dnnl_exec_arg_t args = new dnnl_exec_arg_t(count);
        for (int i = 0; i < count; i++) {
            long bytes = dnnl_memory_desc_get_size(mds[i]);
            Pointer d = Pointer.malloc(Math.max(64, bytes));
            // Ones: small integers in every type, no denormals, and scales of one.
            if (kinds[i] == DNNL_ARG_SRC && kind.src() != dnnl_f32 || kinds[i] == DNNL_ARG_WEIGHTS && int8) Pointer.memset(d, 1, bytes);
            else {
                FloatPointer f = new FloatPointer(d);
                for (long j = 0; j < bytes / 4; j++) f.put(j, 1f);
            }
            data.add(d);
            dnnl_memory mem = new dnnl_memory();
            check(dnnl_memory_create(mem, mds[i], engine, d), "memory");
            mems.add(mem);
            args.position(i).arg(kinds[i]).memory(mem);
        }
        args.position(0);
        double[] t = new double[RUNS];
        for (int r = -3; r < RUNS; r++) {
            long t0 = System.nanoTime();
            check(dnnl_primitive_execute(p, stream, count, args), "execute");
            check(dnnl_stream_wait(stream), "wait");
            if (r >= 0) t[r] = (System.nanoTime() - t0) / 1e3;
        }
        mems.forEach(org.bytedeco.dnnl.global.dnnl::dnnl_memory_destroy);
        data.forEach(Pointer::free);
        dnnl_primitive_destroy(p);
        dnnl_primitive_desc_destroy(pd);
        dnnl_post_ops_destroy(ops);
        dnnl_primitive_attr_destroy(attr);
        for (dnnl_memory_desc md : new dnnl_memory_desc[] {src, wei, bias, dst, one, perColumn}) dnnl_memory_desc_destroy(md);
        Arrays.sort(t);
        return t[RUNS / 2];
    }

    private static dnnl_memory_desc desc(int type, long rows, long cols) {
        dnnl_memory_desc md = new dnnl_memory_desc();
        try (LongPointer d = new LongPointer(rows, cols); LongPointer s = new LongPointer(cols, 1)) {
            check(dnnl_memory_desc_create_with_strides(md, 2, d, type, s), "memory descriptor");
        }
        return md;
    }

    private static dnnl_memory_desc anyLayout(int type, long rows, long cols) {
        dnnl_memory_desc md = new dnnl_memory_desc();
        try (LongPointer d = new LongPointer(rows, cols)) {
            check(dnnl_memory_desc_create_with_tag(md, 2, d, type, dnnl_format_tag_any), "memory descriptor");
        }
        return md;
    }

    private static void check(int status, String what) {
        if (status != dnnl_success) throw new IllegalStateException("oneDNN status " + status + " in " + what);
    }

    /** {@code omp_set_num_threads} of the OpenMP runtime bundled with oneDNN's JNI library. */
    @SuppressWarnings("restricted")
    private static MethodHandle openMpThreads() {
        String jni = Loader.load(org.bytedeco.dnnl.global.dnnl.class);
        SymbolLookup gomp = SymbolLookup.libraryLookup(Path.of(jni).resolveSibling("libgomp.so.1"), Arena.global());
        return Linker.nativeLinker().downcallHandle(gomp.find("omp_set_num_threads").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
    }
}
