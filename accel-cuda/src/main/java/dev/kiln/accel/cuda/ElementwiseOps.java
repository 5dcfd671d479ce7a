package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import java.util.List;

/** The bodies of the elementwise primitives and sources, as {@link MapKernel}s. */
final class ElementwiseOps {
    private ElementwiseOps() {}

    static MapKernel unary(UnaryFn fn, DType t) {
        String c = CudaTypes.compute(t);
        String body = switch (fn) {
            case NEG -> "r0 = -a0;";
            case EXP -> "r0 = " + CudaTypes.math(t, "exp") + "(a0);";
            case LOG -> "r0 = " + CudaTypes.math(t, "log") + "(a0);";
            case SQRT -> "r0 = " + CudaTypes.math(t, "sqrt") + "(a0);";
            case TANH -> "r0 = " + CudaTypes.math(t, "tanh") + "(a0);";
            case SIGMOID -> "r0 = (" + c + ") 1 / ((" + c + ") 1 + " + CudaTypes.math(t, "exp") + "(-a0));";
            case RELU -> "r0 = a0 > 0 ? a0 : (" + c + ") 0;";
            case ABS -> "r0 = " + CudaTypes.math(t, "fabs") + "(a0);";
            // UnaryFn.gelu: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
            case GELU -> "r0 = (" + c + ") 0.5 * a0 * ((" + c + ") 1 + " + CudaTypes.math(t, "tanh") + "((" + c + ") 0.7978845608028654 * (a0 + ("
                    + c + ") 0.044715 * a0 * a0 * a0)));";
            case ERF -> "r0 = " + CudaTypes.math(t, "erf") + "(a0);";
        };
        return new MapKernel("unary_" + fn.name().toLowerCase(java.util.Locale.ROOT) + "_" + t.label(), List.of(t), List.of(t), body);
    }

    static MapKernel binary(BinaryFn fn, DType t) {
        String body = switch (fn) {
            case ADD -> "r0 = a0 + a1;";
            case SUB -> "r0 = a0 - a1;";
            case MUL -> "r0 = a0 * a1;";
            case DIV -> "r0 = a0 / a1;";
            case MAX -> "r0 = a0 > a1 ? a0 : a1;";
            case MIN -> "r0 = a0 < a1 ? a0 : a1;";
            case POW -> t.isFloating() ? "r0 = " + CudaTypes.math(t, "pow") + "(a0, a1);"
                    : "r0 = (" + CudaTypes.compute(t) + ") pow((double) a0, (double) a1);";
            case EQ -> "r0 = a0 == a1;";
            case GT -> "r0 = a0 > a1;";
            case LT -> "r0 = a0 < a1;";
        };
        DType out = fn.isComparison() ? DType.BOOL : t;
        return new MapKernel("binary_" + fn.name().toLowerCase(java.util.Locale.ROOT) + "_" + t.label(), List.of(t, t), List.of(out), body);
    }

    static MapKernel where(DType t) {
        return new MapKernel("where_" + t.label(), List.of(DType.BOOL, t, t), List.of(t), "r0 = a0 ? a1 : a2;");
    }

    static MapKernel cast(DType from, DType to) {
        return new MapKernel("cast_" + from.label() + "_" + to.label(), List.of(from), List.of(to), "r0 = " + CudaTypes.convert(from, to, "a0") + ";");
    }

    /** Copies elements between views of one dtype: permute, broadcast, slice, concat. */
    static MapKernel copy(DType t) {
        return new MapKernel("copy_" + t.label(), List.of(t), List.of(t), "r0 = a0;");
    }

    /** The fill value arrives as {@code s0} and converts as a cast from f64 would. */
    static MapKernel fill(DType t) {
        return new MapKernel("fill_" + t.label(), List.of(), List.of(t), "r0 = " + CudaTypes.convert(DType.F64, t, "s0") + ";");
    }

    /** Element {@code i}'s coordinate on the axis is {@code (i / q0) % q1}: q0 the axis stride, q1 its size. */
    static MapKernel iota(DType t) {
        return new MapKernel("iota_" + t.label(), List.of(), List.of(t), "r0 = " + CudaTypes.convert(DType.I64, t, "(i / q0) % q1") + ";");
    }

    /** RandomUniform.sample, bit for bit: SplitMix64 of (seed, i), top 24 bits as a float in [0, 1). */
    static MapKernel randomUniform(DType t) {
        String body = """
                unsigned long long z = (unsigned long long) a0 * 0x9E3779B97F4A7C15ull + (unsigned long long) (i + 1) * 0xD1B54A32D192ED03ull;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
                z ^= z >> 31;
                float u = (float) (z >> 40) * 5.9604644775390625e-8f;
                r0 = %s;""".formatted(CudaTypes.convert(DType.F32, t, "u"));
        return new MapKernel("random_uniform_" + t.label(), List.of(DType.I64), List.of(t), body);
    }
}
