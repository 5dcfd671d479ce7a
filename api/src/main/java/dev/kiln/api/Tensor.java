package dev.kiln.api;

import dev.kiln.api.internal.Internal;
import dev.kiln.api.internal.Lease;
import dev.kiln.core.DType;
import dev.kiln.runtime.exec.GraphCompiler;
import dev.kiln.core.Shape;
import dev.kiln.runtime.trace.Tracer;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An n-dimensional array on a {@link Kiln}'s accelerator. Outside a traced function every op runs
 * at once (eagerly, compiled once per op signature); inside one, ops are recorded into the graph
 * being traced, so the same model code serves both. Close tensors you no longer need to free
 * their memory at once; otherwise it is freed when they become unreachable.
 *
 * <p><b>Threads.</b> A tensor's data never changes once computed (ops return new tensors; only
 * a {@link dev.kiln.api.train.Trainer} updates its model's parameters in place), so any number
 * of threads may read a tensor and use it in ops at once. {@link #close()} may be called from any
 * thread at any time: ops already running on the tensor finish with its data, which is freed when
 * the last of them ends; every use that starts after {@code close()} throws
 * {@link IllegalStateException}. A closed tensor is never read after its memory is freed.
 */
public final class Tensor implements AutoCloseable {
    static {
        Internal.install(new Internal.Access() {
            public Lease lease(Tensor t) { return t.hold(); }
            public void enter(Kiln k) { k.enter(); }
            public void exit(Kiln k) { k.exit(); }
            public Tensor wrap(Kiln k, Buffer b) { return Tensor.wrap(k, b); }
            public Tensor symbolic(Kiln k, Tracer tr, Value v) { return Tensor.symbolic(k, tr, v); }
            public Value value(Tensor t) { return t.value(); }
            public Tracer tracer(Tensor t) { return t.tracer(); }
            public Tensor capture(Tensor t, Tensor into) {
                Tracer tr = into.tracer();
                return tr == null || t.tracer() == tr ? t : Tensor.symbolic(t.kiln, tr, tr.capture(t, t.buffer()));
            }
            public GraphCompiler compiler(Kiln k) { return k.compiler(); }
            public long nextSeed(Kiln k) { return k.nextSeed(); }
            public Buffer upload(Kiln k, TensorType t, MemorySegment host) { return k.upload(t, host); }
            public Tensor constant(Kiln k, TensorType t, MemorySegment host) { return Tensor.wrap(k, k.uploadConstant(t, host)); }
            public void download(Kiln k, Buffer b, MemorySegment host) { k.download(b, host); }
            public dev.kiln.runtime.dist.GuardedCollectives collectives(Kiln k) { return k.collectives(); }
        });
    }

    private final Kiln kiln;
    private final TensorType type;
    /** Concrete tensors: the data and its reference count; null once closed. */
    private volatile Held held;
    private final Tracer tracer;    // symbolic tensors
    private final Value value;

    private Tensor(Kiln kiln, TensorType type, Buffer buffer, Tracer tracer, Value value) {
        this.kiln = kiln;
        this.type = type;
        this.held = buffer == null ? null : new Held(buffer);
        this.tracer = tracer;
        this.value = value;
    }

    static Tensor wrap(Kiln kiln, Buffer buffer) { return new Tensor(kiln, buffer.type(), buffer, null, null); }

    static Tensor symbolic(Kiln kiln, Tracer tracer, Value value) { return new Tensor(kiln, value.type(), null, tracer, value); }

    public Kiln kiln() { return kiln; }

    public Shape shape() { return type.shape(); }

    public DType dtype() { return type.dtype(); }

    /** True inside a traced function: the tensor has no data yet, only a place in the graph. */
    public boolean isSymbolic() { return tracer != null; }

    // ---- elementwise ----

    public Tensor add(Tensor o) { return binary(BinaryFn.ADD, o); }

    public Tensor sub(Tensor o) { return binary(BinaryFn.SUB, o); }

    public Tensor mul(Tensor o) { return binary(BinaryFn.MUL, o); }

    public Tensor div(Tensor o) { return binary(BinaryFn.DIV, o); }

    public Tensor maximum(Tensor o) { return binary(BinaryFn.MAX, o); }

    public Tensor minimum(Tensor o) { return binary(BinaryFn.MIN, o); }

    public Tensor pow(Tensor o) { return binary(BinaryFn.POW, o); }

    public Tensor add(double c) { return add(constant(c)); }

    public Tensor sub(double c) { return sub(constant(c)); }

    public Tensor mul(double c) { return mul(constant(c)); }

    public Tensor div(double c) { return div(constant(c)); }

    public Tensor pow(double c) { return pow(constant(c)); }

    /** The scalar {@code c} in this tensor's dtype, on the same side (traced or eager): a constant for graph code. */
    public Tensor scalarLike(double c) { return constant(c); }

    /** Elementwise {@code this > o} as a bool tensor. */
    public Tensor gt(Tensor o) { return binary(BinaryFn.GT, o); }

    public Tensor gt(double c) { return gt(constant(c)); }

    public Tensor lt(double c) { return lt(constant(c)); }

    public Tensor lt(Tensor o) { return binary(BinaryFn.LT, o); }

    public Tensor eq(Tensor o) { return binary(BinaryFn.EQ, o); }

    public Tensor neg() { return unary(UnaryFn.NEG); }

    public Tensor exp() { return unary(UnaryFn.EXP); }

    public Tensor log() { return unary(UnaryFn.LOG); }

    public Tensor sqrt() { return unary(UnaryFn.SQRT); }

    public Tensor tanh() { return unary(UnaryFn.TANH); }

    public Tensor sigmoid() { return unary(UnaryFn.SIGMOID); }

    public Tensor relu() { return unary(UnaryFn.RELU); }

    public Tensor abs() { return unary(UnaryFn.ABS); }

    /** The error function. */
    public Tensor erf() { return unary(UnaryFn.ERF); }

    /** GELU, exact: {@code x/2 (1 + erf(x / sqrt 2))}, as PyTorch's {@code F.gelu(x)} and Keras's default. */
    public Tensor gelu() { return apply1(new Composite.Gelu(), this); }

    /** GELU in its tanh form, as PyTorch's {@code F.gelu(x, approximate='tanh')} (GPT-2's activation). */
    public Tensor geluTanh() { return unary(UnaryFn.GELU); }

    /** {@code cond ? a : b} elementwise, {@code this} being the bool condition. */
    public Tensor where(Tensor a, Tensor b) { return apply1(new Primitive.Where(), this, a, b); }

    public Tensor cast(DType to) { return to == dtype() ? this : apply1(new Primitive.Cast(to), this); }

    // ---- reductions ----

    public Tensor sum() { return reduce(Primitive.ReduceFn.SUM, allAxes(), false); }

    public Tensor sum(int axis, boolean keepDims) { return reduce(Primitive.ReduceFn.SUM, List.of(axis(axis)), keepDims); }

    public Tensor max(int axis, boolean keepDims) { return reduce(Primitive.ReduceFn.MAX, List.of(axis(axis)), keepDims); }

    public Tensor mean() { return sum().div(shape().size()); }

    public Tensor mean(int axis, boolean keepDims) { return sum(axis, keepDims).div(shape().dim(axis)); }

    // ---- linear algebra and movement ----

    public Tensor matmul(Tensor o) { return apply1(new Primitive.MatMul(false, false), this, o); }

    /** Swaps the last two axes. */
    public Tensor transpose() {
        int r = shape().rank();
        if (r < 2) throw new IllegalArgumentException("transpose needs rank >= 2, got " + shape());
        Integer[] perm = new Integer[r];
        for (int i = 0; i < r; i++) perm[i] = i;
        perm[r - 1] = r - 2;
        perm[r - 2] = r - 1;
        return permute(perm);
    }

    public Tensor permute(Integer... perm) { return apply1(new Primitive.Permute(List.of(perm)), this); }

    /** A view with a new shape; one dimension may be -1 and is inferred. */
    public Tensor reshape(int... dims) {
        int[] d = dims.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("reshape: only one -1 allowed in " + Arrays.toString(dims));
                infer = i;
            } else known *= d[i];
        }
        if (infer >= 0) {
            if (known == 0 || shape().size() % known != 0) throw new IllegalArgumentException("reshape: cannot reshape " + shape() + " to " + Arrays.toString(dims));
            long inferred = shape().size() / known;
            if (inferred > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("reshape: the -1 in " + Arrays.toString(dims) + " would be " + inferred + " for " + shape()
                        + ", more than a dimension can hold (2^31-1)");
            }
            d[infer] = (int) inferred;
        }
        Shape target = Shape.of(d);
        return target.equals(shape()) ? this : apply1(new Primitive.Reshape(target), this);
    }

    /** Keeps the first axis and flattens the rest: [n, 28, 28] becomes [n, 784]. */
    public Tensor flatten() { return shape().rank() == 2 ? this : reshape(shape().dim(0), -1); }

    public Tensor broadcastTo(int... dims) { return apply1(new Primitive.Broadcast(Shape.of(dims)), this); }

    public Tensor slice(int axis, int start, int end) { return apply1(new Primitive.Slice(axis(axis), start, end), this); }

    public static Tensor concat(int axis, Tensor... parts) { return apply(new Primitive.Concat(axis), parts).getFirst(); }

    /** Rows (or slices along {@code axis}) picked by integer {@code indices}. */
    public Tensor gather(int axis, Tensor indices) { return apply1(new Primitive.Gather(axis(axis)), this, indices); }

    // ---- composites ----

    /**
     * {@code F.one_hot}: these integer labels of any shape as a new last axis of {@code classes}, 1
     * at each label and 0 elsewhere, in {@code dtype}. A label outside {@code [0, classes)} gives a
     * row of zeros.
     */
    public Tensor oneHot(int classes, DType dtype) {
        if (dtype().isFloating() || dtype() == DType.BOOL) throw new IllegalArgumentException("oneHot needs integer labels, not " + type);
        if (classes < 1) throw new IllegalArgumentException("oneHot needs at least one class: " + classes);
        int[] d = java.util.Arrays.copyOf(shape().dims(), shape().rank() + 1);
        d[shape().rank()] = 1;
        int[] ids = new int[d.length];
        java.util.Arrays.fill(ids, 1);
        ids[ids.length - 1] = classes;
        Tensor classIds = sourceLike(this, new Primitive.Iota(ids.length - 1, new TensorType(dtype(), Shape.of(ids))));
        return reshape(d).eq(classIds).cast(dtype);
    }

    public Tensor softmax(int axis) { return apply1(new Composite.Softmax(axis(axis)), this); }

    public Tensor logSoftmax(int axis) { return apply1(new Composite.LogSoftmax(axis(axis)), this); }

    /** {@code act(this @ weight^T + bias)}, PyTorch's layout for weight [out, in]. */
    public Tensor linear(Tensor weight, Tensor bias, Composite.Activation act) { return apply1(new Composite.Linear(act), this, weight, bias); }

    /** Mean softmax cross-entropy of these logits [n, c] against integer labels [n]. */
    public Tensor softmaxCrossEntropy(Tensor labels) { return apply1(new Composite.SoftmaxCrossEntropy(), this, labels); }

    // ---- data ----

    public float[] toFloatArray() {
        Tensor t = cast(DType.F32);
        float[] out = new float[Math.toIntExact(shape().size())];
        t.download(MemorySegment.ofArray(out));
        return out;
    }

    public double[] toDoubleArray() {
        Tensor t = cast(DType.F64);
        double[] out = new double[Math.toIntExact(shape().size())];
        t.download(MemorySegment.ofArray(out));
        return out;
    }

    public int[] toIntArray() {
        Tensor t = cast(DType.I32);
        int[] out = new int[Math.toIntExact(shape().size())];
        t.download(MemorySegment.ofArray(out));
        return out;
    }

    /** The values as longs: exact for i64 tensors (counters), where a double loses integers past 2^53. */
    public long[] toLongArray() {
        Tensor t = cast(DType.I64);
        long[] out = new long[Math.toIntExact(shape().size())];
        t.download(MemorySegment.ofArray(out));
        return out;
    }

    /** The single value of a one-element tensor. */
    public double item() {
        if (shape().size() != 1) throw new IllegalArgumentException("item() needs one element, tensor has shape " + shape());
        return toDoubleArray()[0];
    }

    private void download(MemorySegment dst) {
        try (Held h = hold()) {
            kiln.download(h.buffer, dst);
        }
    }

    /**
     * Frees the memory now, or, if ops on other threads are still reading it, as soon as the last
     * of them ends. Using the tensor afterwards throws {@link IllegalStateException}. Idempotent.
     */
    @Override public void close() {
        Held h = (Held) HELD.getAndSet(this, (Held) null);
        if (h != null) h.close();
    }

    @Override public String toString() {
        if (isSymbolic()) return "Tensor(" + type + ", traced)";
        if (held == null) return "Tensor(" + type + ", closed)";
        if (shape().size() <= 16) {
            return "Tensor(" + type + ", " + (dtype().isFloating() ? Arrays.toString(toFloatArray()) : Arrays.toString(toIntArray())) + ")";
        }
        return "Tensor(" + type + ")";
    }

    // ---- plumbing shared with the rest of the API ----

    /** Whether {@link #close()} has freed this (concrete) tensor. */
    boolean isClosed() { return !isSymbolic() && held == null; }

    /**
     * The buffer, for code that holds it only while this tensor is known to stay open (tracing
     * captures it by owner; a compiled step reads it under a {@link #hold()}).
     */
    Buffer buffer() {
        if (isSymbolic()) throw new IllegalStateException("a traced tensor has no data until the compiled function runs");
        Held h = held;
        if (h == null) throw closed();
        return h.buffer;
    }

    /** Pins the data until the returned lease is closed, so a concurrent {@link #close()} cannot free it mid-use. */
    Held hold() {
        if (isSymbolic()) throw new IllegalStateException("a traced tensor has no data until the compiled function runs");
        for (;;) {
            Held h = held;
            if (h == null) throw closed();
            if (h.retain()) return h;
            // Lost a race with close(): the next read sees null.
        }
    }

    private IllegalStateException closed() { return new IllegalStateException("tensor " + type + " is closed"); }

    private static final java.lang.invoke.VarHandle HELD;

    static {
        try {
            HELD = java.lang.invoke.MethodHandles.lookup().findVarHandle(Tensor.class, "held", Held.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * A buffer with a reference count: the tensor holds one reference, each op in flight another.
     * The buffer is closed when the count drops to zero, and a count at zero never rises again.
     */
    static final class Held implements Lease {
        final Buffer buffer;
        private final AtomicInteger refs = new AtomicInteger(1);

        Held(Buffer buffer) { this.buffer = buffer; }

        boolean retain() {
            for (;;) {
                int n = refs.get();
                if (n == 0) return false;
                if (refs.compareAndSet(n, n + 1)) return true;
            }
        }

        @Override public Buffer buffer() { return buffer; }

        /** Drops one reference; the last one frees the buffer. */
        @Override public void close() {
            if (refs.decrementAndGet() == 0) buffer.close();
        }
    }

    Tracer tracer() { return tracer; }

    Value value() { return value; }

    TensorType type() { return type; }

    private Tensor unary(UnaryFn fn) { return apply1(new Primitive.Unary(fn), this); }

    private Tensor binary(BinaryFn fn, Tensor o) { return apply1(new Primitive.Binary(fn), this, o); }

    private Tensor reduce(Primitive.ReduceFn fn, List<Integer> axes, boolean keep) {
        return apply1(new Primitive.Reduce(fn, axes, keep), this);
    }

    /** A scalar of this tensor's dtype, on the same side (traced or eager). */
    private Tensor constant(double c) {
        return sourceLike(this, new Primitive.Fill(c, new TensorType(dtype(), Shape.scalar())));
    }

    private List<Integer> allAxes() {
        List<Integer> a = new ArrayList<>();
        for (int i = 0; i < shape().rank(); i++) a.add(i);
        return a;
    }

    private int axis(int a) {
        int r = shape().rank();
        int n = a < 0 ? a + r : a;
        if (n < 0 || n >= r) throw new IllegalArgumentException("axis " + a + " is out of range for shape " + shape());
        return n;
    }

    static Tensor source(Kiln kiln, Op op) { return run(kiln, null, op, List.of()).getFirst(); }

    private static Tensor sourceLike(Tensor like, Op op) { return run(like.kiln, like.tracer, op, List.of()).getFirst(); }

    /** Applies any IR op to tensors: the escape hatch below the named methods, as JAX's {@code bind}. */
    public static Tensor apply1(Op op, Tensor... in) { return apply(op, in).getFirst(); }

    /** Like {@link #apply1} for ops with several outputs. */
    public static List<Tensor> apply(Op op, Tensor... in) {
        if (in.length == 0) throw new IllegalArgumentException(op.opName() + " needs inputs");
        Kiln k = in[0].kiln;
        Tracer tr = null;
        for (Tensor t : in) {
            if (t.kiln != k) throw new IllegalArgumentException(op.opName() + ": tensors belong to different Kiln instances");
            if (t.tracer != null) {
                if (tr != null && tr != t.tracer) throw new IllegalStateException(op.opName() + ": tensors from two different traces");
                tr = t.tracer;
            }
        }
        return run(k, tr, op, List.of(in));
    }

    private static List<Tensor> run(Kiln k, Tracer tr, Op op, List<Tensor> in) {
        if (tr != null) {
            List<Value> vals = new ArrayList<>(in.size());
            for (Tensor t : in) vals.add(t.tracer == tr ? t.value : tr.capture(t, t.buffer()));
            List<Value> outs = tr.builder().apply(op, vals);
            List<Tensor> result = new ArrayList<>(outs.size());
            for (Value v : outs) result.add(symbolic(k, tr, v));
            return result;
        }
        Graph.Builder b = Graph.builder();
        List<Value> ins = new ArrayList<>(in.size());
        for (Tensor t : in) ins.add(b.input(t.type));
        List<Value> outs = b.apply(op, ins);
        GradientTape tape = k.activeTape();
        if (tape != null) tape.pin(in);
        List<Buffer> results = k.run(b.build(outs), in);
        List<Tensor> out = new ArrayList<>(results.size());
        for (Buffer r : results) out.add(wrap(k, r));
        if (tape != null) tape.record(op, in, out);
        return out;
    }
}
