package dev.kiln.tck;

import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link Kernel}s that run the {@link Reference} on host memory, so a pure-Java plugin is a
 * {@code KernelAccelerator} whose {@code kernel(node, options)} returns {@code ReferenceKernels.kernel(node)}.
 * Slow and exact: each node computes in float64 and rounds once, when it writes its output.
 */
public final class ReferenceKernels {
    private ReferenceKernels() {}

    /**
     * A kernel computing {@code node}, primitive or composite. Checks the node's declared output
     * types against its op's inference now, so a malformed graph fails at compile time naming the node.
     */
    public static Kernel kernel(Node node) {
        List<TensorType> inTypes = new ArrayList<>();
        for (Value v : node.inputs()) inTypes.add(v.type());
        node.checkTypes();
        if (node.op() instanceof Primitive.RandomUniform r) {
            // The seed is read as a long: i64 seeds above 2^53 do not survive a trip through double.
            return (in, out) -> HostData.write(Reference.randomUniform(in[0].get(ValueLayout.JAVA_LONG_UNALIGNED, 0), r.type()), r.type(), out[0]);
        }
        return (in, out) -> {
            List<double[]> args = new ArrayList<>(in.length);
            for (int i = 0; i < in.length; i++) args.add(HostData.read(in[i], inTypes.get(i)));
            List<double[]> results = Reference.evalNode(node.op(), inTypes, args);
            for (int i = 0; i < out.length; i++) HostData.write(results.get(i), node.outputs().get(i).type(), out[i]);
        };
    }

    /** An elementwise kernel applying {@code fn} to every element: handy for tests that need a deliberately wrong op. */
    public static Kernel elementwise(TensorType in, TensorType out, java.util.function.DoubleUnaryOperator fn) {
        return (MemorySegment[] ins, MemorySegment[] outs) -> {
            double[] x = HostData.read(ins[0], in);
            for (int i = 0; i < x.length; i++) x[i] = fn.applyAsDouble(x[i]);
            HostData.write(x, out, outs[0]);
        };
    }
}
