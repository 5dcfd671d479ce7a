package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.TensorType;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.javacpp.LongPointer;

/**
 * How an activation x[n, c, h, w] lies in memory between kernels. The IR's tensors are plain NCHW,
 * but oneDNN's convolution and pooling kernels run on channel-blocked memory (nChw16c: for each
 * image and block of 16 channels, h x w vectors of 16), and on plain memory they either run a slow
 * path or reorder inside every call. {@link MemoryFormats} keeps a value blocked from the kernel
 * that writes it to the kernels that read it, and reorders only where a plain reader needs it.
 *
 * <p>A value is blocked only when its channels fill whole blocks: then the blocked memory has the
 * plain memory's size (it is a permutation of it), so the memory plan, elementwise kernels over
 * same-shaped operands and the workspace of max pooling need not know.
 */
enum MemoryFormat {
    PLAIN,
    BLOCKED;

    /**
     * Channels per block on this CPU: 16 with AVX-512, 8 with AVX2, the vector widths oneDNN's
     * kernels block by; 0 (nothing is blocked) on older CPUs or with {@code -Dkiln.onednn.blocked=false}.
     */
    static final int BLOCK = !Boolean.parseBoolean(System.getProperty("kiln.onednn.blocked", "true")) ? 0
            : CpuFeatures.avx512() ? 16 : CpuFeatures.avx2() ? 8 : 0;

    /** Whether {@code t} may be held blocked: a 4-D f32 tensor whose channels fill whole blocks. */
    static boolean blockable(TensorType t) {
        return BLOCK > 0 && t.dtype() == DType.F32 && t.shape().rank() == 4 && t.shape().dim(1) % BLOCK == 0 && t.shape().size() > 0;
    }

    /** A 4-D descriptor of {@code dims} in this format ({@code t} may be u8/s32 for a pooling workspace); the caller destroys it. */
    dnnl_memory_desc desc(DType t, long[] dims) {
        if (this == PLAIN || dims.length != 4) {
            if (this != PLAIN) throw new IllegalArgumentException("a blocked operand must be 4-D, got " + java.util.Arrays.toString(dims));
            return OneDnnNative.desc(t, dims);
        }
        dnnl_memory_desc md = new dnnl_memory_desc();
        try (LongPointer d = new LongPointer(dims)) {
            check(dnnl_memory_desc_create_with_tag(md, 4, d, OneDnnNative.dataType(t), BLOCK == 16 ? dnnl_nChw16c : dnnl_nChw8c),
                    "blocked memory descriptor " + java.util.Arrays.toString(dims));
        }
        return md;
    }

    String label() { return this == PLAIN ? "nchw" : "nChw" + BLOCK + "c"; }
}
