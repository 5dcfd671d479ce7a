/** The oneDNN CPU accelerator. Exports nothing: it is reached only through its provider. */
module dev.kiln.accel.onednn {
    requires dev.kiln.spi;
    requires org.bytedeco.dnnl;
    requires org.bytedeco.javacpp;
    requires jdk.incubator.vector;

    provides dev.kiln.spi.AcceleratorProvider with dev.kiln.accel.onednn.OneDnnProvider;
}
