package dev.kiln.accel.xla;

import dev.kiln.accel.xla.pjrt.PjrtClient;
import dev.kiln.accel.xla.pjrt.PjrtPluginLocator;
import dev.kiln.accel.xla.tf.TfNative;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;
import java.util.Optional;

/**
 * XLA, through one of two executors. Where a PJRT plugin is found ({@code KILN_PJRT_PLUGIN},
 * {@code PJRT_PLUGIN_LIBRARY_PATH}, libtpu through {@code TPU_LIBRARY_PATH}, or JAX's plugins
 * under Python site-packages with {@code KILN_PJRT_PYTHON_PLUGINS=1}; see
 * {@link PjrtPluginLocator}) it is used, with buffers on its device, and the provider ranks above
 * oneDNN and below CUDA. Otherwise XLA's CPU compiler inside TensorFlow's native library runs the
 * same modules (the {@code tensorflow-core-native} jar on the class path, or {@code KILN_TF_LIBRARY});
 * that is a portability backend, ranked below oneDNN and chosen by name ({@code KILN_BACKEND=xla}).
 */
public final class XlaProvider implements AcceleratorProvider {
    private final PjrtPluginLocator locator;
    /** A client given by a test instead of a located plugin; null otherwise. */
    private final PjrtClient fixed;

    public XlaProvider() { this(PjrtPluginLocator.system(), null); }

    private XlaProvider(PjrtPluginLocator locator, PjrtClient fixed) {
        this.locator = locator;
        this.fixed = fixed;
    }

    /** A provider that looks for a PJRT plugin with {@code locator}: for tests. */
    static XlaProvider locating(PjrtPluginLocator locator) { return new XlaProvider(locator, null); }

    /** A provider whose PJRT executor is {@code client}, whatever plugin it came from: for tests. */
    static XlaProvider over(PjrtClient client) { return new XlaProvider(null, client); }

    @Override public String name() { return "xla"; }

    @Override public int spiVersion() { return SPI_VERSION; }

    /** 150 with a PJRT plugin (between onednn's 100 and cuda's 200); 50 for XLA:CPU, a portability backend. */
    @Override public int priority() { return plugin().isPresent() ? 150 : 50; }

    /** Loads nothing: a plugin is only located, and TensorFlow's library (a second and 270 MB) only found. */
    @Override public Availability probe() {
        if (fixed != null) return Availability.available("PJRT client " + fixed.platformName());
        try {
            Optional<PjrtPluginLocator.Location> p = plugin();
            if (p.isPresent()) return Availability.available("PJRT plugin " + p.get().plugin() + " (" + p.get().source() + ")");
            if (locator.pinned()) return Availability.unavailable(locator.locate().reason());
            Availability tf = TfNative.locate();
            return tf.available() ? Availability.available("XLA:CPU through TensorFlow's XlaCallModule; " + tf.reason()
                    + "; " + locator.locate().reason()) : tf;
        } catch (Throwable t) {
            return Availability.unavailable("XLA did not load: " + t);
        }
    }

    @Override public Accelerator open(AcceleratorConfig config) {
        if (fixed != null) return new PjrtAccelerator(fixed, config.deviceIndex());
        Optional<PjrtPluginLocator.Location> p = plugin();
        if (p.isEmpty() && locator.pinned()) throw new IllegalStateException("xla is not available: " + locator.locate().reason());
        if (p.isPresent()) {
            PjrtClient client;
            try {
                client = PjrtClients.forPlugin(p.get().plugin());
            } catch (RuntimeException e) {
                throw new IllegalStateException("xla: the PJRT plugin " + p.get().plugin() + " (" + p.get().source()
                        + ") did not open: " + e.getMessage(), e);
            }
            return new PjrtAccelerator(client, config.deviceIndex());
        }
        if (config.deviceIndex() != 0) throw new IllegalArgumentException("xla (XLA:CPU) has one device, cpu:0; asked for " + config.deviceIndex());
        Availability a = TfNative.availability();
        if (!a.available()) throw new IllegalStateException("xla is not available: " + a.reason());
        return new XlaAccelerator();
    }

    private Optional<PjrtPluginLocator.Location> plugin() {
        return locator == null ? Optional.empty() : locator.locate().found();
    }
}
