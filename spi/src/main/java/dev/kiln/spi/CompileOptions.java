package dev.kiln.spi;

import dev.kiln.core.PrecisionPolicy;

/**
 * Options for {@link Accelerator#compile}. {@code fusion} may be switched off to measure what
 * fusion buys; the system property {@code kiln.fusion=false} sets the default for benchmarks.
 */
public record CompileOptions(boolean fusion, PrecisionPolicy precision) {
    public static CompileOptions defaults() {
        return new CompileOptions(!"false".equalsIgnoreCase(System.getProperty("kiln.fusion")), PrecisionPolicy.FP32);
    }

    public CompileOptions withFusion(boolean f) { return new CompileOptions(f, precision); }

    public CompileOptions withPrecision(PrecisionPolicy p) { return new CompileOptions(fusion, p); }
}
