package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * The one elementwise kernel family: each output element {@code i} of an iteration space loads
 * inputs {@code a0..} (as their compute types, from any strided view: broadcast is stride 0, a
 * permutation is permuted strides, a slice an offset), runs {@code body}, and stores {@code r0..}
 * into strided outputs. Unary, binary, where, cast, the sources, every movement op and the fused
 * optimizer updates are bodies of this kernel. The source depends only on dtypes and body, never
 * on shapes, so one compiled kernel serves every shape. The body may also read {@code i} (the
 * linear index), {@code s0} (a double) and {@code q0}, {@code q1} (longs).
 */
record MapKernel(String name, List<DType> inputs, List<DType> outputs, String body) {

    /**
     * The kernel's source for an iteration space of {@code rank} merged axes. Index arithmetic runs
     * in {@code unsigned int} unless {@code wide}: a GPU has no 64-bit divider. The rank is baked in
     * and the axis loop unrolled, because indexing the by-value {@code Dims} parameters with a
     * runtime axis makes every thread copy them to local memory first, which cost more than the
     * memory traffic of the op itself. Rank 1 (every operand contiguous or scalar) divides nothing.
     */
    String source(int rank, boolean wide) {
        String ix = wide ? "long long" : "unsigned int";
        StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
        sb.append("typedef ").append(ix).append(" IX;\n#define RANK ").append(rank).append("\n");
        sb.append("extern \"C\" __global__ void k(long long n, int rank, Dims dims, double s0, long long q0, long long q1");
        for (int j = 0; j < outputs.size(); j++) {
            sb.append(", ").append(CudaTypes.storage(outputs.get(j))).append("* __restrict__ out").append(j)
                    .append(", long long oo").append(j).append(", Dims os").append(j);
        }
        for (int j = 0; j < inputs.size(); j++) {
            sb.append(", const ").append(CudaTypes.storage(inputs.get(j))).append("* __restrict__ in").append(j)
                    .append(", long long io").append(j).append(", Dims is").append(j);
        }
        int operands = outputs.size() + inputs.size();
        sb.append(") {\n  for (IX ix = blockIdx.x * (IX) blockDim.x + threadIdx.x; ix < (IX) n; ix += (IX) gridDim.x * blockDim.x) {\n");
        sb.append("    IX rem = ix");
        for (int j = 0; j < operands; j++) sb.append(", ").append(pos(j)).append(" = (IX) ").append(base(j));
        sb.append(";\n    #pragma unroll\n    for (int d = RANK - 1; d > 0; d--) {\n");
        sb.append("      IX e = (IX) dims.d[d], c = rem % e;\n      rem /= e;\n");
        for (int j = 0; j < operands; j++) sb.append("      ").append(pos(j)).append(" += c * (IX) ").append(strides(j)).append(".d[d];\n");
        sb.append("    }\n");
        for (int j = 0; j < operands; j++) sb.append("    ").append(pos(j)).append(" += rem * (IX) ").append(strides(j)).append(".d[0];\n");
        sb.append("    long long i = (long long) ix;\n    (void) i;\n");
        for (int j = 0; j < inputs.size(); j++) {
            DType t = inputs.get(j);
            sb.append("    ").append(CudaTypes.compute(t)).append(" a").append(j).append(" = ").append(CudaTypes.load(t, "in" + j + "[pi" + j + "]")).append(";\n");
        }
        for (int j = 0; j < outputs.size(); j++) sb.append("    ").append(CudaTypes.compute(outputs.get(j))).append(" r").append(j).append(";\n");
        sb.append("    {\n").append(body.indent(6)).append("    }\n");
        for (int j = 0; j < outputs.size(); j++) {
            sb.append("    out").append(j).append("[po").append(j).append("] = ").append(CudaTypes.store(outputs.get(j), "r" + j)).append(";\n");
        }
        sb.append("  }\n}\n");
        return sb.toString();
    }

    private String pos(int operand) { return operand < outputs.size() ? "po" + operand : "pi" + (operand - outputs.size()); }

    private String base(int operand) { return operand < outputs.size() ? "oo" + operand : "io" + (operand - outputs.size()); }

    private String strides(int operand) { return operand < outputs.size() ? "os" + operand : "is" + (operand - outputs.size()); }

    /** A strided view of one operand: device address (plus an element offset) and a stride per iteration axis. */
    record View(long address, long offset, long[] strides) {
        /** The row-major layout of a tensor of {@code dims}, iterated in the same shape. */
        static View contiguous(long address, int[] dims) { return new View(address, 0, rowMajor(dims)); }

        /** A tensor of {@code from} read as though broadcast to {@code to} (NumPy rules: aligned right, size-1 axes repeat). */
        static View broadcast(long address, int[] from, int[] to) {
            long[] src = rowMajor(from), s = new long[to.length];
            int off = to.length - from.length;
            for (int i = 0; i < from.length; i++) s[i + off] = from[i] == 1 ? 0 : src[i];
            return new View(address, 0, s);
        }
    }

    static long[] rowMajor(int[] dims) { return dev.kiln.core.Shape.of(dims).strides(); }

    /** A launch of this kernel over {@code dims} with the given views (outputs first, in order). */
    KernelLaunch launch(CudaKernels k, int[] dims, List<View> outs, List<View> ins, double s0, long q0, long q1) {
        if (outs.size() != outputs.size() || ins.size() != inputs.size()) throw new IllegalArgumentException(name + ": operand count");
        long n = 1;
        for (int d : dims) n *= d;
        List<View> all = new ArrayList<>(outs);
        all.addAll(ins);
        Coalesced c = coalesce(dims, all);
        boolean wide = n >= Integer.MAX_VALUE;
        for (int j = 0; j < all.size(); j++) wide |= c.lastElement(all.get(j).offset(), j) >= Integer.MAX_VALUE;
        int rank = c.dims.length;
        KernelLaunch l = k.launch(name + "_r" + rank + (wide ? "_wide" : ""), source(rank, wide)).i64(n).i32(c.dims.length).dims(c.dims).f64(s0).i64(q0).i64(q1);
        for (int j = 0; j < all.size(); j++) l.ptr(all.get(j).address()).i64(all.get(j).offset()).dims(c.strides.get(j));
        return l.elements(n, k.multiprocessors());
    }

    private record Coalesced(long[] dims, List<long[]> strides) {
        /** The largest element index operand {@code j} reaches from {@code offset}. */
        long lastElement(long offset, int j) {
            long last = offset;
            for (int d = 0; d < dims.length; d++) last += (dims[d] - 1) * strides.get(j)[d];
            return last;
        }
    }

    /**
     * Drops size-1 axes and merges neighbours that every operand walks contiguously, so a plain
     * elementwise op runs with rank 1 (one division per element) and a bias add with rank 2.
     */
    private static Coalesced coalesce(int[] dims, List<View> views) {
        List<Long> d = new ArrayList<>();
        List<List<Long>> s = new ArrayList<>();
        for (int j = 0; j < views.size(); j++) s.add(new ArrayList<>());
        for (int ax = 0; ax < dims.length; ax++) {
            if (dims[ax] == 1) continue;
            int last = d.size() - 1;
            boolean merge = last >= 0;
            for (int j = 0; j < views.size() && merge; j++) {
                merge = s.get(j).get(last) == views.get(j).strides()[ax] * dims[ax];
            }
            if (merge) {
                d.set(last, d.get(last) * dims[ax]);
                for (int j = 0; j < views.size(); j++) s.get(j).set(last, views.get(j).strides()[ax]);
            } else {
                d.add((long) dims[ax]);
                for (int j = 0; j < views.size(); j++) s.get(j).add(views.get(j).strides()[ax]);
            }
        }
        if (d.isEmpty()) {
            d.add(1L);
            for (List<Long> l : s) l.add(0L);
        }
        if (d.size() > KernelLaunch.MAX_RANK) throw new IllegalArgumentException("cuda kernels take at most rank " + KernelLaunch.MAX_RANK + " after merging axes, got " + d.size());
        List<long[]> strides = new ArrayList<>();
        for (List<Long> l : s) strides.add(l.stream().mapToLong(Long::longValue).toArray());
        return new Coalesced(d.stream().mapToLong(Long::longValue).toArray(), strides);
    }
}
