package dev.kiln.accel.xla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.accel.xla.pjrt.LoopbackPjrtPlugin;
import dev.kiln.accel.xla.pjrt.PjrtApi;
import dev.kiln.accel.xla.pjrt.PjrtClient;
import dev.kiln.accel.xla.pjrt.PjrtException;
import dev.kiln.accel.xla.tf.TfNative;
import dev.kiln.core.DType;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Collectives;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PjrtCollectives} on the one-device loopback plugin: a group of one, which is what can
 * run here (XLA removes a one-replica all-reduce; the modules for N replicas are checked as text
 * in {@code StableHloCollectivesTest}). A group of several needs a PJRT client with several
 * devices (e.g. JAX's CUDA plugin on a multi-GPU host).
 */
class PjrtCollectivesTest {
    private LoopbackPjrtPlugin plugin;
    private PjrtClient client;
    private PjrtAccelerator acc;

    @BeforeEach void open() {
        assumeTrue(TfNative.availability().available(), () -> "the loopback needs TensorFlow's XLA:CPU: " + TfNative.availability().reason());
        plugin = new LoopbackPjrtPlugin();
        PjrtApi api = PjrtApi.of(plugin.table());
        api.initialize();
        client = PjrtClient.create(api, Map.of());
        acc = new PjrtAccelerator(client, 0);
    }

    @AfterEach void close() {
        if (acc != null) {
            acc.close();
            assertEquals(Map.of("Client", 1), plugin.live(), "the accelerator's close destroys its collectives' executables and buffers");
            client.close();
            plugin.close();
        }
    }

    private Buffer upload(float... v) { return acc.upload(TensorType.of(DType.F32, v.length), MemorySegment.ofArray(v)); }

    private float[] download(Buffer b) {
        float[] out = new float[(int) b.type().shape().size()];
        acc.download(b, MemorySegment.ofArray(out));
        return out;
    }

    @Test void aGroupOfOneReducesToItselfInPlaceOrNot() {
        Collectives c = acc.collectives(0, 1, null);
        Buffer x = upload(1, -2, 3.5f, 0.25f), y = upload(0, 0, 0, 0);
        c.allReduce(x, y);
        assertArrayEquals(new float[] {1, -2, 3.5f, 0.25f}, download(y));
        c.allReduceAverage(y, y);
        assertArrayEquals(new float[] {1, -2, 3.5f, 0.25f}, download(y));
        c.barrier();
        c.close();
        assertThrows(IllegalStateException.class, () -> c.allReduce(x, y));
    }

    @Test void whatXlaCpuCannotRunFailsAsAnExceptionNotACrash() {
        Collectives c = acc.collectives(0, 1, null);
        Buffer x = upload(1, 2), y = upload(0, 0, 0, 0);
        PjrtException gather = assertThrows(PjrtException.class, () -> c.allGather(x, acc.allocate(TensorType.of(DType.F32, 2))));
        assertTrue(gather.getMessage().contains("Device assignment is null"), gather.getMessage());
        assertThrows(PjrtException.class, () -> c.broadcast(x, x, 0));
        assertThrows(IllegalArgumentException.class, () -> c.allReduce(x, y), "in and out of different types");
        assertThrows(IllegalArgumentException.class, () -> c.broadcast(x, x, 1));
    }

    @Test void groupsTheClientCannotServeAreRefusedNamingWhy() {
        var tooBig = assertThrows(UnsupportedOperationException.class, () -> acc.collectives(0, 2, acc.newCollectiveGroupId()));
        assertTrue(tooBig.getMessage().contains("needs 2 devices") && tooBig.getMessage().contains("has 1"), tooBig.getMessage());
        assertThrows(IllegalArgumentException.class, () -> acc.collectives(1, 1, null));
        assertThrows(IllegalArgumentException.class, () -> acc.collectives(0, 0, null));
    }
}
