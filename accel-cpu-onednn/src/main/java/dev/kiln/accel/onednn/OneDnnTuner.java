package dev.kiln.accel.onednn;

import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.HostBuffer;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * Picks among oneDNN's implementations of a primitive by timing them once, at compile time.
 *
 * <p>oneDNN dispatches to the first implementation in its list that accepts a problem, and its
 * heuristics are not always right for small shapes: the seed MLP's weight gradient
 * (dZ^T[128, 32] x X[32, 784]) is declined by the AVX-512 brgemm as a "small shape" and lands on
 * the AVX2 brgemm at ~80 GFLOP/s, while the next implementation, the JIT sgemm, runs it at ~160
 * on this CPU. So when oneDNN's first choice uses narrower vectors than the CPU has, each of its
 * non-reference implementations is built and run on zeroed scratch operands of the same layout
 * (the common case, oneDNN on the CPU's widest ISA, is taken as is and costs no compile time).
 * Another wins only if it is at least {@link #MARGIN} times faster than oneDNN's own choice: a
 * clear margin keeps the choice stable from run to run (implementations round differently, so a
 * coin-flip choice would make training irreproducible). Kernels slower than {@link #BIG_NANOS}
 * per run are not tuned, so a large GEMM does not pay seconds of compile time.
 * {@code -Dkiln.onednn.tune=false} keeps oneDNN's choice; {@code -Dkiln.onednn.tuneDebug=true}
 * prints each timed implementation.
 */
final class OneDnnTuner {
    private OneDnnTuner() {}

    private static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("kiln.onednn.tune", "true"));
    private static final double MARGIN = 1.3;
    private static final long BIG_NANOS = 5_000_000;
    private static final int MAX_IMPLS = 8, TIMED_RUNS = 5;
    private static final boolean DEBUG = Boolean.getBoolean("kiln.onednn.tuneDebug");

    /**
     * The primitive {@code pd} describes, on the fastest of its implementations; arguments are as
     * for {@link OneDnnPrimitive#OneDnnPrimitive}, which also takes ownership of {@code pd}.
     */
    static OneDnnPrimitive fastest(OneDnnEngine e, String what, dnnl_primitive_desc pd,
                                   int[] argKinds, dnnl_memory_desc[] mds, int inputs) {
        boolean tune;
        try {
            tune = ENABLED && fellBack(implementation(pd));
        } catch (RuntimeException ex) {
            destroy(pd);
            throw ex;
        }
        if (!tune) return new OneDnnPrimitive(e, what, pd, argKinds, mds, inputs);
        List<dnnl_primitive_desc> candidates = candidates(pd);
        if (candidates.size() == 1) return new OneDnnPrimitive(e, what, candidates.get(0), argKinds, mds, inputs);
        List<HostBuffer> scratch = new ArrayList<>();
        OneDnnPrimitive best = null;
        try {
            MemorySegment[] in = new MemorySegment[inputs], out = new MemorySegment[mds.length - inputs];
            for (int i = 0; i < mds.length; i++) {
                HostBuffer b = HostBuffer.allocate(new TensorType(DType.I8, Shape.of(Math.toIntExact(dnnl_memory_desc_get_size(mds[i])))));
                scratch.add(b);
                b.segment().fill((byte) 0);
                if (i < inputs) in[i] = b.segment();
                else out[i - inputs] = b.segment();
            }
            long bestNanos = Long.MAX_VALUE;
            while (!candidates.isEmpty()) {
                OneDnnPrimitive p = new OneDnnPrimitive(e, what, candidates.remove(0), argKinds, mds, inputs);
                long nanos = time(p, in, out);
                if (DEBUG) System.err.printf("kiln.onednn.tune: %s: %s %.1f us%n", what, p.implementation(), nanos / 1e3);
                if (best == null || nanos * MARGIN <= bestNanos) {
                    if (best != null) best.close();
                    best = p;
                    bestNanos = nanos;
                    if (nanos > BIG_NANOS) break;
                } else {
                    p.close();
                }
            }
            OneDnnPrimitive chosen = best;
            best = null;
            return chosen;
        } catch (RuntimeException ex) {
            if (best != null) best.close();
            throw ex;
        } finally {
            candidates.forEach(OneDnnTuner::destroy);
            scratch.forEach(HostBuffer::close);
        }
    }

    /**
     * One descriptor per distinct non-reference implementation, in oneDNN's order (its own choice
     * first), each a clone of {@code pd} taken at that implementation; {@code pd} is destroyed.
     */
    private static List<dnnl_primitive_desc> candidates(dnnl_primitive_desc pd) {
        List<dnnl_primitive_desc> out = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_IMPLS; i++) {
                if (i > 0 && dnnl_primitive_desc_next_impl(pd) != dnnl_success) break;
                String name = implementation(pd);
                // next_impl can stay on the last implementation and still report success.
                if (seen.contains(name)) break;
                seen.add(name);
                if (name.startsWith("ref") && !out.isEmpty()) continue;
                dnnl_primitive_desc copy = new dnnl_primitive_desc();
                OneDnnNative.check(dnnl_primitive_desc_clone(copy, pd), "copying a primitive descriptor");
                out.add(copy);
            }
        } catch (RuntimeException ex) {
            out.forEach(OneDnnTuner::destroy);
            throw ex;
        } finally {
            dnnl_primitive_desc_destroy(pd);
        }
        return out;
    }

    /**
     * Whether oneDNN's first choice runs on narrower vectors than this CPU has: the case where its
     * heuristics declined the wide kernel and another implementation may well be faster. Only
     * then are the candidates timed, so the common case costs no compile time.
     */
    private static boolean fellBack(String implementation) {
        return CpuFeatures.avx512() && (implementation.contains("avx2") || implementation.contains("sse41"));
    }

    private static void destroy(dnnl_primitive_desc pd) { dnnl_primitive_desc_destroy(pd); }

    static String implementation(dnnl_primitive_desc pd) {
        try (PointerPointer<BytePointer> info = new PointerPointer<>(1)) {
            OneDnnNative.check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, info), "querying the implementation");
            return info.getString(0);
        }
    }

    /**
     * Median of a few runs after one that is not counted: a first run pays for page faults and,
     * for the JIT sgemm, for generating its kernels (~65 ms, once per process, unless
     * {@link JitGemmWarmup} did it). A kernel counts as big only after two runs in a row over
     * {@link #BIG_NANOS}: on a loaded machine a single 70 us run was seen to take over 5 ms
     * (the thread descheduled), and taking that one run as the kernel's time ended the tuning on
     * oneDNN's slower first choice for the rest of the program.
     */
    private static long time(OneDnnPrimitive p, MemorySegment[] in, MemorySegment[] out) {
        p.run(in, out);
        long[] t = new long[TIMED_RUNS];
        for (int r = 0; r < t.length; r++) {
            long t0 = System.nanoTime();
            p.run(in, out);
            t[r] = System.nanoTime() - t0;
            if (r > 0 && t[r] > BIG_NANOS && t[r - 1] > BIG_NANOS) return Math.min(t[r], t[r - 1]);
        }
        Arrays.sort(t);
        return t[t.length / 2];
    }
}
