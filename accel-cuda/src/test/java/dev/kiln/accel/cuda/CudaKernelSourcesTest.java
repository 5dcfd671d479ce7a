package dev.kiln.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.ReduceFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Every kernel source the plugin generates compiles with NVRTC to an sm_90 CUBIN. Needs only
 * libnvrtc (the CUDA toolkit), not a GPU, so a build machine with the toolkit checks the CUDA C
 * the planner emits; elsewhere it skips.
 */
class CudaKernelSourcesTest {
    /** Head dims (q/k, v) of the flash kernels compiled here: the smallest, odd, unequal, the GPT bench's, the largest. */
    private static final int[][] FLASH_HEADS = {{1, 1}, {17, 9}, {24, 40}, {64, 64}, {128, 128}};

    @Test void everyGeneratedKernelCompiles() {
        Map<String, String> sources = new LinkedHashMap<>();
        DType[] floats = {DType.F32, DType.F64, DType.BF16, DType.F16};
        for (DType t : floats) {
            for (UnaryFn fn : UnaryFn.values()) put(sources, ElementwiseOps.unary(fn, t));
            sources.put("softmax " + t, SoftmaxKernels.softmax(t, false));
            sources.put("logsoftmax " + t, SoftmaxKernels.softmax(t, true));
            sources.put("layernorm params " + t, LayerNormKernels.paramPartials(t));
            for (int p = 1; p <= 32; p <<= 1) {
                sources.put("layernorm " + p + " " + t, LayerNormKernels.forward(t, p));
                sources.put("attention softmax " + p + " " + t, AttentionKernels.softmax(t, p));
                sources.put("attention softmax grad " + p + " " + t, AttentionKernels.softmaxBackward(t, p));
                sources.put("layernorm grad " + p + " " + t, LayerNormKernels.backwardRows(t, p));
                sources.put("softmax warp " + p + " " + t, SoftmaxKernels.softmaxWarp(t, false, p));
                sources.put("logsoftmax warp " + p + " " + t, SoftmaxKernels.softmaxWarp(t, true, p));
            }
            sources.put("ce rows " + t, SoftmaxKernels.crossEntropyRows(t, DType.I64));
            sources.put("ce mean " + t, SoftmaxKernels.crossEntropyMean(t));
            sources.put("ce grad " + t, SoftmaxKernels.crossEntropyGrad(t, DType.I32));
            sources.put("conv " + t, ConvKernels.forward(t));
            sources.put("conv bd " + t, ConvKernels.backwardData(t));
            sources.put("conv bw " + t, ConvKernels.backwardWeights(t));
            sources.put("maxpool " + t, ConvKernels.maxPoolIndices(t));
            put(sources, ElementwiseOps.randomUniform(t));
            put(sources, OptimizerKernels.adam(new Composite.AdamUpdate(0.9, 0.999, 1e-8, 0.01, true), t));
            put(sources, OptimizerKernels.sgd(new Composite.SgdUpdate(0.9, true, 0.01), t));
            sources.put("scatter " + t, IndexingKernels.scatterAdd(t, DType.I32));
            sources.put("flash delta " + t, FlashAttentionKernels.delta(t));
            for (int[] de : FLASH_HEADS) {
                String h = de[0] + "x" + de[1] + " " + t;
                sources.put("flash simt forward " + h, FlashAttentionKernels.simtForward(t, de[0], de[1]));
                sources.put("flash simt dkdv " + h, FlashAttentionKernels.simtDkdv(t, de[0], de[1]));
                sources.put("flash simt dq " + h, FlashAttentionKernels.simtDq(t, de[0], de[1]));
                if (t != DType.BF16 && t != DType.F16) continue;
                for (boolean vec : new boolean[] {true, false}) {
                    boolean vd = vec && de[0] % 8 == 0, ve = vec && de[1] % 8 == 0;
                    String hv = h + (vd || ve ? " vec" : "");
                    sources.put("flash mma forward " + hv, FlashAttentionKernels.mmaForward(t, de[0], de[1], vd, ve));
                    sources.put("flash mma dkdv " + hv, FlashAttentionKernels.mmaDkdv(t, de[0], de[1], vd, ve));
                    sources.put("flash mma dq " + hv, FlashAttentionKernels.mmaDq(t, de[0], de[1], vd, ve));
                }
            }
        }
        for (DType t : DType.values()) {
            for (BinaryFn fn : BinaryFn.values()) put(sources, ElementwiseOps.binary(fn, t));
            put(sources, ElementwiseOps.where(t));
            put(sources, ElementwiseOps.copy(t));
            put(sources, ElementwiseOps.fill(t));
            put(sources, ElementwiseOps.iota(t));
            for (ReduceFn fn : ReduceFn.values()) {
                sources.put("reduce " + fn + " " + t, ReduceKernel.source(fn, t));
                sources.put("reduce rows " + fn + " " + t, ReduceKernel.rows(fn, t));
                sources.put("reduce cols " + fn + " " + t, ReduceKernel.columnPartials(fn, t));
                sources.put("reduce row parts " + fn + " " + t, ReduceKernel.rowPartials(fn, t));
                sources.put("reduce col totals " + fn + " " + t, ReduceKernel.columnTotals(fn, t));
            }
            sources.put("matmul " + t, MatmulKernel.source(t));
            sources.put("gather " + t, IndexingKernels.gather(t, DType.I64));
            for (DType u : DType.values()) if (u != t) put(sources, ElementwiseOps.cast(t, u));
        }
        sources.put("scatter i64", IndexingKernels.scatterAdd(DType.I64, DType.I64));
        for (int rank = 1; rank <= KernelLaunch.MAX_RANK; rank++) {
            sources.put("copy rank " + rank, ElementwiseOps.copy(DType.BF16).source(rank, false));
            sources.put("copy rank " + rank + " wide", ElementwiseOps.copy(DType.F32).source(rank, true));
        }
        String dump = System.getProperty("kiln.cuda.dumpSources");
        if (dump != null) {
            // For checking with nvcc where NVRTC is absent: nvcc -cubin -arch=sm_90 each file.
            try {
                java.nio.file.Files.createDirectories(java.nio.file.Path.of(dump));
                for (Map.Entry<String, String> e : sources.entrySet()) {
                    java.nio.file.Files.writeString(java.nio.file.Path.of(dump, e.getKey().replace(' ', '_') + ".cu"), e.getValue());
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        String why = null;
        try {
            Loader.load(nvrtc.class);
        } catch (Throwable t) {
            why = CudaLibraries.rootMessage(t);
        }
        String reason = why;
        Assumptions.assumeTrue(reason == null, () -> "NVRTC did not load: " + reason);
        NvrtcCompiler c = new NvrtcCompiler("sm_90");
        for (Map.Entry<String, String> e : sources.entrySet()) {
            byte[] cubin = c.compile(e.getKey().replace(' ', '_'), e.getValue());
            assertTrue(cubin.length > 0, e.getKey());
        }
    }

    private static void put(Map<String, String> m, MapKernel k) { m.put(k.name(), k.source(3, false)); }
}
