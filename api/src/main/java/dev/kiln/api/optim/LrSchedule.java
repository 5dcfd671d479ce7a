package dev.kiln.api.optim;

/**
 * A learning rate as a function of the optimizer step, as optax and Keras define schedules. The
 * trainer evaluates it on the host before every step and feeds the value to the compiled step as
 * an input, so a schedule never causes a recompilation. {@code step} counts the updates already
 * taken: the first update uses {@code at(0)}, as PyTorch's schedulers give the rate after
 * {@code step} calls of {@code scheduler.step()}. Schedules compose: {@link #linearWarmup} and
 * {@link #then} build a warm-up followed by a cosine decay, say. {@link #linear},
 * {@link #cosine} and {@link #then} are PyTorch's {@code LinearLR}, {@code CosineAnnealingLR}
 * and {@code SequentialLR}, value for value.
 *
 * <pre>{@code
 * optimizer.schedule(LrSchedule.linearWarmup(100, LrSchedule.cosine(1e-3, 900, 1e-5)));
 * // the same recipe as PyTorch writes it: from 1e-4 up to 1e-3 over 100 updates
 * optimizer.schedule(LrSchedule.linear(1e-3, 0.1, 1, 100).then(100, LrSchedule.cosine(1e-3, 900, 1e-5)));
 * }</pre>
 */
@FunctionalInterface
public interface LrSchedule {
    /** The learning rate of the update that follows {@code step} completed updates. */
    double at(long step);

    static LrSchedule constant(double lr) {
        positive(lr, "learning rate");
        return step -> lr;
    }

    /** {@code lr * gamma^floor(step / stepSize)}: PyTorch's {@code StepLR} counted in updates. */
    static LrSchedule stepDecay(double lr, long stepSize, double gamma) {
        positive(lr, "learning rate");
        if (stepSize <= 0) throw new IllegalArgumentException("step decay needs stepSize > 0, got " + stepSize);
        if (!(gamma > 0 && gamma <= 1)) throw new IllegalArgumentException("step decay needs gamma in (0, 1], got " + gamma);
        return step -> lr * Math.pow(gamma, Math.floorDiv(step, stepSize));
    }

    /** {@code lr * gamma^step}: PyTorch's {@code ExponentialLR} counted in updates. */
    static LrSchedule exponential(double lr, double gamma) {
        positive(lr, "learning rate");
        if (!(gamma > 0 && gamma <= 1)) throw new IllegalArgumentException("exponential decay needs gamma in (0, 1], got " + gamma);
        return step -> lr * Math.pow(gamma, step);
    }

    /** {@code lr} times {@code gamma} once for every milestone passed: PyTorch's {@code MultiStepLR}. */
    static LrSchedule multiStep(double lr, long[] milestones, double gamma) {
        positive(lr, "learning rate");
        if (!(gamma > 0 && gamma <= 1)) throw new IllegalArgumentException("multi-step decay needs gamma in (0, 1], got " + gamma);
        long[] m = milestones.clone();
        for (int i = 1; i < m.length; i++) {
            if (m[i] <= m[i - 1]) throw new IllegalArgumentException("milestones must increase, got " + java.util.Arrays.toString(milestones));
        }
        return step -> {
            int passed = 0;
            while (passed < m.length && step >= m[passed]) passed++;
            return lr * Math.pow(gamma, passed);
        };
    }

    /**
     * Half a cosine from {@code lr} down to {@code minLr} over {@code steps} updates: PyTorch's
     * {@code CosineAnnealingLR} with {@code T_max = steps}, by its closed form
     * {@code minLr + (lr - minLr) * (1 + cos(pi * step / steps)) / 2}. Like PyTorch's, it does not
     * stop at {@code minLr}: past {@code steps} it climbs back to {@code lr} at {@code 2 * steps}
     * and repeats. To hold the minimum instead, follow it with a constant:
     * {@code cosine(lr, steps, minLr).then(steps, step -> minLr)}.
     */
    static LrSchedule cosine(double lr, long steps, double minLr) {
        positive(lr, "learning rate");
        if (steps <= 0) throw new IllegalArgumentException("cosine decay needs steps > 0, got " + steps);
        if (!(minLr >= 0 && minLr <= lr)) throw new IllegalArgumentException("cosine decay needs 0 <= minLr <= lr, got " + minLr);
        // PyTorch steps through a recursive form that agrees with this one to a few 1e-15 (see lr_schedules.safetensors).
        return step -> minLr + (lr - minLr) * (1 + Math.cos(Math.PI * step / steps)) / 2;
    }

    /**
     * {@code lr} times a factor going linearly from {@code startFactor} at step 0 to
     * {@code endFactor} at step {@code totalIters}, then {@code endFactor}: PyTorch's
     * {@code LinearLR} (its closed form), whose warm-up starts at {@code lr * startFactor}. With
     * {@link #then} it is the first half of PyTorch's {@code SequentialLR} warm-up recipe.
     */
    static LrSchedule linear(double lr, double startFactor, double endFactor, long totalIters) {
        positive(lr, "learning rate");
        if (!(startFactor > 0 && startFactor <= 1)) throw new IllegalArgumentException("linear schedule needs startFactor in (0, 1], got " + startFactor);
        if (!(endFactor >= 0 && endFactor <= 1)) throw new IllegalArgumentException("linear schedule needs endFactor in [0, 1], got " + endFactor);
        if (totalIters <= 0) throw new IllegalArgumentException("linear schedule needs totalIters > 0, got " + totalIters);
        return step -> lr * (startFactor + (endFactor - startFactor) * Math.min(step, totalIters) / totalIters);
    }

    /**
     * Ramps linearly up to {@code after.at(0)} over {@code warmupSteps} updates
     * ({@code (step + 1) / warmupSteps} of it, so the first update already moves), then follows
     * {@code after} with its step counted from the end of the warm-up. PyTorch's {@code LinearLR}
     * ramps differently, from {@code startFactor} of the rate at the first update to all of it
     * at update {@code totalIters}: that is {@link #linear}.
     */
    static LrSchedule linearWarmup(long warmupSteps, LrSchedule after) {
        if (warmupSteps < 0) throw new IllegalArgumentException("warm-up steps must be >= 0, got " + warmupSteps);
        double peak = after.at(0);
        LrSchedule ramp = step -> peak * (step + 1) / warmupSteps;
        return ramp.then(warmupSteps, after);
    }

    /**
     * This schedule for the first {@code steps} updates, then {@code next} counted from 0 again:
     * PyTorch's {@code SequentialLR} with one milestone at {@code steps}, which also restarts the
     * next scheduler at its step 0.
     */
    default LrSchedule then(long steps, LrSchedule next) {
        if (steps < 0) throw new IllegalArgumentException("schedule boundary must be >= 0, got " + steps);
        LrSchedule first = this;
        return step -> step < steps ? first.at(step) : next.at(step - steps);
    }

    /** This schedule with every value multiplied by {@code factor}. */
    default LrSchedule scaled(double factor) {
        positive(factor, "scale factor");
        LrSchedule base = this;
        return step -> base.at(step) * factor;
    }

    private static void positive(double v, String what) {
        if (!(v > 0) || Double.isInfinite(v)) throw new IllegalArgumentException(what + " must be positive and finite, got " + v);
    }
}
