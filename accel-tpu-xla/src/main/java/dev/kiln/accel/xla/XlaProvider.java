package dev.kiln.accel.xla;

import dev.kiln.accel.xla.tf.TfNative;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;

/**
 * XLA. Today its one executor is XLA's CPU compiler inside TensorFlow's native library (the
 * {@code tensorflow-core-native} jar on the class path, or {@code KILN_TF_LIBRARY}), so its
 * priority is below oneDNN's: it is chosen by name ({@code KILN_BACKEND=xla}), not by default.
 * A PJRT plugin with a real accelerator behind it will rank above oneDNN.
 */
public final class XlaProvider implements AcceleratorProvider {
    public XlaProvider() {}

    @Override public String name() { return "xla"; }

    @Override public int spiVersion() { return SPI_VERSION; }

    /** Below onednn (100): XLA:CPU is a portability backend here, not the fastest CPU path. */
    @Override public int priority() { return 50; }

    /** Only looks for TensorFlow's library: loading it costs a second and 270 MB, paid on {@link #open} alone. */
    @Override public Availability probe() {
        try {
            Availability tf = TfNative.locate();
            return tf.available() ? Availability.available("XLA:CPU through TensorFlow's XlaCallModule; " + tf.reason()) : tf;
        } catch (Throwable t) {
            return Availability.unavailable("XLA:CPU did not load: " + t);
        }
    }

    @Override public Accelerator open(AcceleratorConfig config) {
        if (config.deviceIndex() != 0) throw new IllegalArgumentException("xla (XLA:CPU) has one device, cpu:0; asked for " + config.deviceIndex());
        Availability a = TfNative.availability();
        if (!a.available()) throw new IllegalStateException("xla is not available: " + a.reason());
        return new XlaAccelerator();
    }
}
