package dev.kiln.accel.xla.hlo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.accel.xla.tf.TfException;
import dev.kiln.accel.xla.tf.TfNative;
import dev.kiln.accel.xla.tf.XlaCallModuleExecutor;
import dev.kiln.core.DType;
import dev.kiln.spi.Availability;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The collective modules: read back for N replicas (names, types, replica groups), and given to
 * XLA:CPU for one. Running them on several replicas needs a multi-device PJRT client.
 */
class StableHloCollectivesTest {
    private static final TensorType F32_2x3 = TensorType.of(DType.F32, 2, 3);

    private static List<String> ops(String module) {
        return MlirText.parse(module).ops().stream().map(MlirText.Op::name).toList();
    }

    @Test void fourReplicasReadBackWithOneGroupOfAll() {
        String ar = StableHloCollectives.allReduce(F32_2x3, 4, true);
        assertTrue(ar.contains("mhlo.num_replicas = 4 : i32"), ar);
        assertTrue(ar.contains("replica_groups = dense<[[0, 1, 2, 3]]> : tensor<1x4xi64>"), ar);
        assertTrue(ops(ar).contains("stablehlo.all_reduce") && ops(ar).contains("stablehlo.multiply"), ops(ar).toString());
        assertEquals(List.of("tensor<2x3xf32>"), MlirText.parse(ar).resultTypes());

        String ag = StableHloCollectives.allGather(F32_2x3, TensorType.of(DType.F32, 8, 3), 4);
        assertTrue(ag.contains("-> tensor<4x6xf32>") && ag.contains("all_gather_dim = 0 : i64"), ag);
        assertEquals(List.of("tensor<8x3xf32>"), MlirText.parse(ag).resultTypes());

        String rs = StableHloCollectives.reduceScatter(TensorType.of(DType.BF16, 8, 3), TensorType.of(DType.BF16, 2, 3), 4);
        assertTrue(rs.contains("(tensor<24xbf16>) -> tensor<6xbf16>") && rs.contains("scatter_dimension = 0 : i64"), rs);
        assertEquals(List.of("tensor<2x3xbf16>"), MlirText.parse(rs).resultTypes());

        String bc = StableHloCollectives.broadcast(F32_2x3, 4, 2);
        assertTrue(ops(bc).contains("stablehlo.select") && bc.contains("stablehlo.replica_id"), bc);
        MlirText.parse(StableHloCollectives.barrier(4));
    }

    @Test void shapesThatDoNotSplitIntoRankBlocksAreRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> StableHloCollectives.allGather(F32_2x3, TensorType.of(DType.F32, 6, 3), 4));
        assertTrue(e.getMessage().contains("4 blocks"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StableHloCollectives.broadcast(F32_2x3, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> StableHloCollectives.allReduce(TensorType.of(DType.BOOL, 2), 2, true));
    }

    /**
     * What XLA:CPU through TensorFlow can show for one replica, where it has no device assignment:
     * the all-reduces compile and run (the identity); all-gather and reduce-scatter parse, verify
     * and compile, then fail cleanly for want of the assignment; replica_id, which crashed
     * TensorFlow, is refused before TF sees it.
     */
    @Test void xlaCompilesTheModulesForOneReplica() {
        Availability a = TfNative.availability();
        assumeTrue(a.available(), "TensorFlow's XLA:CPU cannot be loaded here: " + a.reason());
        float[] x = {1, -2, 3.5f, 0, 7, -0.25f};
        assertArrayEquals(x, run(StableHloCollectives.allReduce(F32_2x3, 1, false), x));
        assertArrayEquals(x, run(StableHloCollectives.allReduce(F32_2x3, 1, true), x));
        for (String module : List.of(StableHloCollectives.allGather(F32_2x3, TensorType.of(DType.F32, 6), 1),
                StableHloCollectives.reduceScatter(F32_2x3, TensorType.of(DType.F32, 3, 2), 1))) {
            var e = assertThrows(TfException.class, () -> run(module, x));
            assertTrue(e.getMessage().contains("Device assignment is null"), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> XlaCallModuleExecutor.compile(StableHloCollectives.broadcast(F32_2x3, 1, 0)));
        assertTrue(e.getMessage().contains("collectives need a PJRT client"), e.getMessage());
    }

    private static float[] run(String module, float[] x) {
        try (XlaCallModuleExecutor e = XlaCallModuleExecutor.compile(module)) {
            float[] out = new float[x.length];
            e.run(List.of(MemorySegment.ofArray(x)), List.of(MemorySegment.ofArray(out)));
            return out;
        }
    }
}
