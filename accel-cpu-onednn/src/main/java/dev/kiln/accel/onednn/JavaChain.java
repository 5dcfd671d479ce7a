package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@link FusedOps.Chain}: the expression is flattened once into register steps, then each
 * block of the output is loaded, evaluated step by step over float arrays (loops the JIT
 * vectorises) and stored, so a chain of k primitives reads and writes memory once instead of k
 * times and costs one call instead of k. Scratch is allocated with the kernel, never per run.
 */
final class JavaChain implements Kernel {
    private static final int BLOCK = 1024;

    /** One step: {@code reg[dst] = op(reg[a], reg[b])}; a load step reads input {@code a}. */
    private record Step(int kind, UnaryFn un, BinaryFn bin, int a, int b, int dst) {}

    private static final int LOAD = 0, UNARY = 1, BINARY = 2;

    private final List<Step> steps = new ArrayList<>();
    private final float[][] reg;
    private final ChainExpr.Layout[] layouts;
    private final DType[] dtypes;
    private final long size;
    private final int cols;
    private final boolean columnSums;
    private final double[] sums;
    private final byte[] bytes = new byte[BLOCK];
    private final int result;

    JavaChain(FusedOps.Chain op, List<DType> inputTypes) {
        this.layouts = op.layouts().toArray(ChainExpr.Layout[]::new);
        this.dtypes = inputTypes.toArray(DType[]::new);
        this.size = op.out().shape().size();
        this.cols = op.out().shape().rank() == 0 ? 1 : op.out().shape().dim(-1);
        this.columnSums = op.sums() != null;
        this.sums = columnSums ? new double[cols] : null;
        List<float[]> regs = new ArrayList<>();
        this.result = flatten(op.expr(), regs);
        this.reg = regs.toArray(float[][]::new);
    }

    private int flatten(ChainExpr e, List<float[]> regs) {
        return switch (e) {
            case ChainExpr.Const c -> {
                float[] r = new float[BLOCK];
                java.util.Arrays.fill(r, c.value());
                regs.add(r);
                yield regs.size() - 1;
            }
            case ChainExpr.In in -> {
                regs.add(new float[BLOCK]);
                steps.add(new Step(LOAD, null, null, in.index(), 0, regs.size() - 1));
                yield regs.size() - 1;
            }
            case ChainExpr.Un u -> {
                int a = flatten(u.x(), regs);
                regs.add(new float[BLOCK]);
                steps.add(new Step(UNARY, u.fn(), null, a, 0, regs.size() - 1));
                yield regs.size() - 1;
            }
            case ChainExpr.Bin b -> {
                int a = flatten(b.a(), regs), c = flatten(b.b(), regs);
                regs.add(new float[BLOCK]);
                steps.add(new Step(BINARY, null, b.fn(), a, c, regs.size() - 1));
                yield regs.size() - 1;
            }
        };
    }

    @Override public void run(MemorySegment[] in, MemorySegment[] out) {
        if (columnSums) java.util.Arrays.fill(sums, 0);
        for (long i = 0; i < size; i += BLOCK) {
            int m = (int) Math.min(BLOCK, size - i);
            for (Step s : steps) {
                float[] d = reg[s.dst()];
                switch (s.kind()) {
                    case LOAD -> load(in[s.a()], s.a(), i, d, m);
                    case UNARY -> unary(s.un(), reg[s.a()], d, m);
                    default -> binary(s.bin(), reg[s.a()], reg[s.b()], d, m);
                }
            }
            float[] r = reg[result];
            MemorySegment.copy(r, 0, out[0], ValueLayout.JAVA_FLOAT, i * 4, m);
            if (columnSums) addColumns(r, (int) (i % cols), m);
        }
        if (columnSums) for (int c = 0; c < cols; c++) out[1].setAtIndex(ValueLayout.JAVA_FLOAT, c, (float) sums[c]);
    }

    /**
     * Adds {@code r[0..m)}, whose first element is in column {@code c}, to the column sums, a row
     * piece at a time: the inner loop has no wrap-around test, so the JIT unrolls it. Each
     * column still adds its elements in row order.
     */
    private void addColumns(float[] r, int c, int m) {
        for (int k = 0; k < m; ) {
            int n = Math.min(cols - c, m - k);
            for (int j = 0; j < n; j++) sums[c + j] += r[k + j];
            k += n;
            c = 0;
        }
    }

    private void load(MemorySegment s, int input, long i, float[] d, int m) {
        boolean bool = dtypes[input] == DType.BOOL;
        switch (layouts[input]) {
            case DENSE -> {
                if (!bool) MemorySegment.copy(s, ValueLayout.JAVA_FLOAT, i * 4, d, 0, m);
                else {
                    MemorySegment.copy(s, ValueLayout.JAVA_BYTE, i, bytes, 0, m);
                    for (int k = 0; k < m; k++) d[k] = (bytes[k] | -bytes[k]) >>> 31; // 1 for any nonzero byte, without a branch
                }
            }
            case SCALAR -> java.util.Arrays.fill(d, 0, m, get(s, bool, 0));
            case ROW -> {
                long n = s.byteSize() / (bool ? 1 : 4);
                long j = i % n;
                for (int k = 0; k < m; k++) {
                    d[k] = get(s, bool, j);
                    if (++j == n) j = 0;
                }
            }
            case COLUMN -> {
                for (int k = 0; k < m; k++) d[k] = get(s, bool, (i + k) / cols);
            }
        }
    }

    private static float get(MemorySegment s, boolean bool, long j) {
        return bool ? (s.get(ValueLayout.JAVA_BYTE, j) != 0 ? 1 : 0) : s.getAtIndex(ValueLayout.JAVA_FLOAT, j);
    }

    private static void unary(UnaryFn fn, float[] x, float[] d, int m) {
        switch (fn) {
            case NEG -> { for (int k = 0; k < m; k++) d[k] = -x[k]; }
            case EXP -> { for (int k = 0; k < m; k++) d[k] = (float) Math.exp(x[k]); }
            case LOG -> { for (int k = 0; k < m; k++) d[k] = (float) Math.log(x[k]); }
            case SQRT -> { for (int k = 0; k < m; k++) d[k] = (float) Math.sqrt(x[k]); }
            case TANH -> { for (int k = 0; k < m; k++) d[k] = (float) Math.tanh(x[k]); }
            case SIGMOID -> { for (int k = 0; k < m; k++) d[k] = (float) (1 / (1 + Math.exp(-x[k]))); }
            // max keeps NaN and turns -0 into +0, as relu does; unlike a comparison it vectorises.
            case RELU -> { for (int k = 0; k < m; k++) d[k] = Math.max(x[k], 0f); }
            case ABS -> { for (int k = 0; k < m; k++) d[k] = Math.abs(x[k]); }
            case GELU -> { for (int k = 0; k < m; k++) d[k] = (float) UnaryFn.gelu(x[k]); }
            case ERF -> { for (int k = 0; k < m; k++) d[k] = (float) UnaryFn.erf(x[k]); }
        }
    }

    private static void binary(BinaryFn fn, float[] a, float[] b, float[] d, int m) {
        switch (fn) {
            case ADD -> { for (int k = 0; k < m; k++) d[k] = a[k] + b[k]; }
            case SUB -> { for (int k = 0; k < m; k++) d[k] = a[k] - b[k]; }
            case MUL -> { for (int k = 0; k < m; k++) d[k] = a[k] * b[k]; }
            case DIV -> { for (int k = 0; k < m; k++) d[k] = a[k] / b[k]; }
            case MAX -> { for (int k = 0; k < m; k++) d[k] = Math.max(a[k], b[k]); }
            case MIN -> { for (int k = 0; k < m; k++) d[k] = Math.min(a[k], b[k]); }
            case POW -> { for (int k = 0; k < m; k++) d[k] = (float) Math.pow(a[k], b[k]); }
            case EQ -> { for (int k = 0; k < m; k++) d[k] = a[k] == b[k] ? 1 : 0; }
            case GT -> { for (int k = 0; k < m; k++) d[k] = greater(a[k], b[k]); }
            case LT -> { for (int k = 0; k < m; k++) d[k] = greater(b[k], a[k]); }
        }
    }

    /**
     * {@code x > y ? 1 : 0} without a comparison. A comparison in a loop compiles to a branch or
     * conditional move that the JIT does not vectorise, and a branch mispredicts on data like a
     * ReLU mask (zeros at random): the ReLU-backward chain at batch 128 took 65 us. Here
     * {@code signum(x - y)} is 1, -1, +-0 or NaN, and Java's float-to-int conversion sends NaN to
     * 0, so the result is IEEE's {@code >} for every input (infinities, signed zeros and NaN
     * included: {@code inf - inf} and NaN operands give 0), in operations the JIT vectorises.
     */
    static int greater(float x, float y) { return Math.max((int) Math.signum(x - y), 0); }

    /** Reads of a dense input finish for a block before its result is stored, so the output may overwrite it. */
    @Override public boolean inPlace(int input, int output) {
        return output == 0 && layouts[input] == ChainExpr.Layout.DENSE && dtypes[input] == DType.F32;
    }
}
