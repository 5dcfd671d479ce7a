/** The CUDA accelerator. Exports nothing: it is reached only through its provider. */
module dev.kiln.accel.cuda {
    requires dev.kiln.spi;
    requires org.bytedeco.cuda;
    requires org.bytedeco.javacpp;

    provides dev.kiln.spi.AcceleratorProvider with dev.kiln.accel.cuda.CudaProvider;
}
