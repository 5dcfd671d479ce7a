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
 * other). Graph inputs and outputs live in the caller's buffers, bound per run.
 *
 * <p>Two kinds of step get no memory of their own. A view step (a reshape or a contiguous slice
 * whose kernel {@link Kernel#isView is a view}, into an intermediate) shows a window of its
 * input's memory, which then lives until the view's last reader. A placing step (a concat whose
 * kernel {@link Kernel#inputOffsets lays its inputs end to end}) is not run at all when each of
 * its inputs is an intermediate written by a step of its own: those steps write straight into
 * their windows of the concat's output, which then lives from the first of them. Data-parallel
 * gradient buckets are such concats, and the copy they save is a full pass over the gradients.
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
    /** Per step: whether it runs as a view (binds its output to a window of its input's memory). */
    final boolean[] view;
    /** Per view step: where its output starts in its input, in bytes. */
    final long[] viewOffset;
    /** Per step: whether it is a concat whose inputs were written in place, so it does not run. */
    final boolean[] placed;
    /** Per slot: the slot whose memory it uses (itself unless it is a view's output or placed), and where in it. */
    private final int[] source;
    private final long[] at;
    /** Per slot: the first step that writes its memory (its own def, or an earlier placed part's). */
    final int[] firstWrite;
    final long arenaBytes;

    MemoryPlan(Graph graph, Kernel[] kernels) {
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
        // parent[s] shows s at parentAt[s] of its memory: a view's input (an earlier slot) or a
        // placing concat's output (a later one). Placed slots are never views, so no chain loops.
        int[] parent = new int[slots];
        long[] parentAt = new long[slots];
        Arrays.setAll(parent, s -> s);
        view = new boolean[nodes.size()];
        viewOffset = new long[nodes.size()];
        for (int i = 0; i < nodes.size(); i++) {
            if (!kernels[i].isView() || inSlots[i].length != 1 || outSlots[i].length != 1) continue;
            int in = inSlots[i][0], out = outSlots[i][0];
            long off = kernels[i].viewOffset();
            if (!isIntermediate(out) || off < 0 || off > bytes[in] - bytes[out]) continue;
            view[i] = true;
            viewOffset[i] = off;
            parent[out] = in;
            parentAt[out] = off;
        }
        placed = new boolean[nodes.size()];
        // Latest concat first, so that a concat placed into a later one passes that placement on.
        for (int i = nodes.size() - 1; i >= 0; i--) {
            long[] offsets = kernels[i].inputOffsets();
            if (offsets == null || outSlots[i].length != 1 || offsets.length != inSlots[i].length) continue;
            int[] roots = placeable(i, offsets, parent, parentAt);
            if (roots == null) continue;
            placed[i] = true;
            for (int k = 0; k < roots.length; k++) {
                parent[roots[k]] = outSlots[i][0];
                parentAt[roots[k]] = offsets[k];
            }
        }
        source = new int[slots];
        at = new long[slots];
        for (int s = 0; s < slots; s++) {
            int r = s;
            long a = 0;
            while (parent[r] != r) {
                a += parentAt[r];
                r = parent[r];
            }
            source[s] = r;
            at[s] = a;
        }
        // Reads through a view are reads of the memory it shows, which must stay live (and, for a
        // donated input, unwritten) until then; a placed part's writes are writes of that memory.
        firstWrite = def.clone();
        for (int s = 0; s < slots; s++) {
            int r = source[s];
            if (r == s) continue;
            lastRead[r] = Math.max(lastRead[r], Math.max(lastRead[s], def[s]));
            if (def[s] >= 0 && !isViewOutput(s, parent)) firstWrite[r] = firstWrite[r] < 0 ? def[s] : Math.min(firstWrite[r], def[s]);
        }
        offset = new long[slots];
        Arrays.fill(offset, -1);
        arenaBytes = assignOffsets(nodes.size());
    }

    private boolean isViewOutput(int slot, int[] parent) { return parent[slot] != slot && def[slot] >= 0 && view[def[slot]]; }

    /**
     * The slots concat step {@code i}'s inputs are whole views of, when each is an intermediate
     * that a step of its own writes, none repeats and each fits its window; else null.
     */
    private int[] placeable(int i, long[] offsets, int[] parent, long[] parentAt) {
        int out = outSlots[i][0];
        int[] roots = new int[offsets.length];
        for (int k = 0; k < roots.length; k++) {
            int r = inSlots[i][k];
            while (parent[r] != r && parentAt[r] == 0 && bytes[parent[r]] == bytes[r] && isViewOutput(r, parent)) r = parent[r];
            boolean whole = parent[r] == r;
            if (!whole || !isIntermediate(r) || def[r] < 0 || view[def[r]]) return null;
            if (offsets[k] < 0 || offsets[k] > bytes[out] - bytes[r]) return null;
            for (int j = 0; j < k; j++) if (roots[j] == r) return null;
            roots[k] = r;
        }
        return roots;
    }

    /** Whether {@code slot} uses another slot's memory (a view's output, or a placed concat input). */
    boolean isView(int slot) { return source[slot] != slot; }

    /** The slot whose memory {@code slot} uses. */
    int source(int slot) { return source[slot]; }

    /** Where {@code slot}'s bytes start in its {@link #source}'s memory. */
    long at(int slot) { return at[slot]; }

    /** Whether {@code slot} is a concat input written in place, whose memory must be bound before its producer runs. */
    boolean isPlacedPart(int slot) { return source[slot] != slot && def[slot] >= 0 && !view[def[slot]]; }

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
        List<List<Integer>> born = new ArrayList<>();
        for (int i = 0; i < steps; i++) born.add(new ArrayList<>());
        for (int s = 0; s < slots; s++) {
            if (!inArena(s)) continue;
            dies.get(Math.max(def[s], lastRead[s])).add(s);
            born.get(firstWrite[s]).add(s);
        }
        for (int i = 0; i < steps; i++) {
            for (int s : born.get(i)) {
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
