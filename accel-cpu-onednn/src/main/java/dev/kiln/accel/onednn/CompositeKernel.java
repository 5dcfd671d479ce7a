package dev.kiln.accel.onednn;

import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A composite run through its own decomposition. Capabilities name native composites by class,
 * not by dtype, so a composite this plugin fuses for f32 (Linear, Softmax) must still run for
 * f64: its primitives run in sequence over intermediates allocated once, with the kernel.
 */
final class CompositeKernel implements Kernel {
    private final Kernel[] kernels;
    private final int[][] ins, outs;
    private final int[] results;
    private final MemorySegment[] slots;
    private final int inputs;
    /** The intermediates' memory, freed with the kernel. */
    private final Arena arena = Arena.ofShared();

    CompositeKernel(Composite op, Node node, Function<Node, Kernel> kernelFor) {
        Graph.Builder b = new Graph.Builder(0);
        List<Value> in = node.inputs().stream().map(v -> b.input(v.type())).toList();
        List<Value> out = op.decompose(b, in);
        Graph g = Lowering.decompose(b.build(out), c -> false);
        Map<Integer, Integer> slotOf = new HashMap<>();
        for (Value v : g.inputs()) slotOf.put(v.id(), slotOf.size());
        inputs = slotOf.size();
        for (Node n : g.nodes()) for (Value v : n.outputs()) slotOf.put(v.id(), slotOf.size());
        slots = new MemorySegment[slotOf.size()];
        kernels = new Kernel[g.nodes().size()];
        ins = new int[kernels.length][];
        outs = new int[kernels.length][];
        for (int i = 0; i < kernels.length; i++) {
            Node n = g.nodes().get(i);
            kernels[i] = kernelFor.apply(n);
            ins[i] = n.inputs().stream().mapToInt(v -> slotOf.get(v.id())).toArray();
            outs[i] = n.outputs().stream().mapToInt(v -> slotOf.get(v.id())).toArray();
            for (int j = 0; j < outs[i].length; j++) slots[outs[i][j]] = arena.allocate(Math.max(1, n.outputs().get(j).type().byteSize()), 64);
        }
        results = g.outputs().stream().mapToInt(v -> slotOf.get(v.id())).toArray();
    }

    @Override public void run(MemorySegment[] in, MemorySegment[] out) {
        System.arraycopy(in, 0, slots, 0, inputs);
        for (int i = 0; i < kernels.length; i++) {
            MemorySegment[] a = new MemorySegment[ins[i].length], r = new MemorySegment[outs[i].length];
            for (int j = 0; j < a.length; j++) a[j] = slots[ins[i][j]];
            for (int j = 0; j < r.length; j++) r[j] = slots[outs[i][j]];
            kernels[i].run(a, r);
        }
        for (int j = 0; j < results.length; j++) out[j].copyFrom(slots[results[j]].asSlice(0, out[j].byteSize()));
        java.util.Arrays.fill(slots, 0, inputs, null);
    }

    @Override public void close() {
        try {
            for (Kernel k : kernels) if (k != null) k.close();
        } finally {
            if (arena.scope().isAlive()) arena.close();
        }
    }
}
