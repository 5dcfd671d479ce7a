package dev.kiln.accel.xla.hlo;

import dev.kiln.core.Shape;
import dev.kiln.spi.ir.TensorType;
import java.util.StringJoiner;

/**
 * The collectives of Kiln's SPI as StableHLO modules over the replicas of one PJRT client: each
 * module is compiled once with {@code num_replicas = N} and launched by every rank on its own
 * device, and XLA's runtime meets the N launches (through NCCL on GPUs, the ICI on TPUs). One
 * replica group holds every replica, so replica i is rank i.
 *
 * <ul>
 *   <li>all-reduce: {@code stablehlo.all_reduce} with {@code add} ({@code or} on bool); the average
 *       multiplies by {@code 1/N} afterwards (floats) or divides (integers).
 *   <li>broadcast: every replica but the root contributes zeros to an all-reduce: exact, except
 *       that a root value of {@code -0.0} arrives as {@code +0.0}.
 *   <li>all-gather and reduce-scatter: {@code stablehlo.all_gather} and
 *       {@code stablehlo.reduce_scatter} on dimension 0 of the tensor flattened to {@code [N, n]}
 *       and {@code [N * n]}, so blocks are in rank order as the SPI says.
 *   <li>barrier: an all-reduce of one {@code i32}.
 * </ul>
 */
public final class StableHloCollectives {
    private StableHloCollectives() {}

    /** {@code sum over replicas of x}, or the mean when {@code average}. */
    public static String allReduce(TensorType t, int replicas, boolean average) {
        StableHloWriter w = new StableHloWriter();
        Ssa x = arg(t);
        Ssa r = sum(w, x, replicas);
        if (average) {
            HloElement e = r.element();
            if (e.isBool()) throw new IllegalArgumentException("stablehlo: no average of bool");
            r = e.isFloat() ? w.map("multiply", r, w.splatLike(1.0 / replicas, r)) : w.map("divide", r, w.splatLike(replicas, r));
        }
        return module("all_reduce", replicas, x, r, w);
    }

    /** {@code x of replica root} on every replica. */
    public static String broadcast(TensorType t, int replicas, int root) {
        if (root < 0 || root >= replicas) throw new IllegalArgumentException("stablehlo: broadcast root " + root + " is not one of " + replicas + " replicas");
        StableHloWriter w = new StableHloWriter();
        Ssa x = arg(t);
        Ssa isRoot = w.compare("EQ", w.replicaId(), w.integer(root, HloElement.I32));
        Ssa mine = w.select(w.broadcastTo(isRoot, x.shape()), x, w.splatLike(0, x));
        return module("broadcast", replicas, x, sum(w, mine, replicas), w);
    }

    /** Every replica's {@code in} in replica order: {@code out} has {@code replicas} times its elements. */
    public static String allGather(TensorType in, TensorType out, int replicas) {
        checkBlocks("all-gather", in, out, replicas);
        StableHloWriter w = new StableHloWriter();
        Ssa x = arg(in);
        long n = in.shape().size();
        Ssa row = w.reshape(x, Shape.of(1, Math.toIntExact(n)));
        Ssa all = w.op("all_gather", x.element(), Shape.of(replicas, Math.toIntExact(n)),
                "all_gather_dim = 0 : i64, replica_groups = " + groups(replicas), row);
        return module("all_gather", replicas, x, w.reshape(all, out.shape()), w);
    }

    /** This replica's block of the sum over replicas of {@code in}: {@code in} has {@code replicas} times {@code out}'s elements. */
    public static String reduceScatter(TensorType in, TensorType out, int replicas) {
        checkBlocks("reduce-scatter", out, in, replicas);
        StableHloWriter w = new StableHloWriter();
        Ssa x = arg(in);
        HloElement e = x.element();
        Ssa flat = w.reshape(x, Shape.of(Math.toIntExact(in.shape().size())));
        Ssa block = w.withCombiner("reduce_scatter", e, Shape.of(Math.toIntExact(out.shape().size())), e.isBool() ? "or" : "add", e,
                "scatter_dimension = 0 : i64, replica_groups = " + groups(replicas), flat);
        return module("reduce_scatter", replicas, x, w.reshape(block, out.shape()), w);
    }

    /** An all-reduce of one {@code i32} that every replica must reach. */
    public static String barrier(int replicas) {
        return allReduce(TensorType.of(dev.kiln.core.DType.I32), replicas, false);
    }

    private static Ssa sum(StableHloWriter w, Ssa x, int replicas) {
        HloElement e = x.element();
        return w.withCombiner("all_reduce", e, x.shape(), e.isBool() ? "or" : "add", e, "replica_groups = " + groups(replicas), x);
    }

    /** {@code dense<[[0, 1, ..., N-1]]> : tensor<1xNxi64>}: one group of every replica. */
    static String groups(int replicas) {
        if (replicas < 1) throw new IllegalArgumentException("stablehlo: a collective needs at least one replica: " + replicas);
        StringJoiner j = new StringJoiner(", ", "dense<[[", "]]> : tensor<1x" + replicas + "xi64>");
        for (int i = 0; i < replicas; i++) j.add(Integer.toString(i));
        return j.toString();
    }

    private static void checkBlocks(String what, TensorType block, TensorType whole, int replicas) {
        if (block.dtype() != whole.dtype() || whole.shape().size() != block.shape().size() * replicas)
            throw new IllegalArgumentException("stablehlo " + what + ": " + whole + " must hold " + replicas + " blocks of " + block);
    }

    private static Ssa arg(TensorType t) { return new Ssa("%x", HloElement.of(t.dtype()), t.shape()); }

    private static String module(String name, int replicas, Ssa x, Ssa result, StableHloWriter w) {
        return "module @kiln_" + name + " attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = " + replicas + " : i32} {\n"
                + "  func.func public @main(" + x + ") -> (" + result.type() + ") {\n"
                + w.text()
                + "    \"func.return\"(" + result.name() + ") : (" + result.type() + ") -> ()\n"
                + "  }\n}\n";
    }
}
