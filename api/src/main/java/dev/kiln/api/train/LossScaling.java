package dev.kiln.api.train;

/**
 * Dynamic loss scaling for fp16 training, as PyTorch's {@code GradScaler}: the loss is multiplied
 * by {@code scale} before backward so small fp16 gradients do not flush to zero, and the
 * gradients are divided by it again before clipping and the update. A step whose gradients hold
 * an inf or NaN is skipped (parameters and optimizer state keep their values) and the scale is
 * multiplied by {@code backoffFactor}; after {@code growthInterval} finite steps in a row it is
 * multiplied by {@code growthFactor}. All of it runs inside the compiled step, so no step waits
 * for the host.
 *
 * <p>A {@link Trainer} turns it on by itself when the Kiln's precision policy asks for it
 * (fp16-mixed); {@link Trainer.Builder#lossScaling} turns it on for any policy or changes the settings.
 */
public record LossScaling(double initialScale, double growthFactor, double backoffFactor, int growthInterval) {
    /** The scale and the finite-step count live in float32, which counts exactly up to 2^24. */
    private static final int MAX_INTERVAL = 1 << 24;

    public LossScaling {
        if (!(initialScale > 0) || Float.isInfinite((float) initialScale)) {
            throw new IllegalArgumentException("initial loss scale must be positive and finite in float32, got " + initialScale);
        }
        if (!(growthFactor > 1) || Double.isInfinite(growthFactor)) {
            throw new IllegalArgumentException("loss-scale growth factor must be finite and > 1, got " + growthFactor);
        }
        if (!(backoffFactor > 0 && backoffFactor < 1)) {
            throw new IllegalArgumentException("loss-scale backoff factor must be in (0, 1), got " + backoffFactor);
        }
        if (growthInterval < 1 || growthInterval > MAX_INTERVAL) {
            throw new IllegalArgumentException("loss-scale growth interval must be in [1, " + MAX_INTERVAL + "] steps, got " + growthInterval);
        }
    }

    /** PyTorch's defaults: scale 2^16, doubled after 2000 finite steps, halved on an overflow. */
    public static LossScaling dynamic() { return new LossScaling(65536, 2.0, 0.5, 2000); }

    public LossScaling withInitialScale(double scale) { return new LossScaling(scale, growthFactor, backoffFactor, growthInterval); }

    public LossScaling withGrowthInterval(int steps) { return new LossScaling(initialScale, growthFactor, backoffFactor, steps); }

    public LossScaling withFactors(double growth, double backoff) { return new LossScaling(initialScale, growth, backoff, growthInterval); }
}
