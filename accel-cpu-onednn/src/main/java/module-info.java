/** The oneDNN CPU accelerator. Exports nothing: it is reached only through its provider. */
module dev.kiln.accel.onednn {
    requires dev.kiln.spi;
    requires org.bytedeco.dnnl;
    requires org.bytedeco.javacpp;
    // bytedeco's native libraries live in per-platform modules that no Java code requires, so on
    // the module path they are not resolved and javacpp's Loader cannot find the .so files in
    // them; naming them here resolves them. Kiln ships linux-x86_64 natives only (the
    // native.classifier of the build). The dnnl presets inherit the OpenCL presets, whose module
    // org.bytedeco.dnnl does not require either; the natives module requires it transitively.
    requires org.bytedeco.javacpp.linux.x86_64;
    requires org.bytedeco.dnnl.linux.x86_64;
    requires org.bytedeco.opencl.linux.x86_64;
    // Optional: the optimizer loops use it when the JVM resolves it (--add-modules), see OptimLoops.
    requires static jdk.incubator.vector;

    provides dev.kiln.spi.AcceleratorProvider with dev.kiln.accel.onednn.OneDnnProvider;
}
