package dev.kiln.runtime.dist;

import dev.kiln.core.DType;
import dev.kiln.core.Device;
import dev.kiln.spi.Capabilities;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.KernelAccelerator;
import dev.kiln.spi.ir.Node;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Host buffers and transfers only, for collectives tests: it has no kernels, so compiling any graph fails. */
final class HostAccelerator extends KernelAccelerator {
    @Override public String name() { return "host-test"; }

    @Override public List<Device> devices() { return List.of(new Device("cpu", 0, "test host memory")); }

    @Override public Capabilities capabilities() { return new Capabilities(EnumSet.allOf(DType.class), Set.of(), Set.of(), false); }

    @Override protected Kernel kernel(Node node, CompileOptions options) { return null; }
}
