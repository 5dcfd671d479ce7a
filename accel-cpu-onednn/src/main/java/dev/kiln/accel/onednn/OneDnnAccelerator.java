package dev.kiln.accel.onednn;

import dev.kiln.accel.onednn.JavaWindows.ConvOp;
import dev.kiln.core.DType;
import dev.kiln.core.Device;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.core.Shape;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Capabilities;
import dev.kiln.spi.Collectives;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.KernelAccelerator;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Fused;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import dev.kiln.spi.ir.Window2d;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Set;

/**
 * The oneDNN CPU accelerator: host memory, one kernel per node. f32 contractions, elementwise
 * math, reductions, permutations and softmax run on oneDNN primitives created here, once per
 * node; everything else (other dtypes, indexing, sources, casts) runs on Java kernels.
 */
final class OneDnnAccelerator extends KernelAccelerator {
    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(DType.F32, DType.F64, DType.BF16, DType.F16, DType.I32, DType.I64, DType.I8, DType.BOOL),
            Set.of(Composite.Linear.class, Composite.Gelu.class, Composite.Softmax.class, Composite.LogSoftmax.class, Composite.MaxPool2d.class, Composite.AvgPool2d.class,
                    Composite.BatchNorm.class, Composite.BatchNormGrad.class,
                    Composite.SoftmaxCrossEntropy.class, Composite.SoftmaxCrossEntropyGrad.class, Composite.SgdUpdate.class, Composite.AdamUpdate.class,
                    Composite.QuantizedLinear.class),
            CpuFeatures.precisions(),
            // True when an MPI library loads; MPI itself is initialised only when collectives are asked for.
            MpiLibrary.process() instanceof MpiLibrary.Found);

    private final OneDnnEngine engine;
    private final List<Device> devices;

    OneDnnAccelerator(AcceleratorConfig config) {
        if (config.deviceIndex() != 0) throw new IllegalArgumentException("onednn has one device, cpu:0; asked for " + config.deviceIndex());
        this.engine = new OneDnnEngine(config.threads());
        // Most programs that open an accelerator train with Adam: its compiled loop is then ready by the first step.
        OptimLoops.prewarmAdam();
        JitGemmWarmup.start();
        int threads = config.threads() > 0 ? config.threads() : OneDnnNative.defaultThreads();
        this.devices = List.of(new Device("cpu", 0,
                "oneDNN " + OneDnnNative.version() + ", " + threads + " threads, " + OneDnnNative.effectiveIsa() + "; " + OptimLoops.description()));
    }

    @Override public String name() { return "onednn"; }

    @Override public List<Device> devices() { return devices; }

    @Override public Capabilities capabilities() { return CAPABILITIES; }

    @Override public List<PrecisionPolicy> fastestPrecisions() {
        ensureOpen();
        return PrecisionSpeed.fastest(engine);
    }

    @Override public Executable compile(Graph graph, CompileOptions options) {
        ensureOpen();
        return super.compile(graph, options);
    }

    /** The engine, for the plugin's tests. */
    OneDnnEngine engine() { return engine; }

    void ensureOpen() {
        if (engine.isClosed()) throw new IllegalStateException("onednn accelerator is closed");
    }

    /**
     * Collectives over MPI's world (see {@link MpiCollectives}): the process must have been started
     * by an MPI launcher as {@code rank} of {@code size}. {@code groupId} is ignored, the launcher
     * having made the group; it may be null.
     */
    @Override public Collectives collectives(int rank, int size, byte[] groupId) {
        ensureOpen();
        return MpiCollectives.join(this, rank, size);
    }

    /** MPI needs no rendezvous token (the launcher joins the ranks): an empty one, for callers written for NCCL. */
    @Override public byte[] newCollectiveGroupId() {
        MpiLibrary.require();
        return new byte[0];
    }

    /** The host memory behind a buffer of this accelerator. */
    static MemorySegment segment(Buffer b) { return host(b).segment(); }

    /** The host memory of a buffer {@code what} writes; a constant buffer is refused. */
    static MemorySegment output(Buffer b, String what) { return writable(b, what).segment(); }

    @Override protected Kernel kernel(Node node, CompileOptions options) {
        String what = node.describe();
        engine.enterCreation();
        try {
            return switch (node.op()) {
                case Primitive p -> primitive(p, node, what);
                case Composite c -> composite(c, node, what, options);
                case Fused f -> fused(f, node, what);
            };
        } catch (IllegalStateException e) {
            throw new IllegalStateException("onednn could not build a kernel for " + what + ": " + e.getMessage(), e);
        }
    }

    private Kernel primitive(Primitive p, Node n, String what) {
        TensorType out = n.output().type();
        boolean f32 = nativeF32(n);
        return switch (p) {
            // oneDNN's vectorised log loses about 1e-4 relative accuracy near x = 1, outside f32 tolerance; Java's is exact.
            // oneDNN has no erf of its own (only inside gelu_erf).
            case Primitive.Unary u -> f32 && u.fn() != Primitive.UnaryFn.LOG && u.fn() != Primitive.UnaryFn.ERF
                    ? OneDnnEltwise.create(engine, what, u.fn(), out) : JavaElementwise.unary(u.fn(), out);
            case Primitive.Binary b -> {
                Kernel k = f32 && !b.fn().isComparison() && b.fn() != BinaryFn.POW
                        ? OneDnnBinary.create(engine, what, b.fn(), in(n, 0), in(n, 1), out) : null;
                yield k != null ? k : JavaElementwise.binary(b.fn(), in(n, 0), in(n, 1), out);
            }
            case Primitive.Where w -> JavaElementwise.where(in(n, 0), in(n, 1), in(n, 2), out);
            case Primitive.Cast c -> OneDnnCast.supports(in(n, 0), out) ? OneDnnCast.create(engine, what, in(n, 0), out) : JavaElementwise.cast(in(n, 0), out);
            case Primitive.Reduce r -> {
                // oneDNN refuses a reduction whose source and destination agree, i.e. over axes of size one only.
                if (r.axes().stream().allMatch(a -> in(n, 0).shape().dim(a) == 1)) yield JavaMovement.view();
                if (!f32) yield JavaReduce.create(r, in(n, 0));
                long[] rows = JavaReduceRows.plan(r, in(n, 0).shape());
                yield rows != null ? JavaReduceRows.create(r.fn(), rows) : OneDnnReduction.create(engine, what, r, in(n, 0));
            }
            case Primitive.MatMul m -> f32 || bf16(n) ? OneDnnMatmul.matmul(engine, what, m, in(n, 0), in(n, 1), out) : JavaMatmul.create(m, in(n, 0), in(n, 1), out);
            case Primitive.Conv2d c -> conv(ConvOp.FORWARD, c.window(), c.groups(), in(n, 0).shape(), in(n, 1).shape(), n, what);
            case Primitive.Conv2dBackwardData c -> conv(ConvOp.BACKWARD_DATA, c.window(), c.groups(), c.input(), in(n, 1).shape(), n, what);
            case Primitive.Conv2dBackwardWeights c -> conv(ConvOp.BACKWARD_WEIGHTS, c.window(), c.groups(), in(n, 0).shape(), c.weight(), n, what);
            case Primitive.MaxPool2dIndices m -> JavaWindows.maxPoolIndices(m.window(), in(n, 0));
            case Primitive.Reshape r -> JavaMovement.view();
            case Primitive.Permute pm -> OneDnnReorder.supports(out.dtype()) && out.shape().size() > 0
                    ? OneDnnReorder.permute(engine, what, pm.perm(), in(n, 0), out) : JavaMovement.permute(pm.perm(), in(n, 0), out);
            case Primitive.Broadcast b -> JavaMovement.broadcast(in(n, 0), out);
            case Primitive.Slice s -> JavaMovement.slice(s.axis(), s.start(), in(n, 0), out);
            case Primitive.Concat c -> JavaMovement.concat(c.axis(), n.inputs().stream().map(Value::type).toList(), out);
            case Primitive.Gather g -> JavaIndexing.gather(g.axis(), in(n, 0), in(n, 1));
            case Primitive.ScatterAdd s -> JavaIndexing.scatterAdd(s.axis(), s.shape(), in(n, 0), in(n, 1));
            case Primitive.Fill f -> JavaSources.fill(f.value(), out);
            case Primitive.Iota i -> JavaSources.iota(i.axis(), out);
            case Primitive.RandomUniform r -> JavaSources.randomUniform(out);
        };
    }

    private Kernel composite(Composite c, Node n, String what, CompileOptions options) {
        if (!capabilities().isNative(c)) return null;
        if (in(n, 0).dtype() == DType.F32 && in(n, 0).shape().size() > 0) {
            int rows = in(n, 0).shape().rank() == 2 ? in(n, 0).shape().dim(0) : 0, cols = rows > 0 ? in(n, 0).shape().dim(1) : 0;
            switch (c) {
                case Composite.SoftmaxCrossEntropy s -> { return JavaLoss.forward(rows, cols, in(n, 1).dtype()); }
                case Composite.SoftmaxCrossEntropyGrad s -> { if (in(n, 2).dtype() == DType.F32) return JavaLoss.backward(rows, cols, in(n, 1).dtype()); }
                default -> { }
            }
        }
        if (c instanceof Composite.QuantizedLinear q && OneDnnQuantizedLinear.supports(q, in(n, 0), n.output().type())) {
            return OneDnnQuantizedLinear.create(engine, what, q, in(n, 0), in(n, 1), memoryScope());
        }
        if (nativeF32(n)) {
            TensorType t = in(n, 0);
            switch (c) {
                case Composite.Gelu g -> { return OneDnnEltwise.geluErf(engine, what, t); }
                case Composite.Softmax s -> { return OneDnnSoftmax.create(engine, what, s.axis(), false, t); }
                case Composite.LogSoftmax s -> { return OneDnnSoftmax.create(engine, what, s.axis(), true, t); }
                case Composite.MaxPool2d m -> { return formatted(m, plain(n), n, what); }
                case Composite.AvgPool2d a -> { return formatted(a, plain(n), n, what); }
                case Composite.BatchNorm b -> { return formatted(b, plain(n), n, what); }
                case Composite.BatchNormGrad b -> { return formatted(b, plain(n), n, what); }
                case Composite.Linear l -> { return OneDnnMatmul.linear(engine, what, l, t, in(n, 1), n.output().type()); }
                case Composite.AdamUpdate a -> { return JavaOptim.adam(a, t.shape().size()); }
                case Composite.SgdUpdate u -> { return JavaOptim.sgd(u, t.shape().size()); }
                default -> { }
            }
        }
        return new CompositeKernel(c, n, node -> kernel(node, options));
    }

    /** Fusion rewrites only work oneDNN runs natively (f32, and bf16/f16 contractions; see {@link OneDnnFusion}), so fused ops always have native kernels. */
    private Kernel fused(Fused f, Node n, String what) {
        return switch (f) {
            case FusedOps.MatMulBias m -> OneDnnMatmul.matmulBias(engine, what, m, in(n, 0), in(n, 1), n.output().type());
            case FusedOps.LowMatMul m -> OneDnnMatmul.low(engine, what, m, in(n, 0), in(n, 1), m.bias() ? in(n, 2) : null, n.output().type());
            case FusedOps.Chain c -> new JavaChain(c, n.inputs().stream().map(v -> v.type().dtype()).toList());
            case FusedOps.Formatted w -> formatted(w.op(), w.formats(), n, what);
            case FusedOps.Reformat r -> {
                long[] dims = OneDnnNative.dims(in(n, 0).shape());
                yield OneDnnReorder.reorder(engine, what, r.from().desc(DType.F32, dims), r.to().desc(DType.F32, dims));
            }
            default -> formatted(f, plain(n), n, what);
        };
    }

    /**
     * The kernel of a convolution, pooling or batch-norm op whose operands (inputs, then outputs)
     * lie in the given formats; see {@link MemoryFormats#activations}.
     */
    private Kernel formatted(Op op, List<MemoryFormat> f, Node n, String what) {
        Shape x = in(n, 0).shape();
        Shape y = n.output().type().shape();
        return switch (op) {
            case Primitive.Conv2d c -> OneDnnConv.create(engine, what, ConvOp.FORWARD, c.window(), c.groups(), x, in(n, 1).shape(), false,
                    Composite.Activation.NONE, f.get(0), f.get(2));
            case Primitive.Conv2dBackwardData c -> OneDnnConv.create(engine, what, ConvOp.BACKWARD_DATA, c.window(), c.groups(), c.input(), in(n, 1).shape(),
                    false, Composite.Activation.NONE, f.get(2), f.get(0));
            case Primitive.Conv2dBackwardWeights c -> OneDnnConv.create(engine, what, ConvOp.BACKWARD_WEIGHTS, c.window(), c.groups(), x, c.weight(),
                    false, Composite.Activation.NONE, f.get(0), f.get(1));
            case FusedOps.ConvBias c -> OneDnnConv.create(engine, what, ConvOp.FORWARD, c.window(), c.groups(), x, in(n, 1).shape(), true,
                    c.activation(), f.get(0), f.get(3));
            case FusedOps.ConvWeightsBias c -> OneDnnConv.create(engine, what, ConvOp.BACKWARD_WEIGHTS, c.window(), c.groups(), x, c.weight(),
                    true, Composite.Activation.NONE, f.get(0), f.get(1));
            case Composite.MaxPool2d m -> OneDnnPooling.forward(engine, what, true, m.window(), x, y, f.get(0));
            case Composite.AvgPool2d a -> OneDnnPooling.forward(engine, what, false, a.window(), x, y, f.get(0));
            case FusedOps.MaxPoolTrain p -> OneDnnPooling.train(engine, what, p.window(), x, y, n.outputs().get(1).type().byteSize(), f.get(0));
            case FusedOps.MaxPoolGrad p -> OneDnnPooling.maxGrad(engine, what, p.window(), p.input(), in(n, 1).shape(), f.get(1));
            case FusedOps.AvgPoolGrad p -> OneDnnPooling.avgGrad(engine, what, p.window(), p.input(), x, f.get(0));
            case Composite.BatchNorm b -> OneDnnBatchNorm.forward(engine, what, b, in(n, 0), f.get(0), false);
            case Composite.BatchNormGrad b -> OneDnnBatchNorm.backward(engine, what, b.eps(), in(n, 0), f.get(0), false);
            case FusedOps.BatchNormTrain b -> OneDnnBatchNorm.forward(engine, what, new Composite.BatchNorm(true, b.momentum(), b.eps()), in(n, 0), f.get(0), true);
            case FusedOps.BatchNormTrainGrad b -> OneDnnBatchNorm.backward(engine, what, b.eps(), in(n, 0), f.get(0), true);
            default -> throw new IllegalArgumentException("onednn has no kernel for " + what);
        };
    }

    /** Every operand of {@code n} plain. */
    private static List<MemoryFormat> plain(Node n) {
        return java.util.Collections.nCopies(n.inputs().size() + n.outputs().size(), MemoryFormat.PLAIN);
    }

    @Override protected Graph fuse(Graph lowered, CompileOptions options) { return OneDnnFusion.fuse(lowered); }

    /** A convolution op on oneDNN in f32, else in Java; {@code x} and {@code weight} are the forward operands' shapes. */
    private Kernel conv(ConvOp op, Window2d win, int groups, Shape x, Shape weight, Node n, String what) {
        if (nativeF32(n)) return OneDnnConv.create(engine, what, op, win, groups, x, weight, false, Composite.Activation.NONE, MemoryFormat.PLAIN, MemoryFormat.PLAIN);
        TensorType xt = new TensorType(n.output().type().dtype(), x), wt = xt.withShape(weight);
        return JavaWindows.conv(op, win, groups, xt, wt, in(n, 0), in(n, 1), n.output().type());
    }

    /** oneDNN takes the node when every tensor it touches is a non-empty f32 tensor. */
    private static boolean nativeF32(Node n) {
        for (Value v : n.inputs()) if (v.type().dtype() != DType.F32 || v.type().shape().size() == 0) return false;
        for (Value v : n.outputs()) if (v.type().dtype() != DType.F32 || v.type().shape().size() == 0) return false;
        return true;
    }

    /** bf16 contractions (the bf16-mixed policy's) run on oneDNN's AVX512_BF16/AMX kernels. */
    private static boolean bf16(Node n) {
        for (Value v : n.inputs()) if (v.type().dtype() != DType.BF16 || v.type().shape().size() == 0) return false;
        return CpuFeatures.bf16();
    }

    private static TensorType in(Node n, int i) { return n.inputs().get(i).type(); }

    @Override public void close() {
        try {
            engine.close();
        } finally {
            super.close();
        }
    }
}
