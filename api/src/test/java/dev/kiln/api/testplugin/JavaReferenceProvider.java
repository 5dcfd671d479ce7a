package dev.kiln.api.testplugin;

import dev.kiln.core.DType;
import dev.kiln.core.Device;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;
import dev.kiln.spi.Capabilities;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.KernelAccelerator;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Node;
import dev.kiln.tck.ReferenceKernels;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A second plugin defined only in test code, with pure-Java kernels (the conformance kit's
 * float64 reference) and nothing but the SPI: proof that a vendor needs no more than that.
 */
public final class JavaReferenceProvider implements AcceleratorProvider {
    @Override public String name() { return "javaref"; }

    @Override public int priority() { return 1; }

    @Override public int spiVersion() { return SPI_VERSION; }

    @Override public Availability probe() { return Availability.available("pure-Java reference kernels (test plugin)"); }

    @Override public Accelerator open(AcceleratorConfig config) {
        return new KernelAccelerator() {
            @Override protected Kernel kernel(Node node, CompileOptions options) {
                return node.op() instanceof Composite ? null : ReferenceKernels.kernel(node);
            }

            @Override public String name() { return "javaref"; }

            @Override public List<Device> devices() { return List.of(new Device("cpu", 0, "Java reference")); }

            @Override public Capabilities capabilities() {
                return new Capabilities(EnumSet.allOf(DType.class), Set.of(), Set.of(PrecisionPolicy.FP32), false);
            }
        };
    }
}
