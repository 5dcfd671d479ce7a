package dev.kiln.accel.xla.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.TensorType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Reading {@code @main}'s types out of module text; no native code. */
class MainSignatureTest {
    @Test void readsArgumentsAndATupleOfResultsPastAttributesStringsAndComments() {
        MainSignature s = MainSignature.of("""
                // @main(%decoy: tensor<9xf32>) in a comment is not the signature
                module @m attributes {mhlo.num_partitions = 1 : i32} {
                  func.func private @helper(%a: tensor<f32>) -> tensor<f32> { return %a : tensor<f32> }
                  func.func public @main(%arg0: tensor<2x3xf32> {jax.arg_info = "x, y) -> (", mhlo.sharding = "{replicated}"},
                                         %arg1: tensor<i32> loc("arg1"), %arg2: tensor<1x1x5x5xbf16>)
                      -> (tensor<2x3xf32> {jax.result_info = "[0]"}, tensor<4xi1>, tensor<f16>, tensor<7xi64>, tensor<3xi8>, tensor<2xf64>) {
                    %0 = func.call @main(%arg0, %arg1, %arg2) : (tensor<2x3xf32>, tensor<i32>, tensor<1x1x5x5xbf16>) -> tensor<2x3xf32>
                  }
                }
                """);
        assertEquals(List.of(TensorType.of(DType.F32, 2, 3), TensorType.of(DType.I32), TensorType.of(DType.BF16, 1, 1, 5, 5)), s.arguments());
        assertEquals(List.of(TensorType.of(DType.F32, 2, 3), TensorType.of(DType.BOOL, 4), TensorType.of(DType.F16),
                TensorType.of(DType.I64, 7), TensorType.of(DType.I8, 3), TensorType.of(DType.F64, 2)), s.results());
    }

    @Test void aSingleUnparenthesizedResultAndNoArguments() {
        MainSignature s = MainSignature.of("func.func @main() -> tensor<2xf32> {\n}");
        assertEquals(List.of(), s.arguments());
        assertEquals(List.of(TensorType.of(DType.F32, 2)), s.results());
        assertEquals(List.of(), MainSignature.of("func.func @main(%t: tensor<f32>) {\n}").results());
    }

    @Test void refusesWhatCannotBeRunOrChecked() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MainSignature.of("func.func @main(%x: tensor<?x3xf32>) -> tensor<3xf32>"))
                .getMessage().contains("static"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MainSignature.of("func.func @main(%x: tensor<3xui8>) -> tensor<3xf32>"))
                .getMessage().contains("ui8"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MainSignature.of("func.func @main(%t: !stablehlo.token, %x: tensor<3xf32>)"))
                .getMessage().contains("!stablehlo.token"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MainSignature.of("func.func @forward(%x: tensor<3xf32>)"))
                .getMessage().contains("no '@main('"));
        assertThrows(IllegalArgumentException.class, () -> MainSignature.of("\"func.func\"() <{sym_name = \"main\", function_type = (tensor<2xf32>) -> tensor<2xf32>}>"));
    }

    @Test void requireNamesTheMismatch() {
        MainSignature s = MainSignature.of("func.func @main(%x: tensor<2xf32>) -> tensor<2xf32>");
        s.require(List.of(TensorType.of(DType.F32, 2)), List.of(TensorType.of(DType.F32, 2)));
        var e = assertThrows(IllegalArgumentException.class, () -> s.require(List.of(TensorType.of(DType.F32, 2)), List.of(TensorType.of(DType.BF16, 2))));
        assertEquals("output 0 of @main is f32[2], but bf16[2] was declared", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.require(List.of(), List.of(TensorType.of(DType.F32, 2))));
        assertTrue(e.getMessage().startsWith("@main has 1 inputs"), e.getMessage());
    }
}
