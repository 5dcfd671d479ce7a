package org.example.kiln.vendor;

import dev.kiln.core.DType;
import dev.kiln.core.Device;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.Capabilities;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.KernelAccelerator;
import dev.kiln.spi.PrimitiveKind;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A host-memory accelerator: {@link KernelAccelerator} plans memory and runs one kernel per node;
 * this class says what it can do and hands out {@link VendorKernels}. Composites are not listed
 * native, so the runtime decomposes them into primitives first.
 */
final class VendorAccelerator extends KernelAccelerator {
    /**
     * Declared unsupported, so the runtime never hands them over: convolutions and max pooling have
     * no kernels here yet, and graphs using them are refused before compile, naming the op (the
     * kit skips those cases saying so); the tanh form of GELU the runtime spells in tanh and
     * arithmetic for us.
     */
    private static final Capabilities CAPABILITIES = new Capabilities(EnumSet.of(DType.F32, DType.F64, DType.I32, DType.I64, DType.BOOL),
            Set.of(), Set.of(PrecisionPolicy.FP32), false)
            .withUnsupported(PrimitiveKind.of(Primitive.Conv2d.class), PrimitiveKind.of(Primitive.Conv2dBackwardData.class),
                    PrimitiveKind.of(Primitive.Conv2dBackwardWeights.class), PrimitiveKind.of(Primitive.MaxPool2dIndices.class),
                    PrimitiveKind.of(Primitive.UnaryFn.GELU));

    @Override public String name() { return "vendor"; }

    @Override public List<Device> devices() { return List.of(new Device("cpu", 0, "pure-Java kernels")); }

    @Override public Capabilities capabilities() { return CAPABILITIES; }

    @Override protected Kernel kernel(Node node, CompileOptions options) {
        return node.op() instanceof Primitive p ? VendorKernels.of(p, node) : null;
    }
}
