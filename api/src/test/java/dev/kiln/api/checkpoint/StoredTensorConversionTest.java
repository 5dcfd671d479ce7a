package dev.kiln.api.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.core.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link StoredTensor} to a {@link Tensor} and to exact integers, on every dtype PyTorch wrote. */
class StoredTensorConversionTest {
    private static final Map<StoredTensor.Type, DType> KILN = Map.of(
            StoredTensor.Type.F64, DType.F64, StoredTensor.Type.F32, DType.F32, StoredTensor.Type.F16, DType.F16,
            StoredTensor.Type.BF16, DType.BF16, StoredTensor.Type.I64, DType.I64, StoredTensor.Type.I32, DType.I32,
            StoredTensor.Type.I16, DType.I32, StoredTensor.Type.I8, DType.I8, StoredTensor.Type.U8, DType.I32,
            StoredTensor.Type.BOOL, DType.BOOL);

    @Test void everyPyTorchDtypeBecomesATensorWithItsValues() throws Exception {
        SafeTensorsFile io = SafeTensorsFile.read(TorchInteropTest.resource("torch_mlp_io.safetensors"));
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").build())) {
            for (StoredTensor.Type t : StoredTensor.Type.values()) {
                StoredTensor s = io.tensor("ramp_" + t.name().toLowerCase(java.util.Locale.ROOT), null);
                Tensor x = s.toTensor(kiln);
                assertEquals(KILN.get(t), x.dtype(), t.name());
                assertEquals(s.kilnShape(), x.shape(), t.name());
                assertArrayEquals(s.toDoubles(), x.toDoubleArray(), t.name());
                if (!t.isFloating()) assertArrayEquals(s.toInts(), x.cast(DType.I32).toIntArray(), t.name());
            }
        }
    }

    @Test void integersAreExactBeyondADoublesMantissa() {
        long big = (1L << 60) + 1;
        byte[] b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(big).putLong(-7).array();
        StoredTensor s = StoredTensor.of(StoredTensor.Type.I64, new long[] {2}, b);
        assertArrayEquals(new long[] {big, -7}, s.toLongs());
        var e = assertThrows(ArithmeticException.class, s::toInts);
        assertTrue(e.getMessage().contains("element 0 is " + big), e.getMessage());
        assertThrows(IllegalStateException.class, () -> StoredTensor.ofFloats(new float[] {1.5f}, dev.kiln.core.Shape.of(1)).toLongs());
    }
}
