package dev.kiln.accel.cuda;

import dev.kiln.core.DType;

/**
 * How each Kiln dtype looks in generated CUDA C: its storage type, the type arithmetic happens in
 * (half types compute in float and round once when stored, as cuBLAS and PyTorch do), and the
 * conversions between them. The prelude is header-free: bf16 and f16 are raw 16-bit words
 * converted with bit operations and PTX {@code cvt}, so NVRTC needs no include path.
 */
final class CudaTypes {
    private CudaTypes() {}

    static final String PRELUDE = """
            struct Dims { long long d[8]; };
            __device__ __forceinline__ float bf2f(unsigned short v) { return __uint_as_float(((unsigned int) v) << 16); }
            __device__ __forceinline__ unsigned short f2bf(float f) {
                unsigned int u = __float_as_uint(f);
                if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short) ((u >> 16) | 0x40u);
                u += 0x7fffu + ((u >> 16) & 1u);
                return (unsigned short) (u >> 16);
            }
            __device__ __forceinline__ float h2f(unsigned short v) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(v)); return f; }
            __device__ __forceinline__ unsigned short f2h(float f) { unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
            """;

    /** The C type elements are stored as. */
    static String storage(DType t) {
        return switch (t) {
            case F32 -> "float";
            case F64 -> "double";
            case BF16, F16 -> "unsigned short";
            case I32 -> "int";
            case I64 -> "long long";
            case I8 -> "signed char";
            case BOOL -> "unsigned char";
        };
    }

    /** Bytes of one value of the compute type: partial sums and statistics are kept in it. */
    static long computeBytes(DType t) { return compute(t).equals("float") || compute(t).equals("int") ? 4 : 8; }

    /** The C type arithmetic on elements happens in. */
    static String compute(DType t) {
        return switch (t) {
            case F32, BF16, F16 -> "float";
            case F64 -> "double";
            case I64 -> "long long";
            case I32, I8, BOOL -> "int";
        };
    }

    /** {@code expr} (a stored element) as the compute type. */
    static String load(DType t, String expr) {
        return switch (t) {
            case BF16 -> "bf2f(" + expr + ")";
            case F16 -> "h2f(" + expr + ")";
            case I8, BOOL -> "((int) " + expr + ")";
            default -> expr;
        };
    }

    /** {@code expr} (of the compute type) as a stored element: rounds half types to nearest even. */
    static String store(DType t, String expr) {
        return switch (t) {
            case BF16 -> "f2bf(" + expr + ")";
            case F16 -> "f2h(" + expr + ")";
            case I8 -> "((signed char) (" + expr + "))";
            case BOOL -> "((unsigned char) ((" + expr + ") != 0))";
            default -> expr;
        };
    }

    /**
     * {@code expr} of {@code from}'s compute type converted to {@code to}'s compute type with
     * {@code Cast}'s meaning: floats to integers truncate toward zero then wrap (through a 64-bit
     * integer, as Java's {@code (int) (long) x}); anything to bool is {@code != 0}; a double
     * narrows to a half type through float, as the reference does.
     */
    static String convert(DType from, DType to, String expr) {
        if (to == DType.BOOL) return "((int) ((" + expr + ") != 0))";
        if (to.isFloating()) return "((" + compute(to) + ") (" + expr + "))";
        String wide = from.isFloating() ? "((long long) (" + expr + "))" : "((long long) (" + expr + "))";
        return switch (to) {
            case I64 -> wide;
            case I32 -> "((int) " + wide + ")";
            case I8 -> "((int) (signed char) " + wide + ")";
            default -> throw new IllegalArgumentException("no conversion to " + to);
        };
    }

    /** The C math function for {@code f} on the compute type of {@code t}: {@code expf} for float, {@code exp} for double. */
    static String math(DType t, String f) { return compute(t).equals("float") ? f + "f" : f; }
}
