package dev.kiln.accel.cuda;

import dev.kiln.accel.cuda.FlashAttentionKernels.Pass;
import dev.kiln.accel.cuda.FlashAttentionKernels.Tiles;
import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Value;
import java.util.List;
import java.util.Locale;
import org.bytedeco.cuda.global.cublas;

/**
 * How the planner runs {@code Attention} and {@code AttentionGrad}, chosen per node and recorded
 * in the executable's routes ({@link CudaKernels#route}):
 * <ul>
 * <li><b>flash</b> (the default): {@link FlashAttentionKernels}, tensor cores for bf16/f16 on
 * Ampere and newer, SIMT otherwise; head dims up to 128, any sequence length; nothing of
 * [b, t, s] in memory. A backward paired with its forward ({@link CudaAttentionPairing}) reads
 * the forward's output and row log-sum-exp; alone it reruns the forward kernel first.</li>
 * <li><b>products</b>: four cuBLASLt batched products around two warp row kernels (scores kept
 * wide, a masked softmax writing the probabilities in the operand type, the softmax backward in
 * place); keys up to 1,024. The fallback where flash does not apply (head dims past 128).</li>
 * <li><b>decompose</b>: the composite's decomposition, where neither applies.</li>
 * </ul>
 * {@code -Dkiln.cuda.attention=flash|simt|products|decompose} forces one (simt is flash without
 * tensor cores; false means decompose); a node the forced path cannot run falls back down the list.
 */
final class CudaAttention {
    enum Mode {
        FLASH, SIMT, PRODUCTS, DECOMPOSE;

        static Mode fromProperty() {
            // products by default: the flash kernels compile and their algorithm is proven in float64,
            // but they have not yet run on a GPU, and the products path has.
            String s = System.getProperty("kiln.cuda.attention", "products").strip().toLowerCase(Locale.ROOT);
            return switch (s) {
                case "flash", "true" -> FLASH;
                case "simt" -> SIMT;
                case "products", "auto", "" -> PRODUCTS;
                case "decompose", "false" -> DECOMPOSE;
                default -> throw new IllegalArgumentException("-Dkiln.cuda.attention must be flash, simt, products or decompose, not " + s);
            };
        }

        boolean flash() { return this == FLASH || this == SIMT; }
    }

    /** Attention's geometry: q[b, t, d], k[b, s, d], v[b, s, e]. */
    record AttnShape(int b, int t, int s, int d, int e, DType type) {
        static AttnShape of(Node n) {
            int[] q = n.inputs().get(0).type().shape().dims(), v = n.inputs().get(2).type().shape().dims();
            return new AttnShape(q[0], q[1], v[1], q[2], v[2], n.inputs().get(0).type().dtype());
        }

        /** Scores, their gradient and the row statistics are kept in the compute type: f32, or f64 for f64. */
        DType wide() { return type == DType.F64 ? DType.F64 : DType.F32; }

        long scores() { return (long) b * t * s; }

        long rows() { return (long) b * t; }
    }

    /** Whether the flash kernels run this geometry in {@code mode}: head dims up to 128, and a grid that fits. */
    static boolean flashApplies(Mode mode, AttnShape a) {
        if (!mode.flash() || a.scores() == 0 || a.d() == 0 || a.e() == 0 || !FlashAttentionKernels.applies(a.type(), a.d(), a.e())) return false;
        return (long) a.b() * ((Math.max(a.t(), a.s()) + 7) / 8) <= Integer.MAX_VALUE;
    }

    private final CudaPlanner p;
    private final CudaKernels k;
    private final CublasLtMatmul.Context lt;
    private final PrecisionPolicy precision;
    private final List<AutoCloseable> resources;
    private final Mode mode;
    private final int major;

    CudaAttention(CudaPlanner p, CudaKernels k, CublasLtMatmul.Context lt, PrecisionPolicy precision, List<AutoCloseable> resources, Mode mode, int major) {
        this.p = p;
        this.k = k;
        this.lt = lt;
        this.precision = precision;
        this.resources = resources;
        this.mode = mode;
        this.major = major;
    }

    /** The forward; false (nothing planned) when it must decompose. */
    boolean forward(Composite.Attention op, Node n) {
        AttnShape a = AttnShape.of(n);
        if (flashApplies(mode, a)) {
            long lse = k.allocate(a.rows() * CudaTypes.computeBytes(a.type()));
            flashForward(a, op.causal(), op.scale(), addr(n, 0), addr(n, 1), addr(n, 2), p.output(n), lse);
            return true;
        }
        if (mode != Mode.DECOMPOSE && products(op, n)) {
            route(a, "products");
            return true;
        }
        route(a, "decomposition");
        return false;
    }

    /** The backward; false (nothing planned) when it must decompose. */
    boolean backward(Composite.AttentionGrad op, Node n) {
        AttnShape a = AttnShape.of(n);
        if (flashApplies(mode, a)) {
            long o = k.allocate(a.rows() * a.e() * a.type().byteSize()), lse = k.allocate(a.rows() * CudaTypes.computeBytes(a.type()));
            flashForward(a, op.causal(), op.scale(), addr(n, 0), addr(n, 1), addr(n, 2), o, lse);
            flashBackward(a, op.causal(), op.scale(), n, addr(n, 3), o, lse);
            return true;
        }
        if (mode != Mode.DECOMPOSE && productsGrad(op, n)) {
            route(a, "products backward");
            return true;
        }
        route(a, "decomposition backward");
        return false;
    }

    /** A forward the pairing pass gave a second output, the row log-sum-exp its backward reads. */
    void forwardWithLse(CudaAttentionLse op, Node n) {
        AttnShape a = AttnShape.of(n);
        if (!flashApplies(mode, a)) throw new IllegalStateException("cuda paired an attention the flash kernels cannot run: " + n);
        flashForward(a, op.attention().causal(), op.attention().scale(), addr(n, 0), addr(n, 1), addr(n, 2),
                p.define(n.outputs().get(0)), p.define(n.outputs().get(1)));
    }

    /** A backward reading q, k, v, the forward's o and lse, and dO. */
    void backwardFromLse(CudaAttentionGradLse op, Node n) {
        AttnShape a = AttnShape.of(n);
        if (!flashApplies(mode, a)) throw new IllegalStateException("cuda paired an attention the flash kernels cannot run: " + n);
        flashBackward(a, op.grad().causal(), op.grad().scale(), n, addr(n, 5), addr(n, 3), addr(n, 4));
    }

    // ---- flash --------------------------------------------------------------------------------

    private boolean tensorCores(AttnShape a) { return mode == Mode.FLASH && FlashAttentionKernels.tensorCores(a.type(), major); }

    private static boolean aligned(long... addresses) {
        for (long x : addresses) if ((x & 15) != 0) return false;
        return true;
    }

    private static int blocks(int b, int len, int tile) { return Math.toIntExact((long) b * ((len + tile - 1) / tile)); }

    private void flashForward(AttnShape a, boolean causal, double scale, long q, long kk, long v, long o, long lse) {
        DType t = a.type();
        String name = "flash_fwd_" + t.label() + "_" + a.d() + "_" + a.e();
        KernelLaunch l;
        Tiles tiles;
        if (tensorCores(a)) {
            boolean vd = a.d() % 8 == 0 && aligned(q, kk), ve = a.e() % 8 == 0 && aligned(v);
            tiles = FlashAttentionKernels.mmaTiles(Pass.FORWARD, a.d(), a.e());
            l = k.launch(name + "_mma", FlashAttentionKernels.mmaForward(t, a.d(), a.e(), vd, ve));
            route(a, "flash tensor cores");
        } else {
            tiles = FlashAttentionKernels.simtTiles(Pass.FORWARD, t, a.d(), a.e());
            l = k.launch(name, FlashAttentionKernels.simtForward(t, a.d(), a.e()));
            route(a, "flash simt");
        }
        k.add(l.i32(a.b()).i32(a.t()).i32(a.s()).f64(scale * FlashAttentionKernels.LOG2E).i32(causal ? 1 : 0)
                .ptr(q).ptr(kk).ptr(v).ptr(o).ptr(lse).grid(blocks(a.b(), a.t(), tiles.br()), tiles.threads(), 0));
    }

    /** delta = rowsum(dO * o), then dK and dV per key block, then dQ per query block. */
    private void flashBackward(AttnShape a, boolean causal, double scale, Node n, long dO, long o, long lse) {
        DType t = a.type();
        long q = addr(n, 0), kk = addr(n, 1), v = addr(n, 2);
        long delta = k.allocate(a.rows() * CudaTypes.computeBytes(t));
        k.add(k.launch("flash_delta_" + t.label(), FlashAttentionKernels.delta(t)).i64(a.rows()).i32(a.e()).ptr(o).ptr(dO).ptr(delta)
                .grid(BlockReduce.warpGrid(a.rows(), k.multiprocessors()), 256, 0));
        long dq = p.define(n.outputs().get(0)), dk = p.define(n.outputs().get(1)), dv = p.define(n.outputs().get(2));
        String name = "_" + t.label() + "_" + a.d() + "_" + a.e();
        boolean mma = tensorCores(a);
        boolean vd = mma && a.d() % 8 == 0 && aligned(q, kk), ve = mma && a.e() % 8 == 0 && aligned(v, dO);
        Tiles kv = mma ? FlashAttentionKernels.mmaTiles(Pass.DKDV, a.d(), a.e()) : FlashAttentionKernels.simtTiles(Pass.DKDV, t, a.d(), a.e());
        Tiles qt = mma ? FlashAttentionKernels.mmaTiles(Pass.DQ, a.d(), a.e()) : FlashAttentionKernels.simtTiles(Pass.DQ, t, a.d(), a.e());
        KernelLaunch dkdv = mma ? k.launch("flash_dkdv" + name + "_mma", FlashAttentionKernels.mmaDkdv(t, a.d(), a.e(), vd, ve))
                : k.launch("flash_dkdv" + name, FlashAttentionKernels.simtDkdv(t, a.d(), a.e()));
        KernelLaunch dql = mma ? k.launch("flash_dq" + name + "_mma", FlashAttentionKernels.mmaDq(t, a.d(), a.e(), vd, ve))
                : k.launch("flash_dq" + name, FlashAttentionKernels.simtDq(t, a.d(), a.e()));
        double scale2 = scale * FlashAttentionKernels.LOG2E;
        k.add(dkdv.i32(a.b()).i32(a.t()).i32(a.s()).f64(scale2).f64(scale).i32(causal ? 1 : 0).ptr(q).ptr(kk).ptr(v).ptr(dO).ptr(lse).ptr(delta)
                .ptr(dk).ptr(dv).grid(blocks(a.b(), a.s(), kv.bc()), kv.threads(), 0));
        k.add(dql.i32(a.b()).i32(a.t()).i32(a.s()).f64(scale2).f64(scale).i32(causal ? 1 : 0).ptr(q).ptr(kk).ptr(v).ptr(dO).ptr(lse).ptr(delta)
                .ptr(dq).grid(blocks(a.b(), a.t(), qt.br()), qt.threads(), 0));
        route(a, mma ? "flash tensor cores backward" : "flash simt backward");
    }

    private void route(AttnShape a, String how) { k.route("attention " + a.type().label() + ": " + how); }

    private long addr(Node n, int i) { return p.address(n.inputs().get(i)); }

    // ---- products: cuBLASLt for the four products, warp row kernels between them --------------

    private CublasLtMatmul product(AttnShape a, int m, int n, int inner, boolean ta, boolean tb, DType out, long x, long y, long d) {
        CublasLtMatmul pl = CublasLtMatmul.plan(lt, new CublasLtMatmul.Shape(a.type(), a.b(), m, n, inner, ta, tb, out), precision, x, y, d, 0,
                cublas.CUBLASLT_EPILOGUE_DEFAULT);
        if (pl != null) resources.add(pl);
        return pl;
    }

    private KernelLaunch softmax(boolean causal, double scale, AttnShape a, long scores, long probs) {
        int perLane = BlockReduce.perLane(a.s());
        return k.launch("attention_softmax" + perLane + "_" + a.type().label(), AttentionKernels.softmax(a.type(), perLane))
                .i64(a.scores() / a.s()).i32(a.t()).i32(a.s()).f64(scale).i32(causal ? 1 : 0).ptr(scores).ptr(probs)
                .grid(BlockReduce.warpGrid(a.scores() / a.s(), k.multiprocessors()), 256, 0);
    }

    private static boolean productsApply(AttnShape a) {
        return a.scores() > 0 && a.d() > 0 && a.e() > 0 && BlockReduce.perLane(a.s()) > 0 && CublasLtMatmul.dataType(a.type()) >= 0;
    }

    /** S = q k^T (wide), P = masked softmax(S * scale), o = P v; false (nothing planned) where cuBLASLt or the row kernel cannot. */
    private boolean products(Composite.Attention op, Node n) {
        AttnShape a = AttnShape.of(n);
        if (!productsApply(a)) return false;
        long scores = k.allocate(a.scores() * a.wide().byteSize()), probs = k.allocate(a.scores() * a.type().byteSize());
        CublasLtMatmul qk = product(a, a.t(), a.s(), a.d(), false, true, a.wide(), addr(n, 0), addr(n, 1), scores);
        if (qk == null) return false;
        CublasLtMatmul pv = product(a, a.t(), a.e(), a.s(), false, false, a.type(), probs, addr(n, 2), p.output(n));
        if (pv == null) return false;
        k.add(qk);
        k.add(softmax(op.causal(), op.scale(), a, scores, probs));
        k.add(pv);
        return true;
    }

    /**
     * Recomputes P, then dv = P^T dO, dP = dO v^T (wide, over the scores' memory), dS over P in
     * place, dq = dS k, dk = dS^T q.
     */
    private boolean productsGrad(Composite.AttentionGrad op, Node n) {
        AttnShape a = AttnShape.of(n);
        if (!productsApply(a)) return false;
        long q = addr(n, 0), kk = addr(n, 1), v = addr(n, 2), dO = addr(n, 3);
        long scores = k.allocate(a.scores() * a.wide().byteSize()), probs = k.allocate(a.scores() * a.type().byteSize());
        CublasLtMatmul qk = product(a, a.t(), a.s(), a.d(), false, true, a.wide(), q, kk, scores);
        CublasLtMatmul dp = qk == null ? null : product(a, a.t(), a.s(), a.e(), false, true, a.wide(), dO, v, scores);
        if (dp == null) return false;
        long dq = p.define(n.outputs().get(0)), dk = p.define(n.outputs().get(1)), dv = p.define(n.outputs().get(2));
        CublasLtMatmul pdo = product(a, a.s(), a.e(), a.t(), true, false, a.type(), probs, dO, dv);
        CublasLtMatmul dsk = product(a, a.t(), a.d(), a.s(), false, false, a.type(), probs, kk, dq);
        CublasLtMatmul dsq = product(a, a.s(), a.d(), a.t(), true, false, a.type(), probs, q, dk);
        if (pdo == null || dsk == null || dsq == null) return false;
        int perLane = BlockReduce.perLane(a.s());
        k.add(qk);
        k.add(softmax(op.causal(), op.scale(), a, scores, probs));
        k.add(pdo);
        k.add(dp);
        k.add(k.launch("attention_softmax_grad" + perLane + "_" + a.type().label(), AttentionKernels.softmaxBackward(a.type(), perLane))
                .i64(a.scores() / a.s()).i32(a.s()).f64(op.scale()).ptr(scores).ptr(probs)
                .grid(BlockReduce.warpGrid(a.scores() / a.s(), k.multiprocessors()), 256, 0));
        k.add(dsk);
        k.add(dsq);
        return true;
    }
}
