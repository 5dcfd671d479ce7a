package dev.kiln.api.train;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.api.internal.Internal;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Trainer}'s {@link LossScaling}: its state and the graph section that updates it. The
 * state lives in float32 scalars on the accelerator, donated to and rewritten by the compiled step
 * like optimizer state, so the host never reads it during training.
 */
final class LossScaler implements AutoCloseable {
    /**
     * The state, in buffer order; checkpoints store it as {@code scaler.<name>}. PyTorch's
     * {@code GradScaler} calls the first two {@code scale} and {@code _growth_tracker}.
     */
    static final List<String> STATE = List.of("scale", "good_steps", "skipped_steps");
    static final int SCALE = 0, GOOD_STEPS = 1, SKIPPED_STEPS = 2;
    static final TensorType F32_SCALAR = new TensorType(DType.F32, Shape.scalar());

    private final Kiln kiln;
    final LossScaling config;
    private Buffer[] state;

    LossScaler(Kiln kiln, LossScaling config) {
        this.kiln = kiln;
        this.config = config;
    }

    /** The state buffers, made at the initial scale on first use. */
    Buffer[] state() {
        if (state == null) set(new double[] {config.initialScale(), 0, 0});
        return state;
    }

    /** The state values ({@link #STATE} order), read back from the accelerator. */
    double[] values() {
        double[] v = new double[STATE.size()];
        float[] host = new float[1];
        for (int i = 0; i < v.length; i++) {
            Internal.access().download(kiln, state()[i], MemorySegment.ofArray(host));
            v[i] = host[0];
        }
        return v;
    }

    /** Replaces the state, as a checkpoint restores it. */
    void set(double[] values) { replace(upload(values)); }

    /** Buffers holding {@code values} ({@link #STATE} order), not yet the state: a restore uploads before it changes anything. */
    Buffer[] upload(double[] values) {
        Buffer[] b = new Buffer[STATE.size()];
        try {
            for (int i = 0; i < b.length; i++) {
                b[i] = Internal.access().upload(kiln, F32_SCALAR, MemorySegment.ofArray(new float[] {(float) values[i]}));
            }
        } catch (RuntimeException | Error e) {
            for (Buffer x : b) if (x != null) x.close();
            throw e;
        }
        return b;
    }

    /** Makes buffers from {@link #upload} the state. */
    void replace(Buffer[] uploaded) {
        close();
        state = uploaded;
    }

    /** The unscaled gradients, whether all are finite (a bool scalar), and the next state ({@link #STATE} order). */
    record Unscaled(List<Tensor> grads, Tensor finite, List<Tensor> nextState) {}

    /**
     * Traced: divides the gradients of the scaled loss by the scale, checks them all for inf and
     * NaN at once, and steps the state as PyTorch's {@code _amp_update_scale_} does.
     */
    Unscaled unscale(List<Tensor> scaledGrads, Tensor scale, Tensor goodSteps, Tensor skippedSteps) {
        Tensor inverse = scale.scalarLike(1).div(scale); // exact for the power-of-two scales of the defaults
        List<Tensor> grads = new ArrayList<>(scaledGrads.size());
        // g * 0 is 0 for every finite g and NaN for inf and NaN, so one sum flags any bad element anywhere.
        Tensor poison = null;
        for (Tensor g : scaledGrads) {
            Tensor u = g.mul(inverse);
            grads.add(u);
            Tensor p = u.mul(0).sum();
            poison = poison == null ? p : poison.add(p);
        }
        Tensor finite = poison.eq(poison.scalarLike(0));

        Tensor zero = goodSteps.scalarLike(0);
        Tensor counted = finite.where(goodSteps.add(1), zero);
        Tensor waiting = counted.lt(config.growthInterval());
        Tensor grown = scale.mul(config.growthFactor());
        grown = grown.mul(0).eq(zero).where(grown, scale); // never grow into infinity, as PyTorch
        Tensor nextScale = finite.where(waiting.where(scale, grown), scale.mul(config.backoffFactor()));
        Tensor nextGood = waiting.where(counted, zero);
        Tensor nextSkipped = finite.where(skippedSteps, skippedSteps.add(1));
        return new Unscaled(grads, finite, List.of(nextScale, nextGood, nextSkipped));
    }

    @Override public void close() {
        if (state != null) for (Buffer b : state) b.close();
        state = null;
    }
}
