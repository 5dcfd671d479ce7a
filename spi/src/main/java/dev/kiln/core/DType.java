package dev.kiln.core;

/** Element types a tensor can hold. Sizes are in bytes. */
public enum DType {
    F32(4, true), F64(8, true), BF16(2, true), F16(2, true),
    I32(4, false), I64(8, false), I8(1, false), BOOL(1, false);

    private final int byteSize;
    private final boolean floating;

    DType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    public int byteSize() { return byteSize; }

    public boolean isFloating() { return floating; }

    /** Lower-case name as users write it: {@code f32}, {@code bf16}, {@code bool}. */
    public String label() { return name().toLowerCase(java.util.Locale.ROOT); }
}
