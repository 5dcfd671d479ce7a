package dev.kiln.spi;

import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each value of a sequentially run graph lives, decided once at compile time. Every value
 * gets a slot; intermediates get an offset into one arena, reused by liveness (a value's bytes are
 * free again after its last reader ran, and a node's outputs never overlap its inputs or each
 * other). Graph inputs and outputs live in the caller's buffers, bound per run. A view step (a
 * reshape whose kernel {@link Kernel#isView is a view}, into an intermediate) gets no memory of its
 * own: its output uses its input's memory, which then lives until the view's last reader.
 */
final class MemoryPlan {
    /** Arena slices are aligned like {@link HostBuffer}s, for vector loads. */
    private static final long ALIGN = 64;

    final int slots;
    final int[] inputSlots;
    /** Per graph output: its value's slot. */
    final int[] outputSlots;
    /** Per slot: the graph output whose buffer holds it (the first that names it), or -1. */
    final int[] boundOutput;
    /** Per slot: arena offset for an intermediate, or -1. */
    final long[] offset;
    final long[] bytes;
    /** Per slot: the step that writes it (-1 for inputs) and the last step that reads it (-1 if none). */
    final int[] def, lastRead;
    final int[][] inSlots, outSlots;
    /** Per step: whether it runs as a view (binds its output to its input's memory). */
    final boolean[] view;
    /** Per slot: the slot whose memory it uses (itself unless it is a view's output). */
    private final int[] source;
    final long arenaBytes;

    /** {@code viewable[i]}: step {@code i}'s kernel is a view (see {@link Kernel#isView}). */
    MemoryPlan(Graph graph, boolean[] viewable) {
        Map<Integer, Integer> slotOf = new HashMap<>();
        for (Value v : graph.inputs()) slotOf.putIfAbsent(v.id(), slotOf.size());
        for (Node n : graph.nodes()) for (Value v : n.outputs()) slotOf.putIfAbsent(v.id(), slotOf.size());
        slots = slotOf.size();
        bytes = new long[slots];
        def = new int[slots];
        lastRead = new int[slots];
        Arrays.fill(def, -1);
        Arrays.fill(lastRead, -1);
        inputSlots = graph.inputs().stream().mapToInt(v -> slotOf.get(v.id())).toArray();
        for (Value v : graph.inputs()) bytes[slotOf.get(v.id())] = v.type().byteSize();
        List<Node> nodes = graph.nodes();
        inSlots = new int[nodes.size()][];
        outSlots = new int[nodes.size()][];
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            inSlots[i] = new int[n.inputs().size()];
            for (int j = 0; j < inSlots[i].length; j++) {
                Integer s = slotOf.get(n.inputs().get(j).id());
                if (s == null || (def[s] < 0 && !isInput(s))) throw new IllegalArgumentException("node " + n + " uses an undefined value " + n.inputs().get(j));
                inSlots[i][j] = s;
                lastRead[s] = i;
            }
            outSlots[i] = new int[n.outputs().size()];
            for (int j = 0; j < outSlots[i].length; j++) {
                int s = slotOf.get(n.outputs().get(j).id());
                outSlots[i][j] = s;
                def[s] = i;
                bytes[s] = n.outputs().get(j).type().byteSize();
            }
        }
        outputSlots = new int[graph.outputs().size()];
        boundOutput = new int[slots];
        Arrays.fill(boundOutput, -1);
        for (int j = 0; j < outputSlots.length; j++) {
            Value v = graph.outputs().get(j);
            Integer s = slotOf.get(v.id());
            if (s == null) throw new IllegalArgumentException("graph output " + v + " is never defined");
            outputSlots[j] = s;
            if (def[s] >= 0 && boundOutput[s] < 0) boundOutput[s] = j;
            else if (def[s] < 0) lastRead[s] = Integer.MAX_VALUE; // copied out after the last step
        }
        view = new boolean[nodes.size()];
        source = new int[slots];
        Arrays.setAll(source, s -> s);
        for (int i = 0; i < nodes.size(); i++) {
            if (!viewable[i] || inSlots[i].length != 1 || outSlots[i].length != 1) continue;
            int in = inSlots[i][0], out = outSlots[i][0];
            if (!isIntermediate(out) || bytes[out] != bytes[in]) continue;
            view[i] = true;
            source[out] = source[in];
        }
        // Reads through a view are reads of the memory it shows, which must stay live (and, for a
        // donated input, unwritten) until then.
        for (int s = 0; s < slots; s++) if (source[s] != s) lastRead[source[s]] = Math.max(lastRead[source[s]], lastRead[s]);
        offset = new long[slots];
        Arrays.fill(offset, -1);
        arenaBytes = assignOffsets(nodes.size());
    }

    /** Whether {@code slot} is a view's output, using its input's memory. */
    boolean isView(int slot) { return source[slot] != slot; }

    /** The slot whose memory {@code slot} uses. */
    int source(int slot) { return source[slot]; }

    boolean isInput(int slot) {
        for (int s : inputSlots) if (s == slot) return true;
        return false;
    }

    boolean isIntermediate(int slot) { return def[slot] >= 0 && boundOutput[slot] < 0; }

    /** Whether {@code slot} has memory of its own in the arena: an intermediate that is not a view. */
    boolean inArena(int slot) { return isIntermediate(slot) && !isView(slot); }

    /** Greedy first-fit over free ranges of the arena, in step order; returns the arena size. */
    private long assignOffsets(int steps) {
        List<long[]> free = new ArrayList<>(); // {start, end}, sorted, coalesced
        long top = 0;
        List<List<Integer>> dies = new ArrayList<>();
        for (int i = 0; i < steps; i++) dies.add(new ArrayList<>());
        for (int s = 0; s < slots; s++) if (inArena(s)) dies.get(Math.max(def[s], lastRead[s])).add(s);
        for (int i = 0; i < steps; i++) {
            for (int s : outSlots[i]) {
                if (!inArena(s) || offset[s] >= 0) continue;
                long size = Math.max(ALIGN, (bytes[s] + ALIGN - 1) & -ALIGN);
                long at = -1;
                for (int k = 0; k < free.size() && at < 0; k++) {
                    long[] r = free.get(k);
                    if (r[1] - r[0] >= size) {
                        at = r[0];
                        r[0] += size;
                        if (r[0] == r[1]) free.remove(k);
                    }
                }
                if (at < 0) {
                    at = top;
                    top += size;
                }
                offset[s] = at;
            }
            for (int s : dies.get(i)) release(free, offset[s], Math.max(ALIGN, (bytes[s] + ALIGN - 1) & -ALIGN));
        }
        return top;
    }

    private static void release(List<long[]> free, long start, long size) {
        long end = start + size;
        int k = 0;
        while (k < free.size() && free.get(k)[0] < start) k++;
        free.add(k, new long[] {start, end});
        if (k + 1 < free.size() && free.get(k + 1)[0] == end) {
            free.get(k)[1] = free.get(k + 1)[1];
            free.remove(k + 1);
        }
        if (k > 0 && free.get(k - 1)[1] == start) {
            free.get(k - 1)[1] = free.get(k)[1];
            free.remove(k);
        }
    }
}
