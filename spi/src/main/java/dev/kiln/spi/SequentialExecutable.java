package dev.kiln.spi;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@link KernelAccelerator}'s kernels in graph order over a {@link MemoryPlan}: the arena
 * is allocated once, kernel argument arrays are built once, and a run only binds the caller's
 * buffers, so {@link #run(List, List)} allocates nothing.
 *
 * <p>A donated output (an output buffer that is also an input buffer) is written directly when
 * its producer runs after every read of that input, or is that input's last reader and updates
 * in place ({@link Kernel#inPlace}); otherwise it is staged in scratch memory (allocated once) and
 * copied into the caller's buffer after the last step.
 */
final class SequentialExecutable implements Executable {
    private final Graph graph;
    private final Kernel[] kernels;
    private final MemoryPlan plan;
    private final HostBuffer arena;
    private final MemorySegment[] seg;
    /** Per slot that shows a window of other memory: the last memory it was cut from, and the cut (a run then allocates nothing). */
    private final MemorySegment[] windowOf, window;
    /** The slots written in place into a concat's output, whose windows are bound at the start of each run. */
    private final int[] placedParts;
    private final MemorySegment[][] ins, outs;
    private final HostBuffer[] staging;
    private final boolean[] staged;
    private boolean closed;
    private final long[] nanos;

    /**
     * {@code -Dkiln.profile=true} times every kernel and prints a table per executable at exit:
     * the plugin-independent counterpart of ONEDNN_VERBOSE, for finding where a step's time goes.
     */
    private static final boolean PROFILE = Boolean.getBoolean("kiln.profile");
    /** {@code -Dkiln.profile.skip=N}: leave the first N runs (JIT warm-up) out of the profile. */
    private static final long PROFILE_SKIP = Long.getLong("kiln.profile.skip", 0);
    /** {@code -Dkiln.profile.top=N}: how many of the slowest kernels the table lists. */
    private static final int PROFILE_TOP = Integer.getInteger("kiln.profile.top", 12);
    private long runs;

    private final Arena scope;

    SequentialExecutable(Graph graph, List<Kernel> kernels, Arena scope) {
        this.scope = scope;
        this.graph = graph;
        this.kernels = kernels.toArray(Kernel[]::new);
        this.plan = new MemoryPlan(graph, this.kernels);
        this.arena = plan.arenaBytes > 0 ? HostBuffer.allocate(bytes(plan.arenaBytes), scope) : null;
        this.seg = new MemorySegment[plan.slots];
        this.windowOf = new MemorySegment[plan.slots];
        this.window = new MemorySegment[plan.slots];
        this.placedParts = java.util.stream.IntStream.range(0, plan.slots).filter(plan::isPlacedPart).toArray();
        for (int s = 0; s < plan.slots; s++) if (plan.inArena(s)) seg[s] = arena.segment().asSlice(plan.offset[s], plan.bytes[s]);
        ins = new MemorySegment[this.kernels.length][];
        outs = new MemorySegment[this.kernels.length][];
        for (int i = 0; i < this.kernels.length; i++) {
            ins[i] = new MemorySegment[plan.inSlots[i].length];
            outs[i] = new MemorySegment[plan.outSlots[i].length];
        }
        staging = new HostBuffer[graph.outputs().size()];
        staged = new boolean[graph.outputs().size()];
        nanos = PROFILE ? new long[this.kernels.length + 1] : null;
        if (PROFILE) Runtime.getRuntime().addShutdownHook(new Thread(this::printProfile));
    }

    private void printProfile() {
        long runs = nanos[kernels.length];
        if (runs < 100) return;
        long total = 0;
        for (int i = 0; i < kernels.length; i++) total += nanos[i];
        StringBuilder sb = new StringBuilder(String.format("kiln.profile: %d nodes, %d runs, %.1f us per run%n", kernels.length, runs, total / 1e3 / runs));
        Integer[] order = new Integer[kernels.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Long.compare(nanos[b], nanos[a]));
        for (int k = 0; k < Math.min(PROFILE_TOP, order.length); k++) {
            int i = order[k];
            sb.append(String.format("  %8.1f us  %s%n", nanos[i] / 1e3 / runs, graph.nodes().get(i)));
        }
        System.err.print(sb);
    }

    @Override public List<Buffer> run(List<Buffer> inputs) {
        List<Buffer> out = new ArrayList<>(graph.outputs().size());
        try {
            for (var v : graph.outputs()) out.add(HostBuffer.allocate(v.type(), scope));
            run(inputs, out);
            return out;
        } catch (RuntimeException e) {
            out.forEach(Buffer::close);
            throw e;
        }
    }

    /*
     * A run is split into small methods on purpose: as one method with a loop per phase, the JIT
     * compiled it nine times in the seed MLP's first epochs (on-stack replacement at each loop,
     * then recompilation after traps), ~1 s of compiler time on a 2-core machine, during which
     * the steps ran interpreted. Small methods compile once each, early.
     */
    @Override public void run(List<Buffer> inputs, List<Buffer> outputs) {
        if (closed) throw new IllegalStateException("executable is closed");
        check(inputs, graph.inputs(), "input");
        check(outputs, graph.outputs(), "output");
        bindInputs(inputs);
        bindOutputs(inputs, outputs);
        for (int s : placedParts) seg[s] = window(s, seg[plan.source(s)], plan.at(s));
        if (PROFILE && runs++ >= PROFILE_SKIP) {
            for (int i = 0; i < kernels.length; i++) {
                long t0 = System.nanoTime();
                step(i);
                nanos[i] += System.nanoTime() - t0;
            }
            nanos[kernels.length]++;
        } else {
            for (int i = 0; i < kernels.length; i++) step(i);
        }
        copyOutputs(outputs);
    }

    private void bindInputs(List<Buffer> inputs) {
        for (int i = 0; i < inputs.size(); i++) seg[plan.inputSlots[i]] = KernelAccelerator.host(inputs.get(i)).segment();
    }

    private void bindOutputs(List<Buffer> inputs, List<Buffer> outputs) {
        for (int j = 0; j < outputs.size(); j++) {
            for (int k = 0; k < j; k++) if (outputs.get(k) == outputs.get(j)) throw new IllegalArgumentException("outputs " + k + " and " + j + " share one buffer");
            KernelAccelerator.writable(outputs.get(j), "output " + j);
            int s = plan.outputSlots[j];
            if (plan.boundOutput[s] != j) continue;
            staged[j] = !writableEarly(s, outputs.get(j), inputs);
            seg[s] = staged[j] ? staging(j) : KernelAccelerator.host(outputs.get(j)).segment();
        }
    }

    /** Node {@code i}: a view is cut, a part placed in its concat's output has nothing to do, a kernel runs. */
    private void step(int i) {
        int[] is = plan.inSlots[i], os = plan.outSlots[i];
        if (plan.view[i]) {
            seg[os[0]] = window(os[0], seg[is[0]], plan.viewOffset[i]);
        } else if (!plan.placed[i]) {
            MemorySegment[] in = ins[i], out = outs[i];
            for (int j = 0; j < is.length; j++) in[j] = seg[is[j]];
            for (int j = 0; j < os.length; j++) out[j] = seg[os[j]];
            kernels[i].run(in, out);
        }
    }

    /** Outputs that are graph inputs first (they read inputs a staged output may overwrite), then staged ones, then repeats. */
    private void copyOutputs(List<Buffer> outputs) {
        for (int j = 0; j < outputs.size(); j++) {
            int s = plan.outputSlots[j];
            if (plan.def[s] < 0) copy(seg[s], outputs.get(j));
        }
        for (int j = 0; j < outputs.size(); j++) if (plan.boundOutput[plan.outputSlots[j]] == j && staged[j]) copy(seg[plan.outputSlots[j]], outputs.get(j));
        for (int j = 0; j < outputs.size(); j++) {
            int s = plan.outputSlots[j];
            if (plan.def[s] >= 0 && plan.boundOutput[s] != j) copy(KernelAccelerator.host(outputs.get(plan.boundOutput[s])).segment(), outputs.get(j));
        }
    }

    /** {@code slot}'s bytes: {@code from} cut at {@code offset}, the same cut as last run when {@code from} is. */
    private MemorySegment window(int slot, MemorySegment from, long offset) {
        long bytes = plan.bytes[slot];
        if (offset == 0 && from.byteSize() == bytes) return from;
        if (windowOf[slot] != from) {
            windowOf[slot] = from;
            window[slot] = from.asSlice(offset, bytes);
        }
        return window[slot];
    }

    /** Whether the producer of {@code slot} may write straight into {@code out}, given which inputs {@code out} also is. */
    private boolean writableEarly(int slot, Buffer out, List<Buffer> inputs) {
        int p = plan.firstWrite[slot];
        for (int i = 0; i < inputs.size(); i++) {
            if (inputs.get(i) != out) continue;
            int in = plan.inputSlots[i];
            int last = plan.lastRead[in];
            if (last < p) continue;
            // Written by placed parts before its own step: no single producer can update it in place.
            if (last > p || p != plan.def[slot]) return false;
            int[] is = plan.inSlots[p], os = plan.outSlots[p];
            int o = 0;
            while (os[o] != slot) o++;
            // An input read through a view is that input too.
            for (int k = 0; k < is.length; k++) if (plan.source(is[k]) == in && !kernels[p].inPlace(k, o)) return false;
        }
        return true;
    }

    /** An i8 tensor of at least {@code n} bytes; rows of 4 KiB past what one int dimension can count. */
    private static TensorType bytes(long n) {
        Shape s = n <= Integer.MAX_VALUE ? Shape.of((int) n) : Shape.of(Math.toIntExact((n + 4095) / 4096), 4096);
        return new TensorType(DType.I8, s);
    }

    private MemorySegment staging(int j) {
        if (staging[j] == null) staging[j] = HostBuffer.allocate(graph.outputs().get(j).type(), scope);
        return staging[j].segment();
    }

    private static void copy(MemorySegment from, Buffer to) {
        MemorySegment dst = KernelAccelerator.host(to).segment();
        if (dst.address() != from.address()) dst.copyFrom(from.asSlice(0, dst.byteSize()));
    }

    private static void check(List<Buffer> given, List<dev.kiln.spi.ir.Value> want, String what) {
        if (given.size() != want.size()) throw new IllegalArgumentException("executable expects " + want.size() + " " + what + "s, got " + given.size());
        for (int i = 0; i < given.size(); i++) {
            TensorType t = given.get(i).type();
            if (!t.equals(want.get(i).type())) throw new IllegalArgumentException(what + " " + i + " is " + t + ", expected " + want.get(i).type());
        }
    }

    @Override public long memoryBytes() {
        long bytes = plan.arenaBytes;
        for (var v : graph.outputs()) bytes += v.type().byteSize(); // the most staging can take
        return bytes;
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        RuntimeException first = null;
        for (Kernel k : kernels) {
            try {
                k.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        if (arena != null) arena.close();
        for (HostBuffer b : staging) if (b != null) b.close();
        if (first != null) throw first;
    }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder("SequentialExecutable(").append(kernels.length).append(" kernels, arena ").append(plan.arenaBytes).append(" bytes)");
        for (Node n : graph.nodes()) sb.append("\n  ").append(n);
        return sb.toString();
    }
}
