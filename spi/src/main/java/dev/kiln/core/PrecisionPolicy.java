package dev.kiln.core;

/**
 * How a training step trades precision for speed: the compute dtype of matmuls and
 * convolutions, the master dtype of parameters, and whether the loss is scaled.
 * Reductions, softmax and losses always stay in fp32.
 */
public enum PrecisionPolicy {
    FP32("fp32", DType.F32, false),
    TF32("tf32", DType.F32, false),
    BF16_MIXED("bf16-mixed", DType.BF16, false),
    FP16_MIXED("fp16-mixed", DType.F16, true);

    private final String label;
    private final DType compute;
    private final boolean lossScaling;

    PrecisionPolicy(String label, DType compute, boolean lossScaling) {
        this.label = label;
        this.compute = compute;
        this.lossScaling = lossScaling;
    }

    public String label() { return label; }

    public DType computeType() { return compute; }

    public DType masterType() { return DType.F32; }

    public boolean lossScaling() { return lossScaling; }

    public static PrecisionPolicy forLabel(String label) {
        for (PrecisionPolicy p : values()) if (p.label.equalsIgnoreCase(label)) return p;
        throw new IllegalArgumentException("unknown precision policy '" + label + "'; known: fp32, tf32, bf16-mixed, fp16-mixed");
    }
}
