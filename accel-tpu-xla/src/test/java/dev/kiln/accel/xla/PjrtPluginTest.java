package dev.kiln.accel.xla;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.accel.xla.pjrt.CompileOptions;
import dev.kiln.accel.xla.pjrt.PjrtBuffer;
import dev.kiln.accel.xla.pjrt.PjrtClient;
import dev.kiln.accel.xla.pjrt.PjrtDevice;
import dev.kiln.accel.xla.pjrt.PjrtException;
import dev.kiln.accel.xla.pjrt.PjrtExecutable;
import dev.kiln.accel.xla.pjrt.PjrtPluginLocator;
import dev.kiln.core.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A real PJRT plugin, where one is configured: skipped otherwise, with the way to run it. This
 * module's tests run one JVM per class (see its pom), so a plugin that CHECK-aborts takes down this
 * class's JVM only. Run on a GPU host with JAX's CUDA plugin:
 * {@code KILN_PJRT_PYTHON_PLUGINS=1 ./mvnw -pl accel-tpu-xla -am verify -Dtest='PjrtPluginTest,XlaConformanceTest' -Dsurefire.failIfNoSpecifiedTests=false}
 * (the conformance kit then runs on the plugin too), or point {@code KILN_PJRT_PLUGIN} at any plugin.
 */
class PjrtPluginTest {
    @Test void aRealPluginListsDevicesAndRunsADonatingModuleOnTheDevice() {
        PjrtPluginLocator.Result r = PjrtPluginLocator.system().locate();
        assumeTrue(r.found().isPresent(), () -> r.reason() + ". Set KILN_PJRT_PLUGIN=/path/to/plugin.so (libtpu.so, JAX's"
                + " xla_cuda_plugin.so) or KILN_PJRT_PYTHON_PLUGINS=1 where one is installed");
        PjrtClient client = PjrtClients.forPlugin(r.found().get().plugin());
        System.out.println("PJRT " + client.api().majorVersion() + "." + client.api().minorVersion() + " " + client.platformName()
                + " (" + client.platformVersion() + "): " + client.devices());
        assertFalse(client.devices().isEmpty());
        String module = """
                module @axpb {
                  func.func public @main(%x: tensor<4xf32>, %w: tensor<4xf32> {tf.aliasing_output = 0 : i32}) -> (tensor<4xf32>) {
                    %y = stablehlo.multiply %x, %w : tensor<4xf32>
                    "func.return"(%y) : (tensor<4xf32>) -> ()
                  }
                }
                """;
        PjrtDevice d = client.devices().getFirst();
        try (Arena arena = Arena.ofConfined(); PjrtExecutable exe = client.compile(module, CompileOptions.replicas(1));
             PjrtBuffer x = client.upload(d, DType.F32, new long[] {4}, arena.allocateFrom(JAVA_FLOAT, 1, 2, 3, 4));
             PjrtBuffer w = client.upload(d, DType.F32, new long[] {4}, arena.allocateFrom(JAVA_FLOAT, 2, 2, 2, 2))) {
            List<PjrtBuffer> y = exe.execute(d, List.of(x, w), new long[0]);
            float[] out = new float[4];
            y.getFirst().download(MemorySegment.ofArray(out));
            assertArrayEquals(new float[] {2, 4, 6, 8}, out);
            assertThrows(PjrtException.class, () -> w.download(MemorySegment.ofArray(new float[4])), "w was donated");
            y.getFirst().close();
        }
    }
}
