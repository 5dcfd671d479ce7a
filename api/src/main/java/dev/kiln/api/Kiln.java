package dev.kiln.api;

import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.core.Shape;
import dev.kiln.api.dist.ProcessGroup;
import dev.kiln.api.internal.Internal;
import dev.kiln.runtime.backend.Backends;
import dev.kiln.runtime.backend.ProviderStatus;
import dev.kiln.runtime.dist.GuardedCollectives;
import dev.kiln.runtime.exec.GraphCompiler;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A Kiln instance: owns one accelerator, its memory and compiled code. Open one, use it, close
 * it; several may live in one JVM.
 *
 * <pre>{@code
 * try (Kiln kiln = Kiln.open()) {
 *     Tensor x = kiln.tensor(new float[] {1, 2, 3}, 3);
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> A {@code Kiln} may be used from any number of threads at once, as PyTorch's
 * eager ops may: eager ops, {@link GradientTape}s (each confined to the thread that opened it)
 * and several {@link dev.kiln.api.train.Trainer}s run concurrently, each with the result it
 * would have alone. Compiled code is confined to one thread at a time underneath, so the same
 * eager op from two threads takes turns while different ops run in parallel. {@link #close()}
 * may be called from any thread: it refuses new work at once, waits for the accelerator calls
 * in flight (one eager op, one training step, one transfer — not a whole {@code fit}) and then
 * frees everything; the work that was refused, and a {@code fit} whose next step was, throws
 * {@link IllegalStateException} saying the Kiln is closed. Closed from inside such work (a
 * callback), it frees when that work returns.
 */
public final class Kiln implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Kiln.class.getName());
    private final String backend;
    private final Accelerator accelerator;
    private final GraphCompiler compiler;
    private final KilnConfig config;
    private final PrecisionPolicy precision;
    // Counter-based so that its whole state is (seed, position) and can be saved in a checkpoint.
    private long randomSeed;
    private long randomPosition;
    private final ThreadLocal<Deque<GradientTape>> tapes = ThreadLocal.withInitial(ArrayDeque::new);
    /** Read-held by every accelerator call in flight; {@link #close()} takes it exclusively to free. */
    private final ReentrantReadWriteLock inFlight = new ReentrantReadWriteLock();
    private volatile boolean closed;
    /** Set when close() was called by a thread with work in flight: the last call to end frees. */
    private volatile boolean freeWhenIdle;
    private boolean freed;
    /** Null unless opened with a process group of more than one rank. */
    private GuardedCollectives collectives;

    private Kiln(String backend, Accelerator accelerator, KilnConfig config, PrecisionPolicy precision) {
        this.precision = precision;
        this.backend = backend;
        this.accelerator = accelerator;
        this.config = config;
        this.randomSeed = config.seed();
        this.compiler = new GraphCompiler(accelerator, CompileOptions.defaults().withFusion(config.fusion()).withPrecision(precision));
    }

    /** Opens the best available accelerator, or the one {@code kiln.backend} / {@code KILN_BACKEND} names. */
    public static Kiln open() { return open(KilnConfig.defaults()); }

    public static Kiln open(KilnConfig config) {
        ProviderStatus chosen = Backends.select(config.backend());
        Accelerator acc = chosen.provider().open(new AcceleratorConfig(0, config.threads()));
        PrecisionPolicy policy;
        GuardedCollectives group = null;
        try {
            Set<PrecisionPolicy> supported = acc.capabilities().precisions();
            policy = config.precision() instanceof Precision.Auto
                    ? config.precision().resolve(chosen.name(), supported, acc.fastestPrecisions())
                    : config.precision().resolve(chosen.name(), supported);
            ProcessGroup pg = config.processGroup();
            if (pg != null && pg.worldSize() > 1) group = Internal.groups().join(pg, acc);
        } catch (RuntimeException e) {
            acc.close();
            throw e;
        }
        Kiln k = new Kiln(chosen.name(), acc, config, policy);
        k.collectives = group;
        if (group != null) {
            LOG.log(System.Logger.Level.INFO, "rank {0} of {1}: collectives over {2}, timeout {3}", config.processGroup().rank(), config.processGroup().worldSize(),
                    group.transport(), group.timeout());
        }
        return k;
    }

    /** Every accelerator plugin on the class path or module path with its availability and the reason, its version, vendor and jar. */
    public static List<ProviderInfo> providers() {
        List<ProviderInfo> out = new ArrayList<>();
        for (ProviderStatus s : Backends.discover()) {
            out.add(new ProviderInfo(s.name(), s.priority(), s.available(), s.availability().reason(), s.version(), s.vendor(), s.location()));
        }
        return out;
    }

    /** The name of the plugin this instance runs on. */
    public String backend() { return backend; }

    public KilnConfig config() { return config; }

    /** The precision policy compiled code runs in, {@link Precision#auto()} resolved. */
    public PrecisionPolicy precision() { return precision; }

    /** A tensor holding a copy of {@code data}, row-major. */
    public Tensor tensor(float[] data, int... shape) {
        Shape s = checkSize(data.length, shape);
        return Tensor.wrap(this, upload(new TensorType(DType.F32, s), MemorySegment.ofArray(data)));
    }

    public Tensor tensor(double[] data, int... shape) {
        Shape s = checkSize(data.length, shape);
        return Tensor.wrap(this, upload(new TensorType(DType.F64, s), MemorySegment.ofArray(data)));
    }

    public Tensor tensor(int[] data, int... shape) {
        Shape s = checkSize(data.length, shape);
        return Tensor.wrap(this, upload(new TensorType(DType.I32, s), MemorySegment.ofArray(data)));
    }

    public Tensor tensor(long[] data, int... shape) {
        Shape s = checkSize(data.length, shape);
        return Tensor.wrap(this, upload(new TensorType(DType.I64, s), MemorySegment.ofArray(data)));
    }

    /** A scalar f32 tensor. */
    public Tensor scalar(double value) { return tensor(new float[] {(float) value}); }

    public Tensor zeros(int... shape) { return full(0, shape); }

    public Tensor full(double value, int... shape) {
        return Tensor.source(this, new dev.kiln.spi.ir.Primitive.Fill(value, new TensorType(DType.F32, Shape.of(shape))));
    }

    /** Opens a tape that records eager ops on this thread until closed; see {@link GradientTape}. */
    /**
     * {@code fn} traced once per input signature and compiled into one graph (JAX's {@code jit},
     * {@code torch.compile}), for inference, metrics or any pure tensor function called often. The
     * parameters of {@code modules} are read afresh on every call, so training between calls needs
     * no retrace. See {@link CompiledFunction} for what the function may do.
     */
    public CompiledFunction compile(java.util.function.Function<List<Tensor>, List<Tensor>> fn, dev.kiln.api.nn.Module... modules) {
        checkOpen();
        return new CompiledFunction(this, java.util.Objects.requireNonNull(fn, "fn"), List.of(modules));
    }

    public GradientTape tape() {
        checkOpen();
        GradientTape t = new GradientTape(this);
        tapes.get().push(t);
        return t;
    }

    void tapeClosed(GradientTape t) { tapes.get().remove(t); }

    GradientTape activeTape() {
        Deque<GradientTape> d = tapes.get();
        return d.isEmpty() ? null : d.peek();
    }

    Buffer upload(TensorType type, MemorySegment host) {
        enter();
        try {
            return accelerator.upload(type, host);
        } finally {
            exit();
        }
    }

    Buffer uploadConstant(TensorType type, MemorySegment host) {
        enter();
        try {
            return accelerator.uploadConstant(type, host);
        } finally {
            exit();
        }
    }

    void download(Buffer b, MemorySegment host) {
        enter();
        try {
            accelerator.download(b, host);
        } finally {
            exit();
        }
    }

    /** Runs {@code g} eagerly on the tensors' data, pinned for the call; returns fresh buffers. */
    List<Buffer> run(Graph g, List<Tensor> in) {
        Tensor.Held[] held = new Tensor.Held[in.size()];
        enter();
        try {
            List<Buffer> bufs = new ArrayList<>(in.size());
            for (int i = 0; i < held.length; i++) {
                held[i] = in.get(i).hold();
                bufs.add(held[i].buffer);
            }
            return compiler.run(g, bufs);
        } finally {
            for (Tensor.Held h : held) if (h != null) h.close();
            exit();
        }
    }

    /** As {@link #run} on data the caller has pinned and keeps pinned for the call (a tape's recorded inputs). */
    List<Buffer> runPinned(Graph g, List<Buffer> in) {
        enter();
        try {
            return compiler.run(g, in);
        } finally {
            exit();
        }
    }

    GuardedCollectives collectives() { return collectives; }

    /** For code that runs between {@link #enter()} and {@link #exit()}. */
    Accelerator accelerator() {
        checkOpen();
        return accelerator;
    }

    GraphCompiler compiler() {
        checkOpen();
        return compiler;
    }

    /** Starts an accelerator call; throws if this Kiln is closed. Pair with {@link #exit()}. */
    void enter() {
        inFlight.readLock().lock();
        if (closed) {
            exit();
            throw closedException();
        }
    }

    void exit() {
        inFlight.readLock().unlock();
        if (freeWhenIdle && inFlight.getReadHoldCount() == 0 && inFlight.writeLock().tryLock()) {
            try {
                free();
            } finally {
                inFlight.writeLock().unlock();
            }
        }
    }

    /**
     * Deterministic randomness for initialisation and dropout, seeded from the config: the same
     * values {@code new SplittableRandom(seed).nextLong()} would give, but computed from a counter.
     */
    synchronized long nextSeed() { return SeedStream.at(randomSeed, randomPosition++); }

    /** The random stream's state, to save in a checkpoint. */
    public synchronized RngState rngState() { return new RngState(randomSeed, randomPosition); }

    /** Puts the random stream back where {@link #rngState()} found it. */
    public synchronized void restoreRngState(RngState state) {
        randomSeed = state.seed();
        randomPosition = state.position();
    }

    void checkOpen() {
        if (closed) throw closedException();
    }

    private IllegalStateException closedException() {
        return new IllegalStateException("this Kiln (" + backend + ") is closed");
    }

    /**
     * Refuses new work, waits for the accelerator calls in flight on other threads, then frees the
     * accelerator, its memory and compiled code. Idempotent; safe from any thread.
     */
    @Override public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        if (inFlight.getReadHoldCount() > 0) { // called from inside our own work: free when it ends
            freeWhenIdle = true;
            return;
        }
        inFlight.writeLock().lock();
        try {
            free();
        } finally {
            inFlight.writeLock().unlock();
        }
    }

    /** Runs with the write lock held, so no accelerator call is in flight. */
    private void free() {
        if (freed) return;
        freed = true;
        if (collectives != null) {
            collectives.close();
            if (collectives.stuck()) {
                // A native collective may still write into this accelerator's memory: freeing it could crash the JVM.
                LOG.log(System.Logger.Level.WARNING, "{0}: a collective never returned, so the accelerator''s memory is kept, not freed", collectives);
                return;
            }
        }
        try {
            compiler.close();
        } finally {
            accelerator.close();
        }
    }

    @Override public String toString() { return "Kiln[" + backend + "]"; }

    private static Shape checkSize(int length, int[] shape) {
        Shape s = Shape.of(shape);
        if (s.size() != length) throw new IllegalArgumentException("data has " + length + " elements but shape " + s + " needs " + s.size());
        return s;
    }
}
