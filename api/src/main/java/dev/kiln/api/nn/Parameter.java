package dev.kiln.api.nn;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import java.util.SplittableRandom;

/**
 * A trainable tensor, or a module buffer (non-trainable state such as BatchNorm's running
 * statistics, listed by {@link Module#namedBuffers()} and never given to an optimizer). It is
 * created on the host from its initializer the first time it is used with a {@link Kiln}, so
 * models can be built before any accelerator is open. Parameters are f32; a buffer may instead be
 * an i64 {@linkplain #counter() counter}, as BatchNorm's {@code num_batches_tracked}.
 */
public final class Parameter {
    /** Fills a new parameter's values. */
    @FunctionalInterface
    public interface Initializer {
        void fill(float[] values, SplittableRandom random);

        /** Uniform in [-bound, bound]: what PyTorch's Linear uses with bound 1/sqrt(fan_in). */
        static Initializer uniform(double bound) {
            return (v, r) -> {
                for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble(-bound, bound));
            };
        }

        /** Normal with mean 0 and standard deviation {@code std}: PyTorch's Embedding uses std 1. */
        static Initializer normal(double std) {
            return (v, r) -> {
                java.util.Random g = new java.util.Random(r.nextLong());
                for (int i = 0; i < v.length; i++) v[i] = (float) (g.nextGaussian() * std);
            };
        }

        static Initializer constant(double c) { return (v, r) -> java.util.Arrays.fill(v, (float) c); }
    }

    /**
     * The most values one parameter holds: parameters are initialised, read back and checkpointed
     * through one Java {@code float[]}, and this is the longest array every JVM allocates.
     */
    public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private final Shape shape;
    private final DType dtype;
    private final Initializer init;
    /** Read without a lock on the hot path (every training step reads it); written under the parameter's monitor. */
    private volatile Tensor value;

    /** @throws IllegalArgumentException when {@code shape} has more than {@link #MAX_ELEMENTS} elements */
    public Parameter(Shape shape, Initializer init) { this(shape, DType.F32, init); }

    private Parameter(Shape shape, DType dtype, Initializer init) {
        requireFits("parameter", shape.dims());
        this.shape = shape;
        this.dtype = dtype;
        this.init = init;
    }

    /**
     * An i64 scalar buffer starting at 0 that a layer counts in: exact however long training runs,
     * where an f32 count would stop at 2^24. Saved as i64, as PyTorch saves its counters.
     */
    static Parameter counter() { return new Parameter(Shape.scalar(), DType.I64, Initializer.constant(0)); }

    /**
     * Parameter {@code name} of {@code layer}, refused before its shape is even built when it is
     * too large, so the message names the layer and the parameter rather than only a shape.
     */
    static Parameter of(String layer, String name, Initializer init, int... dims) {
        requireFits(layer + ": " + name, dims);
        return new Parameter(Shape.of(dims), init);
    }

    private static void requireFits(String what, int[] dims) {
        // A double holds every product up to 2^53 exactly, so the comparison with the limit is exact.
        double count = 1;
        for (int d : dims) count *= d;
        if (count > MAX_ELEMENTS) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "%s %s has %.1e elements, more than a parameter can hold (%d: parameters live on the host as one Java float[])",
                    what, java.util.Arrays.toString(dims), count, MAX_ELEMENTS));
        }
    }

    public Shape shape() { return shape; }

    /** F32, or I64 for a {@linkplain #counter() counter}. */
    public DType dtype() { return dtype; }

    /** The current value on {@code kiln}, initialised (or copied from another Kiln) on first use. */
    public Tensor value(Kiln kiln) {
        Tensor v = value;
        if (v != null && v.kiln() == kiln) return v;
        return materialise(kiln);
    }

    /** Initialises once even when several threads ask at once: each would otherwise draw its own initial values. */
    private synchronized Tensor materialise(Kiln kiln) {
        if (value != null && value.kiln() == kiln) return value;
        if (dtype == DType.I64) {
            // Counters start from their initial value exactly; they draw no random numbers.
            value = kiln.tensor(value != null ? value.toLongArray() : longs(initial(null)), shape.dims());
            return value;
        }
        float[] data = value != null ? value.toFloatArray()
                : initial(new SplittableRandom(kiln.config().seed() * 1_000_003L + Seeds.next(kiln)));
        value = kiln.tensor(data, shape.dims());
        return value;
    }

    private float[] initial(SplittableRandom random) {
        float[] data = new float[Math.toIntExact(shape.size())];
        init.fill(data, random);
        return data;
    }

    private static long[] longs(float[] v) {
        long[] out = new long[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (long) v[i];
        return out;
    }

    private volatile boolean trainable = true;

    /** Whether optimizers update this parameter (PyTorch's {@code requires_grad}, Keras's {@code trainable}); true by default. */
    public boolean isTrainable() { return trainable; }

    /**
     * Freezes ({@code false}) or unfreezes the parameter: a frozen one gets no gradient in a
     * compiled step and no update, and its optimizer state stays as it was. The trainer recompiles
     * its step when the set of trainable parameters changes, so this may be called between fits or
     * from a callback.
     */
    public Parameter setTrainable(boolean trainable) {
        if (this.trainable != trainable) {
            this.trainable = trainable;
            TRAINABLE_CHANGES.incrementAndGet();
        }
        return this;
    }

    private static final java.util.concurrent.atomic.AtomicLong TRAINABLE_CHANGES = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Counts {@link #setTrainable} calls that changed a parameter, any parameter: a compiled step
     * reads it once per step, and looks at its own parameters only when it moved.
     */
    public static long trainableChanges() { return TRAINABLE_CHANGES.get(); }

    /** The value if it has been materialised, else null. */
    public Tensor current() { return value; }

    /** Makes {@code t} the new value (an optimizer step); frees the old value. */
    public synchronized void assign(Tensor t) {
        if (!t.shape().equals(shape)) throw new IllegalArgumentException("parameter " + shape + " cannot take a value of shape " + t.shape());
        if (t.dtype() != dtype) throw new IllegalArgumentException("parameter " + this + " cannot take a value of dtype " + t.dtype().label());
        if (t.isSymbolic()) throw new IllegalArgumentException("cannot assign a traced tensor to a parameter");
        Tensor old = value;
        value = t;
        if (old != null && old != t) old.close();
    }

    /** Replaces the values from host data (copying weights); a counter takes them rounded toward zero. */
    public synchronized void set(Kiln kiln, float[] data) {
        if (data.length != shape.size()) throw new IllegalArgumentException("parameter " + shape + " cannot take " + data.length + " values");
        value = dtype == DType.I64 ? kiln.tensor(longs(data), shape.dims()) : kiln.tensor(data, shape.dims());
    }

    @Override public String toString() { return "Parameter" + (dtype == DType.F32 ? "" : " " + dtype.label()) + shape; }
}
