package dev.kiln.accel.cuda;

import dev.kiln.accel.cuda.MapKernel.View;
import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.global.cublas;

/**
 * Turns the nodes of a graph into device steps over static memory: every value gets a fixed
 * address (reshapes and no-op reductions alias their input, since values are never written
 * twice), so the step list can be captured once as a CUDA graph and replayed.
 */
final class CudaPlanner {
    private static final System.Logger LOG = System.getLogger("dev.kiln.accel.cuda");
    private final CudaKernels k;
    private final CublasLtMatmul.Context lt;
    private final Cudnn cudnn;
    private final PrecisionPolicy precision;
    private final CudaAttention attention;
    private final boolean ltGelu;
    private final Map<Integer, Long> address = new HashMap<>();
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final DeviceSlots slots;
    /** Per top-level value: readers not yet planned (graph outputs never reach zero). */
    private final Map<Integer, Integer> pendingReads = new HashMap<>();
    /** Per address: how many planned values live there (reshapes and aliases share). */
    private final Map<Long, Integer> residents = new HashMap<>();
    private int depth;
    private int nextId;

    CudaPlanner(CudaKernels k, CublasLtMatmul.Context lt, Cudnn cudnn, PrecisionPolicy precision, CudaAttention.Mode attention, int major, Graph g) {
        this.k = k;
        this.lt = lt;
        this.cudnn = cudnn;
        this.precision = precision;
        this.attention = new CudaAttention(this, k, lt, precision, resources, attention, major);
        this.ltGelu = "true".equalsIgnoreCase(System.getProperty("kiln.cuda.ltGelu"));
        this.nextId = Lowering.maxId(g) + 1;
        this.slots = new DeviceSlots(k);
        for (Node n : g.nodes()) for (Value v : n.inputs()) pendingReads.merge(v.id(), 1, Integer::sum);
        for (Value v : g.outputs()) pendingReads.put(v.id(), Integer.MAX_VALUE);
    }

    /**
     * Plans a node of the graph itself, then frees the memory of values it read for the last time
     * (and of outputs nobody reads). Values inside a composite's decomposition keep their memory.
     */
    void planTopLevel(Node n) {
        plan(n);
        for (Value v : new java.util.LinkedHashSet<>(n.inputs())) {
            int left = pendingReads.merge(v.id(), -(int) n.inputs().stream().filter(v::equals).count(), Integer::sum);
            if (left == 0) release(v);
        }
        for (Value v : n.outputs()) if (!pendingReads.containsKey(v.id())) release(v);
    }

    private void release(Value v) {
        Long a = address.get(v.id());
        if (a == null) return;
        if (residents.merge(a, -1, Integer::sum) == 0) slots.give(a);
    }

    long allocatedBytes() { return slots.allocated(); }

    List<AutoCloseable> resources() { return resources; }

    void bind(Value v, long a) { put(v, a); }

    /** Records that {@code v} lives at {@code a}. */
    private void put(Value v, long a) {
        address.put(v.id(), a);
        residents.merge(a, 1, Integer::sum);
    }

    long address(Value v) {
        Long a = address.get(v.id());
        if (a == null) throw new IllegalArgumentException("value " + v + " is used before it is defined");
        return a;
    }

    long define(Value v) {
        long a = depth == 0 ? slots.take(v.type().byteSize()) : k.allocate(v.type().byteSize());
        put(v, a);
        return a;
    }

    void plan(Node n) {
        if (depth == 0 && StepProfiler.ENABLED) k.label(n.op() + " -> " + n.outputs().getFirst().type());
        switch (n.op()) {
            case Primitive p -> primitive(p, n);
            case Composite c -> { if (!composite(c, n)) decompose(c, n); }
            case CudaChain c -> mapAll(c.kernel(), n);
            case CudaWidening w -> widening(w, n);
            case CudaAttentionLse a -> attention.forwardWithLse(a, n);
            case CudaAttentionGradLse a -> attention.backwardFromLse(a, n);
            case dev.kiln.spi.ir.Fused f -> throw new IllegalArgumentException("cuda cannot run another plugin's fused op " + f.opName());
        }
    }

    private void primitive(Primitive p, Node n) {
        TensorType out = n.output().type();
        int[] od = out.shape().dims();
        switch (p) {
            case Primitive.Unary u -> map(ElementwiseOps.unary(u.fn(), out.dtype()), n, List.of(View.contiguous(address(in(n, 0)), od)));
            case Primitive.Binary b -> map(ElementwiseOps.binary(b.fn(), in(n, 0).type().dtype()), n, broadcastInputs(n, od));
            case Primitive.Where w -> map(ElementwiseOps.where(out.dtype()), n, broadcastInputs(n, od));
            case Primitive.Cast c -> {
                if (in(n, 0).type().dtype() == c.to()) alias(n);
                else map(ElementwiseOps.cast(in(n, 0).type().dtype(), c.to()), n, List.of(View.contiguous(address(in(n, 0)), od)));
            }
            case Primitive.Reduce r -> {
                int[] xd = in(n, 0).type().shape().dims();
                if (r.axes().stream().allMatch(a -> xd[a] == 1)) alias(n);
                else ReduceKernel.plan(k, r.fn(), out.dtype(), xd, r.axes(), address(in(n, 0)), define(n.output()));
            }
            case Primitive.MatMul m -> matmul(m, n);
            case Primitive.Reshape r -> alias(n);
            case Primitive.Permute pm -> {
                long[] src = MapKernel.rowMajor(in(n, 0).type().shape().dims()), s = new long[od.length];
                for (int i = 0; i < od.length; i++) s[i] = src[pm.perm().get(i)];
                map(ElementwiseOps.copy(out.dtype()), n, List.of(new View(address(in(n, 0)), 0, s)));
            }
            case Primitive.Broadcast b -> map(ElementwiseOps.copy(out.dtype()), n,
                    List.of(View.broadcast(address(in(n, 0)), in(n, 0).type().shape().dims(), od)));
            case Primitive.Slice s -> {
                long[] src = MapKernel.rowMajor(in(n, 0).type().shape().dims());
                map(ElementwiseOps.copy(out.dtype()), n, List.of(new View(address(in(n, 0)), s.start() * src[s.axis()], src)));
            }
            case Primitive.Concat c -> concat(c, n, od);
            case Primitive.Gather g -> gather(g, n);
            case Primitive.ScatterAdd s -> scatterAdd(s, n);
            case Primitive.Fill f -> map(ElementwiseOps.fill(out.dtype()), n, List.of(), f.value(), 0, 0);
            case Primitive.Iota i -> map(ElementwiseOps.iota(out.dtype()), n, List.of(), 0, MapKernel.rowMajor(od)[i.axis()], od[i.axis()]);
            case Primitive.RandomUniform r -> map(ElementwiseOps.randomUniform(out.dtype()), n,
                    List.of(new View(address(in(n, 0)), 0, new long[od.length])));
            case Primitive.Conv2d c when cudnn(n, CudnnConv.Kind.FORWARD, in(n, 0).type().shape().dims(), in(n, 1).type().shape().dims(), od,
                    c.window(), c.groups()) -> { }
            case Primitive.Conv2dBackwardData c when cudnn(n, CudnnConv.Kind.BACKWARD_DATA, od, in(n, 1).type().shape().dims(),
                    in(n, 0).type().shape().dims(), c.window(), c.groups()) -> { }
            case Primitive.Conv2dBackwardWeights c when cudnn(n, CudnnConv.Kind.BACKWARD_FILTER, in(n, 0).type().shape().dims(), od,
                    in(n, 1).type().shape().dims(), c.window(), c.groups()) -> { }
            case Primitive.Conv2d c -> conv(n, "conv2d", ConvKernels.forward(out.dtype()), in(n, 0).type().shape().dims(),
                    in(n, 1).type().shape().dims(), od, c.window(), c.groups(), od);
            case Primitive.Conv2dBackwardData c -> conv(n, "conv2d_bwd_data", ConvKernels.backwardData(out.dtype()), od,
                    in(n, 1).type().shape().dims(), in(n, 0).type().shape().dims(), c.window(), c.groups(), od);
            case Primitive.Conv2dBackwardWeights c -> conv(n, "conv2d_bwd_weights", ConvKernels.backwardWeights(out.dtype()),
                    in(n, 0).type().shape().dims(), od, in(n, 1).type().shape().dims(), c.window(), c.groups(), od);
            case Primitive.MaxPool2dIndices m -> {
                int[] xd = in(n, 0).type().shape().dims();
                conv(n, "maxpool2d_indices_" + in(n, 0).type().dtype().label(), ConvKernels.maxPoolIndices(in(n, 0).type().dtype()),
                        xd, new int[] {xd[1], 1, m.window().kernelH(), m.window().kernelW()}, od, m.window(), 1, od);
            }
            // Primitives added to the IR after this plugin was written have no kernel here yet.
            default -> throw new UnsupportedOperationException("cuda has no kernel for " + p.opName() + " in node " + n);
        }
    }

    private boolean composite(Composite c, Node n) {
        DType t = n.output().type().dtype();
        if (CublasLtMatmul.dataType(t) < 0) return false;
        switch (c) {
            case Composite.Linear l -> { return linear(l, n); }
            case Composite.Softmax s -> softmax(n, s.axis(), false);
            case Composite.LogSoftmax s -> softmax(n, s.axis(), true);
            case Composite.SoftmaxCrossEntropy ce -> crossEntropy(n);
            case Composite.SoftmaxCrossEntropyGrad ce -> {
                TensorType logits = in(n, 0).type();
                int rows = logits.shape().dim(0), classes = logits.shape().dim(1);
                k.add(k.launch("ce_grad_" + t.label(), SoftmaxKernels.crossEntropyGrad(t, in(n, 1).type().dtype()))
                        .i64(rows).i64(classes).ptr(address(in(n, 0))).ptr(address(in(n, 1))).ptr(address(in(n, 2))).ptr(define(n.output()))
                        .grid(Math.min(rows, 1 << 20), BlockReduce.threads(classes), 0));
            }
            case Composite.LayerNorm l -> { return layerNorm(l, n); }
            case Composite.Attention a -> { return attention.forward(a, n); }
            case Composite.AttentionGrad a -> { return attention.backward(a, n); }
            case Composite.MaxPool2d m -> { return maxPool(m, n); }
            case Composite.BatchNorm bn -> { return batchNorm(bn, n); }
            case Composite.BatchNormGrad bg -> { return batchNormGrad(bg, n); }
            case Composite.LayerNormGrad l -> { return layerNormGrad(l, n); }
            case Composite.AdamUpdate a -> mapAll(OptimizerKernels.adam(a, t), n);
            case Composite.SgdUpdate s -> mapAll(OptimizerKernels.sgd(s, t), n);
            default -> { return false; }
        }
        return true;
    }

    /** A composite this plugin has no kernel for at this dtype runs as its decomposition. */
    private void decompose(Composite c, Node n) {
        Graph.Builder sub = new Graph.Builder(nextId);
        List<Value> outs = c.decompose(sub, n.inputs());
        Graph lowered = Lowering.decompose(new Graph(n.inputs(), sub.nodes(), outs), x -> false);
        nextId = Math.max(sub.nextId(), Lowering.maxId(lowered) + 1);
        depth++;
        try {
            for (Node s : lowered.nodes()) plan(s);
        } finally {
            depth--;
        }
        for (int i = 0; i < outs.size(); i++) put(n.outputs().get(i), address(lowered.outputs().get(i)));
    }

    // ---- contraction ------------------------------------------------------------------------

    /** The contraction straight into the wide type; where cuBLASLt cannot, at its own type and then a cast. */
    private void widening(CudaWidening w, Node n) {
        boolean done = switch (w.contraction()) {
            case Primitive.MatMul m -> matmul(m, n);
            case Composite.Linear l -> linear(l, n);
            default -> false;
        };
        if (done) return;
        DType narrow = in(n, 0).type().dtype();
        List<Value> inputs = new ArrayList<>(n.inputs());
        if (w.contraction() instanceof Composite.Linear) {
            Value bias = new Value(nextId++, new TensorType(narrow, in(n, 2).type().shape()));
            plan(new Node(new Primitive.Cast(narrow), List.of(in(n, 2)), List.of(bias)));
            inputs.set(2, bias);
        }
        Value tmp = new Value(nextId++, new TensorType(narrow, n.output().type().shape()));
        plan(new Node(w.contraction(), inputs, List.of(tmp)));
        int[] od = n.output().type().shape().dims();
        k.add(ElementwiseOps.cast(narrow, w.out()).launch(k, od, List.of(View.contiguous(output(n), od)), List.of(View.contiguous(address(tmp), od)), 0, 0, 0));
    }

    /** False only for a widening matmul cuBLASLt has no algorithm for (the generic kernel writes its input type). */
    private boolean matmul(Primitive.MatMul m, Node n) {
        TensorType a = in(n, 0).type(), b = in(n, 1).type();
        int r = a.shape().rank();
        int batch = r == 3 ? a.shape().dim(0) : 1;
        int rows = m.transA() ? a.shape().dim(-1) : a.shape().dim(-2), inner = m.transA() ? a.shape().dim(-2) : a.shape().dim(-1);
        int cols = m.transB() ? b.shape().dim(-2) : b.shape().dim(-1);
        DType out = n.output().type().dtype();
        CublasLtMatmul.Shape s = new CublasLtMatmul.Shape(a.dtype(), batch, rows, cols, inner, m.transA(), m.transB(), out);
        long d = define(n.output());
        CublasLtMatmul plan = rows * (long) cols * inner == 0 ? null
                : CublasLtMatmul.plan(lt, s, precision, address(in(n, 0)), address(in(n, 1)), d, 0, cublas.CUBLASLT_EPILOGUE_DEFAULT);
        if (plan != null) {
            resources.add(plan);
            k.add(plan);
            return true;
        }
        if (out != a.dtype()) return false;
        long sam = m.transA() ? 1 : inner, sak = m.transA() ? rows : 1;
        long sbk = m.transB() ? 1 : cols, sbn = m.transB() ? inner : 1;
        k.add(k.launch("matmul_" + a.dtype().label(), MatmulKernel.source(a.dtype()))
                .i64(batch).i64(rows).i64(cols).i64(inner)
                .ptr(address(in(n, 0))).i64((long) rows * inner).i64(sam).i64(sak)
                .ptr(address(in(n, 1))).i64((long) inner * cols).i64(sbk).i64(sbn).ptr(d)
                .elements((long) batch * rows * cols, k.multiprocessors()));
        return true;
    }

    /** x[N,in] @ w[out,in]^T + bias in one cuBLASLt call; ReLU (and GELU) ride in the epilogue, tanh and sigmoid follow in place. */
    private boolean linear(Composite.Linear l, Node n) {
        TensorType x = in(n, 0).type(), w = in(n, 1).type();
        // cuBLASLt's GELU epilogue misses the f64 reference by ~1e-9 relative (and may have no f32
        // algorithm); it is used for the half types, whose tolerance it meets, or when asked for.
        boolean geluEpilogue = ltGelu || x.dtype() == DType.BF16 || x.dtype() == DType.F16;
        int epilogue = switch (l.activation()) {
            case RELU -> cublas.CUBLASLT_EPILOGUE_RELU_BIAS;
            case GELU -> geluEpilogue ? cublas.CUBLASLT_EPILOGUE_GELU_BIAS : cublas.CUBLASLT_EPILOGUE_BIAS;
            default -> cublas.CUBLASLT_EPILOGUE_BIAS;
        };
        if (x.shape().size() == 0 || w.shape().size() == 0) return false;
        long d = k.allocate(n.output().type().byteSize());
        long z = k.allocate(n.output().type().byteSize());
        CublasLtMatmul.Shape s = new CublasLtMatmul.Shape(x.dtype(), 1, x.shape().dim(0), w.shape().dim(0), x.shape().dim(1), false, true,
                n.output().type().dtype());
        boolean inEpilogue = l.activation() == Composite.Activation.NONE || l.activation() == Composite.Activation.RELU
                || (l.activation() == Composite.Activation.GELU && geluEpilogue);
        // With an activation to follow, cuBLASLt writes z and the activation kernel reads it into d.
        CublasLtMatmul plan = CublasLtMatmul.plan(lt, s, precision, address(in(n, 0)), address(in(n, 1)), inEpilogue ? d : z, address(in(n, 2)), epilogue);
        if (plan == null) return false;
        put(n.output(), d);
        resources.add(plan);
        k.add(plan);
        if (!inEpilogue) {
            Primitive.UnaryFn fn = switch (l.activation()) {
                case TANH -> Primitive.UnaryFn.TANH;
                case SIGMOID -> Primitive.UnaryFn.SIGMOID;
                default -> Primitive.UnaryFn.GELU;
            };
            int[] od = n.output().type().shape().dims();
            k.add(ElementwiseOps.unary(fn, x.dtype()).launch(k, od, List.of(View.contiguous(d, od)), List.of(View.contiguous(z, od)), 0, 0, 0));
        }
        return true;
    }

    // ---- composites ---------------------------------------------------------------------------

    private void softmax(Node n, int axis, boolean log) {
        TensorType t = in(n, 0).type();
        long outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= t.shape().dim(i);
        for (int i = axis + 1; i < t.shape().rank(); i++) inner *= t.shape().dim(i);
        int len = t.shape().dim(axis);
        long rows = outer * inner;
        int perLane = BlockReduce.perLane(len);
        if (inner == 1 && perLane > 0) {
            k.add(k.launch((log ? "logsoftmax_warp" : "softmax_warp") + perLane + "_" + t.dtype().label(), SoftmaxKernels.softmaxWarp(t.dtype(), log, perLane))
                    .i64(rows).i32(len).ptr(address(in(n, 0))).ptr(define(n.output()))
                    .grid(warpGrid(rows), 256, 0));
            return;
        }
        k.add(k.launch((log ? "logsoftmax_" : "softmax_") + t.dtype().label(), SoftmaxKernels.softmax(t.dtype(), log))
                .i64(rows).i64(len).i64(inner).ptr(address(in(n, 0))).ptr(define(n.output()))
                .grid((int) Math.min(rows, 1 << 20), BlockReduce.threads(len), 0));
    }

    /** Rows of the normalised size, or 0 when a row is too long for the register kernels (then it decomposes). */
    private static int normRow(Node n, int axes) {
        int[] d = in(n, 0).type().shape().dims();
        long len = 1;
        for (int i = d.length - axes; i < d.length; i++) len *= d[i];
        return len > 0 && BlockReduce.perLane(len) > 0 ? (int) len : 0;
    }

    private int warpGrid(long rows) { return BlockReduce.warpGrid(rows, k.multiprocessors()); }

    private boolean layerNorm(Composite.LayerNorm l, Node n) {
        int len = normRow(n, l.axes());
        if (len == 0) return false;
        DType t = in(n, 0).type().dtype();
        long rows = in(n, 0).type().shape().size() / len;
        int perLane = BlockReduce.perLane(len);
        k.add(k.launch("layernorm" + perLane + "_" + t.label(), LayerNormKernels.forward(t, perLane))
                .i64(rows).i32(len).f64(l.eps()).ptr(address(in(n, 0))).ptr(address(in(n, 1))).ptr(address(in(n, 2))).ptr(define(n.output()))
                .grid(warpGrid(rows), 256, 0));
        return true;
    }

    /** dx with the row statistics, then dgamma and dbeta as column sums in two passes. */
    private boolean layerNormGrad(Composite.LayerNormGrad l, Node n) {
        int len = normRow(n, l.axes());
        if (len == 0) return false;
        DType t = in(n, 0).type().dtype();
        long rows = in(n, 0).type().shape().size() / len, word = CudaTypes.computeBytes(t);
        int perLane = BlockReduce.perLane(len);
        long stats = k.allocate(Math.max(1, rows) * 2 * word);
        k.add(k.launch("layernorm_grad" + perLane + "_" + t.label(), LayerNormKernels.backwardRows(t, perLane))
                .i64(rows).i32(len).f64(l.eps()).ptr(address(in(n, 0))).ptr(address(in(n, 1))).ptr(address(in(n, 2)))
                .ptr(define(n.outputs().get(0))).ptr(stats).grid(warpGrid(rows), 256, 0));
        long tiles = (len + 31) / 32;
        long[] sc = ReduceKernel.splitRows(rows, 8, tiles, k.multiprocessors());
        long splits = sc[0], chunk = sc[1];
        long pg = k.allocate(splits * len * word), pb = k.allocate(splits * len * word);
        k.add(k.launch("layernorm_param_grads_" + t.label(), LayerNormKernels.paramPartials(t))
                .i64(rows).i64(len).i64(chunk).ptr(address(in(n, 0))).ptr(address(in(n, 2))).ptr(stats).ptr(pg).ptr(pb)
                .grid((int) (tiles * splits), 256, 0));
        String totals = ReduceKernel.columnTotals(Primitive.ReduceFn.SUM, t);
        long[] partials = {pg, pb};
        for (int i = 0; i < 2; i++) {
            k.add(k.launch("reduce_col_totals_sum_" + t.label(), totals).i64(splits).i64(len).ptr(partials[i]).ptr(define(n.outputs().get(i + 1)))
                    .elements(len, k.multiprocessors()));
        }
        return true;
    }

    private void crossEntropy(Node n) {
        TensorType logits = in(n, 0).type();
        DType t = logits.dtype();
        int rows = logits.shape().dim(0), classes = logits.shape().dim(1);
        long scratch = k.allocate((long) rows * (t == DType.F64 ? 8 : 4));
        k.add(k.launch("ce_rows_" + t.label(), SoftmaxKernels.crossEntropyRows(t, in(n, 1).type().dtype()))
                .i64(rows).i64(classes).ptr(address(in(n, 0))).ptr(address(in(n, 1))).ptr(scratch)
                .grid(Math.min(rows, 1 << 20), BlockReduce.threads(classes), 0));
        k.add(k.launch("ce_mean_" + t.label(), SoftmaxKernels.crossEntropyMean(t))
                .i64(rows).ptr(scratch).ptr(define(n.output())).grid(1, BlockReduce.threads(rows), 0));
    }

    /** An elementwise composite over the first input's shape; scalar inputs broadcast. */
    private void mapAll(MapKernel kernel, Node n) {
        int[] od = n.output().type().shape().dims();
        List<View> ins = new ArrayList<>();
        for (Value v : n.inputs()) ins.add(View.broadcast(address(v), v.type().shape().dims(), od));
        List<View> outs = new ArrayList<>();
        for (Value v : n.outputs()) outs.add(View.contiguous(define(v), od));
        k.add(kernel.launch(k, od, outs, ins, 0, 0, 0));
    }

    // ---- movement and indexing ---------------------------------------------------------------

    private void concat(Primitive.Concat c, Node n, int[] od) {
        long out = define(n.output());
        long[] os = MapKernel.rowMajor(od);
        long offset = 0;
        for (Value v : n.inputs()) {
            int[] d = v.type().shape().dims();
            KernelLaunch l = ElementwiseOps.copy(v.type().dtype()).launch(k, d, List.of(new View(out, offset * os[c.axis()], os)),
                    List.of(View.contiguous(address(v), d)), 0, 0, 0);
            k.add(l);
            offset += d[c.axis()];
        }
    }

    private void gather(Primitive.Gather g, Node n) {
        TensorType x = in(n, 0).type(), idx = in(n, 1).type();
        long[] pq = around(x.shape().dims(), g.axis());
        long total = pq[0] * idx.shape().size() * pq[1];
        k.add(k.launch("gather_" + x.dtype().label() + "_" + idx.dtype().label(), IndexingKernels.gather(x.dtype(), idx.dtype()))
                .i64(total).i64(x.shape().dim(g.axis())).i64(idx.shape().size()).i64(pq[1])
                .ptr(address(in(n, 0))).ptr(address(in(n, 1))).ptr(define(n.output())).elements(total, k.multiprocessors()));
    }

    private void scatterAdd(Primitive.ScatterAdd s, Node n) {
        TensorType idx = in(n, 0).type(), upd = in(n, 1).type();
        long out = define(n.output());
        long bytes = n.output().type().byteSize();
        k.add(stream -> stream.zero(out, bytes));
        long[] pq = around(s.shape().dims(), s.axis());
        long total = pq[0] * idx.shape().size() * pq[1];
        k.add(k.launch("scatter_add_" + upd.dtype().label() + "_" + idx.dtype().label(), IndexingKernels.scatterAdd(upd.dtype(), idx.dtype()))
                .i64(total).i64(s.shape().dim(s.axis())).i64(idx.shape().size()).i64(pq[1])
                .ptr(address(in(n, 0))).ptr(address(in(n, 1))).ptr(out).elements(total, k.multiprocessors()));
    }

    /**
     * The convolution through cuDNN when it is loaded and has an algorithm: x, w, y are NCHW / OCKK
     * / NOHW geometry, and the output is whichever of them {@code kind} computes.
     */
    private boolean cudnn(Node n, CudnnConv.Kind kind, int[] x, int[] w, int[] y, dev.kiln.spi.ir.Window2d win, int groups) {
        String what = "conv2d " + kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + " " + n.output().type().dtype().label();
        if (cudnn == null) {
            k.route(what + ": Kiln kernel (cuDNN not loaded)");
            return false;
        }
        long out = output(n);
        long[] a = switch (kind) {
            case FORWARD -> new long[] {address(in(n, 0)), address(in(n, 1)), out};
            case BACKWARD_DATA -> new long[] {out, address(in(n, 1)), address(in(n, 0))};
            case BACKWARD_FILTER -> new long[] {address(in(n, 0)), out, address(in(n, 1))};
        };
        CudnnConv c = CudnnConv.plan(cudnn, k, kind, n.output().type().dtype(), precision, x, w, y, win, groups, a[0], a[1], a[2]);
        if (c == null) {
            // cuDNN is loaded, so this is a planning failure: say so, Kiln's direct kernel is many times slower.
            k.route(what + ": Kiln kernel (cuDNN could not plan it)");
            LOG.log(System.Logger.Level.WARNING, "cuDNN is loaded but could not plan " + n.describe() + "; Kiln's own (much slower) kernel runs it (logger dev.kiln.accel.cuda at DEBUG gives cuDNN's reason)");
            return false;
        }
        k.route(what + ": cuDNN");
        resources.add(c);
        k.add(c);
        return true;
    }

    private boolean maxPool(Composite.MaxPool2d m, Node n) {
        if (!CudnnMaxPool.applies(cudnn, n.output().type().dtype(), in(n, 0).type().shape().dims(), m.window())) {
            k.route("maxpool2d " + n.output().type().dtype().label() + ": decomposition (" + (cudnn == null ? "cuDNN not loaded" : "padded, dilated or not 4-d") + ")");
            return false;
        }
        k.route("maxpool2d " + n.output().type().dtype().label() + ": cuDNN");
        CudnnMaxPool p = CudnnMaxPool.plan(cudnn, n.output().type().dtype(), in(n, 0).type().shape().dims(), n.output().type().shape().dims(),
                m.window(), address(in(n, 0)), define(n.output()));
        resources.add(p);
        k.add(p);
        return true;
    }

    /** Training copies the running statistics into their outputs first: cuDNN steps them in place. */
    private boolean batchNorm(Composite.BatchNorm bn, Node n) {
        TensorType x = in(n, 0).type();
        if (!CudnnBatchNorm.applies(cudnn, x.dtype(), x.shape().dims(), bn.eps())) return batchNormFallback("batchnorm", x);
        k.route("batchnorm " + x.dtype().label() + ": cuDNN");
        long[] a = new long[6];
        for (int i = 0; i < 3; i++) a[i] = address(in(n, i));
        a[3] = define(n.output());
        if (bn.training()) {
            for (int i = 1; i < 3; i++) {
                long dst = define(n.outputs().get(i)), src = address(in(n, i + 2)), bytes = n.outputs().get(i).type().byteSize();
                k.add(stream -> stream.copy(dst, src, bytes, org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToDevice));
                a[i + 3] = dst;
            }
        } else {
            a[4] = address(in(n, 3));
            a[5] = address(in(n, 4));
        }
        CudnnBatchNorm c = CudnnBatchNorm.plan(cudnn, bn.training() ? CudnnBatchNorm.Kind.TRAINING : CudnnBatchNorm.Kind.EVALUATION,
                x.dtype(), x.shape().dims(), bn.momentum(), bn.eps(), a);
        resources.add(c);
        k.add(c);
        return true;
    }

    private boolean batchNormGrad(Composite.BatchNormGrad bg, Node n) {
        TensorType x = in(n, 0).type();
        if (!CudnnBatchNorm.applies(cudnn, x.dtype(), x.shape().dims(), bg.eps())) return batchNormFallback("batchnorm backward", x);
        k.route("batchnorm backward " + x.dtype().label() + ": cuDNN");
        long[] a = new long[6];
        for (int i = 0; i < 3; i++) {
            a[i] = address(in(n, i));
            a[i + 3] = define(n.outputs().get(i));
        }
        CudnnBatchNorm c = CudnnBatchNorm.plan(cudnn, CudnnBatchNorm.Kind.BACKWARD, x.dtype(), x.shape().dims(), 0, bg.eps(), a);
        resources.add(c);
        k.add(c);
        return true;
    }

    private boolean batchNormFallback(String what, TensorType x) {
        k.route(what + " " + x.dtype().label() + ": decomposition (" + (cudnn == null ? "cuDNN not loaded" : "not f32/f64, rank 2-4, eps >= 1e-5") + ")");
        return false;
    }

    /** The node's output address, defined now unless an earlier attempt already did. */
    long output(Node n) { return address.containsKey(n.output().id()) ? address(n.output()) : define(n.output()); }

    /** A direct convolution-family kernel over {@code iter}'s elements: x, weight and y geometry as NCHW / OCKK / NOHW. */
    private void conv(Node n, String name, String source, int[] x, int[] w, int[] y, dev.kiln.spi.ir.Window2d win, int groups, int[] iter) {
        long total = 1;
        for (int d : iter) total *= d;
        KernelLaunch l = k.launch(name + "_" + n.inputs().getFirst().type().dtype().label(), source).i64(total)
                .i64(x[0]).i64(x[1]).i64(x[2]).i64(x[3]).i64(w[0]).i64(y[2]).i64(y[3]).i64(w[2]).i64(w[3])
                .i64(win.strideH()).i64(win.strideW()).i64(win.padH()).i64(win.padW()).i64(win.dilationH()).i64(win.dilationW()).i64(groups);
        for (Value v : n.inputs()) l.ptr(address(v));
        k.add(l.ptr(output(n)).elements(total, k.multiprocessors()));
    }

    /** {P, Q}: the sizes before and after {@code axis}. */
    private static long[] around(int[] d, int axis) {
        long p = 1, q = 1;
        for (int i = 0; i < axis; i++) p *= d[i];
        for (int i = axis + 1; i < d.length; i++) q *= d[i];
        return new long[] {p, q};
    }

    // ---- helpers ------------------------------------------------------------------------------

    private void map(MapKernel kernel, Node n, List<View> ins) { map(kernel, n, ins, 0, 0, 0); }

    private void map(MapKernel kernel, Node n, List<View> ins, double s0, long q0, long q1) {
        int[] od = n.output().type().shape().dims();
        k.add(kernel.launch(k, od, List.of(View.contiguous(define(n.output()), od)), ins, s0, q0, q1));
    }

    private List<View> broadcastInputs(Node n, int[] od) {
        List<View> v = new ArrayList<>();
        for (Value in : n.inputs()) v.add(View.broadcast(address(in), in.type().shape().dims(), od));
        return v;
    }

    /** The output is the input's memory, reinterpreted. */
    private void alias(Node n) { put(n.output(), address(in(n, 0))); }

    private static Value in(Node n, int i) { return n.inputs().get(i); }
}
