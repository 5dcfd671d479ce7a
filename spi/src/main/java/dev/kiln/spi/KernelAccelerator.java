package dev.kiln.spi;

import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The base of a simple host-memory plugin: supply one {@link Kernel} per primitive (and, if you
 * like, per composite) and get a working sequential {@code compile}. Composites without a kernel
 * are decomposed; intermediate buffers are freed after their last use.
 */
public abstract class KernelAccelerator implements Accelerator {

    /** The kernel for {@code node}, or {@code null} when this plugin has none (composites then decompose). */
    protected abstract Kernel kernel(Node node, CompileOptions options);

    @Override public Buffer allocate(TensorType type) { return HostBuffer.allocate(type); }

    @Override public Buffer upload(TensorType type, MemorySegment host) {
        HostBuffer b = HostBuffer.allocate(type);
        b.segment().copyFrom(host.asSlice(0, type.byteSize()));
        return b;
    }

    @Override public void download(Buffer buffer, MemorySegment host) {
        MemorySegment.copy(host(buffer).segment(), 0, host, 0, buffer.type().byteSize());
    }

    /** The host buffer behind {@code b}; fails clearly if it came from another accelerator. */
    protected static HostBuffer host(Buffer b) {
        if (b instanceof HostBuffer h) return h;
        throw new IllegalArgumentException("buffer " + b.type() + " does not belong to a host-memory accelerator");
    }

    @Override public Executable compile(Graph graph, CompileOptions options) {
        Graph lowered = Lowering.decompose(graph, c -> capabilities().isNative(c));
        List<Step> steps = new ArrayList<>();
        for (Node n : lowered.nodes()) {
            Kernel k = kernel(n, options);
            if (k == null) {
                throw new UnsupportedOperationException(name() + " has no kernel for " + n.op().opName() + " in node " + n);
            }
            steps.add(new Step(n, k));
        }
        return new SequentialExecutable(lowered, steps);
    }

    private record Step(Node node, Kernel kernel) {}

    /** Runs steps in order, giving each value a slot; frees intermediates after their last use. */
    private static final class SequentialExecutable implements Executable {
        private final Graph graph;
        private final List<Step> steps;
        private final Map<Integer, Integer> slotOf = new HashMap<>();
        private final int[][] inSlots, outSlots, freeAfter;
        private final int[] inputSlots, outputSlots;
        private final boolean[] isInput;
        private final int slots;

        SequentialExecutable(Graph graph, List<Step> steps) {
            this.graph = graph;
            this.steps = steps;
            for (Value v : graph.inputs()) slot(v);
            for (Step s : steps) for (Value v : s.node().outputs()) slot(v);
            slots = slotOf.size();
            isInput = new boolean[slots];
            inputSlots = graph.inputs().stream().mapToInt(v -> slotOf.get(v.id())).toArray();
            for (int s : inputSlots) isInput[s] = true;
            outputSlots = graph.outputs().stream().mapToInt(v -> {
                Integer s = slotOf.get(v.id());
                if (s == null) throw new IllegalArgumentException("graph output " + v + " is never defined");
                return s;
            }).toArray();
            int[] lastUse = new int[slots];
            java.util.Arrays.fill(lastUse, -1);
            inSlots = new int[steps.size()][];
            outSlots = new int[steps.size()][];
            for (int i = 0; i < steps.size(); i++) {
                Node n = steps.get(i).node();
                inSlots[i] = new int[n.inputs().size()];
                for (int j = 0; j < inSlots[i].length; j++) {
                    Integer s = slotOf.get(n.inputs().get(j).id());
                    if (s == null) throw new IllegalArgumentException("node " + n + " uses an undefined value " + n.inputs().get(j));
                    inSlots[i][j] = s;
                    lastUse[s] = i;
                }
                outSlots[i] = n.outputs().stream().mapToInt(v -> slotOf.get(v.id())).toArray();
                for (int s : outSlots[i]) lastUse[s] = Math.max(lastUse[s], i);
            }
            for (int s : outputSlots) lastUse[s] = Integer.MAX_VALUE;
            List<List<Integer>> frees = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) frees.add(new ArrayList<>());
            for (int s = 0; s < slots; s++) if (!isInput[s] && lastUse[s] >= 0 && lastUse[s] < steps.size()) frees.get(lastUse[s]).add(s);
            freeAfter = frees.stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new);
        }

        private void slot(Value v) { slotOf.putIfAbsent(v.id(), slotOf.size()); }

        @Override public List<Buffer> run(List<Buffer> inputs) {
            if (inputs.size() != inputSlots.length) {
                throw new IllegalArgumentException("executable expects " + inputSlots.length + " inputs, got " + inputs.size());
            }
            HostBuffer[] live = new HostBuffer[slots];
            for (int i = 0; i < inputSlots.length; i++) {
                HostBuffer h = host(inputs.get(i));
                TensorType want = graph.inputs().get(i).type();
                if (!h.type().equals(want)) throw new IllegalArgumentException("input " + i + " is " + h.type() + ", expected " + want);
                live[inputSlots[i]] = h;
            }
            try {
                for (int i = 0; i < steps.size(); i++) {
                    Step step = steps.get(i);
                    MemorySegment[] in = new MemorySegment[inSlots[i].length];
                    for (int j = 0; j < in.length; j++) in[j] = live[inSlots[i][j]].segment();
                    MemorySegment[] out = new MemorySegment[outSlots[i].length];
                    for (int j = 0; j < out.length; j++) {
                        HostBuffer b = HostBuffer.allocate(step.node().outputs().get(j).type());
                        live[outSlots[i][j]] = b;
                        out[j] = b.segment();
                    }
                    step.kernel().run(in, out);
                    for (int s : freeAfter[i]) {
                        live[s].close();
                        live[s] = null;
                    }
                }
                List<Buffer> result = new ArrayList<>(outputSlots.length);
                boolean[] handedOut = new boolean[slots];
                for (int s : outputSlots) {
                    HostBuffer b = live[s];
                    if (isInput[s] || handedOut[s]) {
                        HostBuffer copy = HostBuffer.allocate(b.type());
                        copy.segment().copyFrom(b.segment());
                        b = copy;
                    }
                    handedOut[s] = true;
                    result.add(b);
                }
                return result;
            } catch (RuntimeException e) {
                for (int s = 0; s < slots; s++) if (!isInput[s] && live[s] != null) live[s].close();
                throw e;
            }
        }

        @Override public void close() {}
    }
}
