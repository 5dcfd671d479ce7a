package dev.kiln.api.optim;

/**
 * A learning rate as a function of the optimizer step, as optax and Keras define schedules. The
 * trainer evaluates it on the host before every step and feeds the value to the compiled step as
 * an input, so a schedule never causes a recompilation. {@code step} counts the updates already
 * taken: the first update uses {@code at(0)}. Schedules compose: {@link #linearWarmup} and
 * {@link #then} build a warm-up followed by a cosine decay, say.
 *
 * <pre>{@code
 * optimizer.schedule(LrSchedule.linearWarmup(100, LrSchedule.cosine(1e-3, 900, 1e-5)));
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
     * Half a cosine from {@code lr} down to {@code minLr} over {@code steps} updates, then
     * {@code minLr}: PyTorch's {@code CosineAnnealingLR} with {@code T_max = steps}.
     */
    static LrSchedule cosine(double lr, long steps, double minLr) {
        positive(lr, "learning rate");
        if (steps <= 0) throw new IllegalArgumentException("cosine decay needs steps > 0, got " + steps);
        if (!(minLr >= 0 && minLr <= lr)) throw new IllegalArgumentException("cosine decay needs 0 <= minLr <= lr, got " + minLr);
        return step -> {
            if (step >= steps) return minLr;
            return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * step / steps));
        };
    }

    /**
     * Ramps linearly up to {@code after.at(0)} over {@code warmupSteps} updates
     * ({@code (step + 1) / warmupSteps} of it, so the first update already moves), then follows
     * {@code after} with its step counted from the end of the warm-up.
     */
    static LrSchedule linearWarmup(long warmupSteps, LrSchedule after) {
        if (warmupSteps < 0) throw new IllegalArgumentException("warm-up steps must be >= 0, got " + warmupSteps);
        double peak = after.at(0);
        LrSchedule ramp = step -> peak * (step + 1) / warmupSteps;
        return ramp.then(warmupSteps, after);
    }

    /** This schedule for the first {@code steps} updates, then {@code next} counted from 0 again. */
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
