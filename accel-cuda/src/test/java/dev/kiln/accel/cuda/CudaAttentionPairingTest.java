package dev.kiln.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pairing rewrite alone (no GPU): which backward reads its forward's output and log-sum-exp, and the attention modes. */
class CudaAttentionPairingTest {
    private static long count(Graph g, Class<?> op) { return g.nodes().stream().filter(n -> op.isInstance(n.op())).count(); }

    @Test void aBackwardOverTheForwardsInputsReadsItsOutputAndLse() {
        Graph.Builder b = Graph.builder();
        TensorType t = TensorType.of(DType.BF16, 16, 300, 64);
        Value q = b.input(t), k = b.input(t), v = b.input(t), dO = b.input(t);
        Value o = b.apply1(new Composite.Attention(true, 0.125), q, k, v);
        List<Value> outs = new ArrayList<>(List.of(b.cast(o, DType.F32)));
        outs.addAll(b.apply(new Composite.AttentionGrad(true, 0.125), List.of(q, k, v, dO)));
        outs.addAll(b.apply(new Composite.AttentionGrad(true, 0.125), List.of(q, k, v, b.cast(b.cast(dO, DType.F32), DType.BF16))));
        // Another mask: a different attention, so no pairing.
        outs.addAll(b.apply(new Composite.AttentionGrad(false, 0.125), List.of(q, k, v, dO)));
        Graph g = b.build(outs);

        Graph paired = CudaAttentionPairing.pair(g, CudaAttention.Mode.FLASH);
        assertEquals(1, count(paired, CudaAttentionLse.class));
        assertEquals(2, count(paired, CudaAttentionGradLse.class), "both causal backwards read the one forward");
        assertEquals(1, count(paired, Composite.AttentionGrad.class), "the non-causal backward recomputes on its own");
        Node forward = paired.nodes().stream().filter(n -> n.op() instanceof CudaAttentionLse).findFirst().orElseThrow();
        assertSame(o, forward.outputs().get(0), "the forward keeps its output value");
        for (Node n : paired.nodes()) {
            n.checkTypes();
            if (n.op() instanceof CudaAttentionGradLse) assertEquals(forward.outputs(), n.inputs().subList(3, 5));
        }
        assertEquals(g.outputs(), paired.outputs());

        assertSame(g, CudaAttentionPairing.pair(g, CudaAttention.Mode.PRODUCTS), "only the flash kernels keep an lse");
        Graph.Builder wide = Graph.builder();
        TensorType h = TensorType.of(DType.F32, 2, 8, 160);
        Value wq = wide.input(h);
        Graph w = wide.build(List.of(wide.apply1(new Composite.Attention(false, 1), wq, wq, wq), wide.apply(new Composite.AttentionGrad(false, 1), List.of(wq, wq, wq, wq)).get(0)));
        assertEquals(0, count(CudaAttentionPairing.pair(w, CudaAttention.Mode.FLASH), CudaAttentionLse.class), "head dim 160 is past the flash kernels");
    }

    @Test void theModePropertyNamesEachPath() {
        String old = System.getProperty("kiln.cuda.attention");
        try {
            for (String[] c : new String[][] {{"flash", "FLASH"}, {"simt", "SIMT"}, {"products", "PRODUCTS"}, {"false", "DECOMPOSE"}, {"decompose", "DECOMPOSE"}}) {
                System.setProperty("kiln.cuda.attention", c[0]);
                assertEquals(CudaAttention.Mode.valueOf(c[1]), CudaAttention.Mode.fromProperty());
            }
            System.setProperty("kiln.cuda.attention", "fast");
            assertThrows(IllegalArgumentException.class, CudaAttention.Mode::fromProperty);
            System.clearProperty("kiln.cuda.attention");
            assertEquals(CudaAttention.Mode.PRODUCTS, CudaAttention.Mode.fromProperty(), "products by default until the flash kernels have run on a GPU");
        } finally {
            if (old == null) System.clearProperty("kiln.cuda.attention");
            else System.setProperty("kiln.cuda.attention", old);
        }
    }
}
