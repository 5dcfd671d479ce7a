package dev.kiln.accel.xla;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.accel.xla.pjrt.LoopbackPjrtPlugin;
import dev.kiln.accel.xla.pjrt.PjrtApi;
import dev.kiln.accel.xla.pjrt.PjrtClient;
import dev.kiln.accel.xla.tf.TfNative;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Availability;
import dev.kiln.tck.AcceleratorConformanceTest;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

/**
 * The conformance kit through Kiln's PJRT executor ({@link PjrtAccelerator}: device-resident
 * buffers, per-pattern donation, every PJRT object destroyed) over {@link LoopbackPjrtPlugin}, the
 * test plugin whose modules XLA:CPU runs. It checks the binding and the accelerator, not a real
 * plugin: on a machine with one, {@code KILN_PJRT_PLUGIN=/path/to/plugin.so} makes
 * {@link XlaConformanceTest} run the kit on it.
 */
class PjrtConformanceTest extends AcceleratorConformanceTest {
    private static LoopbackPjrtPlugin plugin;
    private static PjrtClient client;

    @Override protected AcceleratorProvider provider() {
        Availability tf = TfNative.availability();
        if (!tf.available()) return new Unavailable("the loopback plugin needs TensorFlow's XLA:CPU: " + tf.reason());
        if (client != null) return XlaProvider.over(client);
        plugin = new LoopbackPjrtPlugin();
        PjrtApi api = PjrtApi.of(plugin.table());
        api.initialize();
        client = PjrtClient.create(api, Map.of());
        return XlaProvider.over(client);
    }

    /** The accelerator's close must destroy every buffer and executable it made: only the client is left. */
    @AfterAll void closeClient() {
        closeAccelerator();
        if (plugin != null) {
            assertEquals(Map.of("Client", 1), plugin.live(), "PJRT objects left after the accelerator closed");
            System.out.println("PJRT loopback: " + plugin.executions() + " executions, " + plugin.donations() + " donated arguments");
            assertTrue(plugin.donations() > 0, "the kit's donated runs reached PJRT as donations");
        }
        if (client != null) client.close();
        if (plugin != null) plugin.close();
    }

    private record Unavailable(String reason) implements AcceleratorProvider {
        @Override public String name() { return "xla"; }
        @Override public int spiVersion() { return SPI_VERSION; }
        @Override public int priority() { return 0; }
        @Override public Availability probe() { return Availability.unavailable(reason); }
        @Override public Accelerator open(AcceleratorConfig config) { throw new IllegalStateException(reason); }
    }
}
