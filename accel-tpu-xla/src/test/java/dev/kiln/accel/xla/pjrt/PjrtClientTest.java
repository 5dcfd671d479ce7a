package dev.kiln.accel.xla.pjrt;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.accel.xla.tf.TfNative;
import dev.kiln.core.DType;
import dev.kiln.spi.Availability;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PjrtClient}, {@link PjrtBuffer} and {@link PjrtExecutable} against {@link LoopbackPjrtPlugin}:
 * Kiln's downcalls through a real {@code PJRT_Api} table, each module run by XLA:CPU. Every test
 * ends by checking that no PJRT object Kiln was handed is left undestroyed.
 */
class PjrtClientTest {
    /** y = x * w + b, elementwise; {@code w} (argument 1) may be donated to the result. */
    private static final String AXPB = """
            module @axpb {
              func.func public @main(%x: tensor<4xf32>, %w: tensor<4xf32>%DONATE%, %b: tensor<4xf32>) -> (tensor<4xf32>) {
                %p = stablehlo.multiply %x, %w : tensor<4xf32>
                %y = stablehlo.add %p, %b : tensor<4xf32>
                "func.return"(%y) : (tensor<4xf32>) -> ()
              }
            }
            """;

    private LoopbackPjrtPlugin plugin;
    private PjrtApi api;

    @BeforeEach void open() {
        Availability a = TfNative.availability();
        assumeTrue(a.available(), "the loopback plugin runs modules with TensorFlow's XLA:CPU, which cannot be loaded here: " + a.reason());
        plugin = new LoopbackPjrtPlugin();
        api = PjrtApi.of(plugin.table());
        api.initialize();
    }

    @AfterEach void close() {
        if (plugin != null) plugin.close();
    }

    private static MemorySegment floats(Arena arena, float... v) { return arena.allocateFrom(JAVA_FLOAT, v); }

    private static float[] download(PjrtBuffer b) {
        float[] out = new float[4];
        b.download(MemorySegment.ofArray(out));
        return out;
    }

    @Test void listsItsDeviceAndDestroysTheClient() {
        try (PjrtClient client = PjrtClient.create(api, Map.of())) {
            assertEquals("loopback", client.platformName());
            assertTrue(client.platformVersion().contains("XlaCallModule"), client.platformVersion());
            assertEquals(1, client.devices().size());
            assertEquals("XLA:CPU loopback", client.devices().getFirst().kind());
            assertEquals(0, client.devices().getFirst().id());
        }
        assertEquals(Map.of(), plugin.live());
    }

    @Test void roundTripsHeapAndNativeHostMemory() {
        try (PjrtClient client = PjrtClient.create(api, Map.of()); Arena arena = Arena.ofConfined()) {
            PjrtDevice d = client.devices().getFirst();
            PjrtBuffer a = client.upload(d, DType.F32, new long[] {4}, floats(arena, 1, 2, 3, 4));
            PjrtBuffer b = client.upload(d, DType.F32, new long[] {2, 2}, MemorySegment.ofArray(new float[] {5, 6, 7, 8}));
            assertArrayEquals(new float[] {1, 2, 3, 4}, download(a));
            assertArrayEquals(new float[] {5, 6, 7, 8}, download(b));
            MemorySegment wrong = MemorySegment.ofArray(new float[3]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.download(wrong));
            assertTrue(e.getMessage().contains("16 bytes"), e.getMessage());
            a.close();
            a.close();
            assertEquals(1, client.openObjects());
        }
        assertEquals(Map.of(), plugin.live());
    }

    @Test void executesWithDeviceResidentBuffers() {
        try (PjrtClient client = PjrtClient.create(api, Map.of()); Arena arena = Arena.ofConfined()) {
            PjrtDevice d = client.devices().getFirst();
            PjrtExecutable exe = client.compile(AXPB.replace("%DONATE%", ""), CompileOptions.replicas(1));
            assertEquals(1, exe.numOutputs());
            PjrtBuffer x = client.upload(d, DType.F32, new long[] {4}, floats(arena, 1, 2, 3, 4));
            PjrtBuffer w = client.upload(d, DType.F32, new long[] {4}, floats(arena, 2, 2, 2, 2));
            PjrtBuffer b = client.upload(d, DType.F32, new long[] {4}, floats(arena, 0.5f, 0.5f, 0.5f, 0.5f));
            List<PjrtBuffer> y = exe.execute(d, List.of(x, w, b), new long[0]);
            assertArrayEquals(new float[] {2.5f, 4.5f, 6.5f, 8.5f}, download(y.getFirst()));
            // The result is itself an argument of the next run: nothing goes through the host.
            List<PjrtBuffer> y2 = exe.execute(d, List.of(y.getFirst(), w, b), new long[0]);
            assertArrayEquals(new float[] {5.5f, 9.5f, 13.5f, 17.5f}, download(y2.getFirst()));
            assertArrayEquals(new float[] {2, 2, 2, 2}, download(w), "w is not donated without tf.aliasing_output");
        }
        assertEquals(Map.of(), plugin.live(), "the client's close destroys the executable and every buffer");
    }

    @Test void aDonatedArgumentIsDeletedUnlessListedAsNonDonatable() {
        try (PjrtClient client = PjrtClient.create(api, Map.of()); Arena arena = Arena.ofConfined()) {
            PjrtDevice d = client.devices().getFirst();
            PjrtExecutable exe = client.compile(AXPB.replace("%DONATE%", " {tf.aliasing_output = 0 : i32}"), CompileOptions.replicas(1));
            PjrtBuffer x = client.upload(d, DType.F32, new long[] {4}, floats(arena, 1, 1, 1, 1));
            PjrtBuffer w = client.upload(d, DType.F32, new long[] {4}, floats(arena, 3, 3, 3, 3));
            PjrtBuffer b = client.upload(d, DType.F32, new long[] {4}, floats(arena, 0, 0, 0, 0));

            List<PjrtBuffer> kept = exe.execute(d, List.of(x, w, b), new long[] {1});
            assertArrayEquals(new float[] {3, 3, 3, 3}, download(kept.getFirst()));
            assertArrayEquals(new float[] {3, 3, 3, 3}, download(w), "listed as non-donatable, w survives");

            List<PjrtBuffer> donated = exe.execute(d, List.of(x, w, b), new long[0]);
            assertArrayEquals(new float[] {3, 3, 3, 3}, download(donated.getFirst()));
            PjrtException e = assertThrows(PjrtException.class, () -> download(w));
            assertEquals(3, e.code(), e.getMessage());
            assertTrue(e.getMessage().contains("donated"), e.getMessage());
            w.close();
        }
        assertEquals(Map.of(), plugin.live(), "errors are destroyed after being read, and w after its donation");
    }

    @Test void pluginErrorsBecomeExceptionsWithTheirCodeAndAreDestroyed() {
        PjrtException unknown = assertThrows(PjrtException.class, () -> PjrtClient.create(api, Map.of("no_such_option", 1L)));
        assertEquals(3, unknown.code());
        assertTrue(unknown.getMessage().startsWith("creating a PJRT client (PJRT_Client_Create): INVALID_ARGUMENT: Unknown option"),
                unknown.getMessage());
        try (PjrtClient client = PjrtClient.create(api, Map.of())) {
            PjrtException empty = assertThrows(PjrtException.class, () -> client.compile(AXPB.replace("%DONATE%", ""), new byte[0]));
            assertEquals("FAILED_PRECONDITION", empty.codeName());
            PjrtException bad = assertThrows(PjrtException.class, () -> client.compile("module { not stablehlo", CompileOptions.replicas(1)));
            assertTrue(bad.getMessage().contains("@main"), bad.getMessage());
        }
        assertEquals(Map.of(), plugin.live());
    }

    @Test void aClosedClientRefusesWorkAndItsObjectsAreAlreadyDestroyed() {
        PjrtClient client = PjrtClient.create(api, Map.of());
        PjrtDevice d = client.devices().getFirst();
        PjrtBuffer x = client.upload(d, DType.F32, new long[] {4}, MemorySegment.ofArray(new float[4]));
        client.close();
        client.close();
        assertEquals(Map.of(), plugin.live());
        assertThrows(IllegalStateException.class, () -> download(x));
        assertThrows(IllegalStateException.class, () -> client.upload(d, DType.F32, new long[] {4}, MemorySegment.ofArray(new float[4])));
        x.close();
    }

    @Test void namedValuesCarryEveryType() {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Object> in = new java.util.LinkedHashMap<>();
            in.put("s", "text");
            in.put("i", 7L);
            in.put("l", new long[] {1, 2, 3});
            in.put("f", 0.5f);
            in.put("b", true);
            Map<String, Object> out = PjrtApi.namedValues(PjrtClient.namedValues(arena, in), in.size());
            assertEquals("text", out.get("s"));
            assertEquals(7L, out.get("i"));
            assertArrayEquals(new long[] {1, 2, 3}, (long[]) out.get("l"));
            assertEquals(0.5f, out.get("f"));
            assertEquals(true, out.get("b"));
            assertThrows(IllegalArgumentException.class, () -> PjrtClient.namedValues(arena, Map.of("x", new Object())));
        }
    }
}
