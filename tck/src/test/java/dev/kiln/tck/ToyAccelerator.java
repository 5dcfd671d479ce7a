package dev.kiln.tck;

import dev.kiln.core.DType;
import dev.kiln.core.Device;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.Capabilities;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.KernelAccelerator;
import dev.kiln.spi.PrimitiveKind;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A pure-Java plugin built from {@link ReferenceKernels}, optionally with one planted bug so the
 * kit can be shown to catch it. Softmax and cross-entropy are "native" to exercise composite kernels.
 */
final class ToyAccelerator extends KernelAccelerator {

    enum Variant { FAITHFUL, TANH_IS_SIN, MATMUL_DROPS_LAST_COLUMN, NARROW_DTYPES, UNSUPPORTED_SOME }

    /** What {@link Variant#UNSUPPORTED_SOME} declares unsupported: three with fallbacks, and the weights' adjoint, which has none. */
    static final PrimitiveKind[] UNSUPPORTED = {
        PrimitiveKind.of(Primitive.UnaryFn.SIGMOID), PrimitiveKind.of(Primitive.UnaryFn.GELU), PrimitiveKind.of(Primitive.BinaryFn.SUB),
        PrimitiveKind.of(Primitive.Conv2dBackwardWeights.class),
    };

    private final Variant variant;

    ToyAccelerator(Variant variant) { this.variant = variant; }

    @Override public String name() { return "toy"; }

    @Override public List<Device> devices() { return List.of(new Device("cpu", 0, "pure-Java reference kernels")); }

    @Override public Capabilities capabilities() {
        Set<Class<? extends Composite>> natives = Set.of(Composite.Softmax.class, Composite.SoftmaxCrossEntropy.class);
        Set<DType> dtypes = variant == Variant.NARROW_DTYPES ? EnumSet.of(DType.F32, DType.I32, DType.I64, DType.BOOL) : EnumSet.allOf(DType.class);
        Capabilities c = new Capabilities(dtypes, natives, Set.of(PrecisionPolicy.FP32), false);
        return variant == Variant.UNSUPPORTED_SOME ? c.withUnsupported(UNSUPPORTED) : c;
    }

    @Override protected Kernel kernel(Node node, CompileOptions options) {
        if (node.op() instanceof Primitive p && !capabilities().supports(p)) {
            throw new IllegalStateException("toy was handed " + node.describe() + ", which it declared unsupported");
        }
        Kernel k = ReferenceKernels.kernel(node);
        if (variant == Variant.TANH_IS_SIN && node.op() instanceof Primitive.Unary u && u.fn() == Primitive.UnaryFn.TANH) {
            return ReferenceKernels.elementwise(node.inputs().getFirst().type(), node.output().type(), Math::sin);
        }
        if (variant == Variant.MATMUL_DROPS_LAST_COLUMN && node.op() instanceof Primitive.MatMul) {
            TensorType t = node.output().type();
            int cols = t.shape().dim(-1);
            return (in, out) -> {
                k.run(in, out);
                double[] y = HostData.read(out[0], t);
                for (int i = cols - 1; i < y.length; i += cols) y[i] = 0;
                HostData.write(y, t, out[0]);
            };
        }
        return k;
    }
}
