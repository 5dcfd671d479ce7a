package dev.kiln.accel.cuda;

import dev.kiln.core.DType;

/**
 * Direct convolution and max-pool-index kernels, one thread per output element, each gathering
 * its own sum (so the adjoints need no atomics and are deterministic). They make every conv
 * primitive run on the GPU; cuDNN's tuned kernels are the faster path still to come. Geometry
 * arguments: N, C, H, W (input), O, OH, OW, KH, KW, stride, padding, dilation, groups.
 */
final class ConvKernels {
    private ConvKernels() {}

    private static final String PARAMS = "long long N, long long C, long long H, long long W, long long O, long long OH, long long OW, "
            + "long long KH, long long KW, long long SH, long long SW, long long PH, long long PW, long long DH, long long DW, long long G";

    private static String kernel(DType t, String args, String body) {
        return CudaTypes.PRELUDE + "extern \"C\" __global__ void k(long long total, " + PARAMS + ", " + args + ") {\n"
                + "  long long CG = C / G, OG = O / G;\n"
                + "  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total; i += (long long) gridDim.x * blockDim.x) {\n"
                + "    " + CudaTypes.compute(t) + " acc = 0;\n" + body.indent(4) + "  }\n}\n";
    }

    /** y[n,o,oh,ow] = sum over the group's channels and the window of x * w. */
    static String forward(DType t) {
        String s = CudaTypes.storage(t);
        return kernel(t, "const " + s + "* __restrict__ x, const " + s + "* __restrict__ w, " + s + "* __restrict__ y", """
                long long ow = i %% OW, oh = (i / OW) %% OH, o = (i / (OW * OH)) %% O, n = i / (OW * OH * O);
                long long g = o / OG;
                for (long long c = 0; c < CG; c++)
                  for (long long kh = 0; kh < KH; kh++) {
                    long long h = oh * SH - PH + kh * DH;
                    if (h < 0 || h >= H) continue;
                    for (long long kw = 0; kw < KW; kw++) {
                      long long ww = ow * SW - PW + kw * DW;
                      if (ww < 0 || ww >= W) continue;
                      acc += %s * %s;
                    }
                  }
                y[i] = %s;""".formatted(CudaTypes.load(t, "x[((n * C + g * CG + c) * H + h) * W + ww]"),
                CudaTypes.load(t, "w[((o * CG + c) * KH + kh) * KW + kw]"), CudaTypes.store(t, "acc")));
    }

    /** dx[n,ci,h,w] = sum over the window positions that read it of dy * w. */
    static String backwardData(DType t) {
        String s = CudaTypes.storage(t);
        return kernel(t, "const " + s + "* __restrict__ dy, const " + s + "* __restrict__ w, " + s + "* __restrict__ dx", """
                long long ww = i %% W, h = (i / W) %% H, ci = (i / (W * H)) %% C, n = i / (W * H * C);
                long long g = ci / CG, c = ci %% CG;
                for (long long oo = 0; oo < OG; oo++) {
                  long long o = g * OG + oo;
                  for (long long kh = 0; kh < KH; kh++) {
                    long long th = h + PH - kh * DH;
                    if (th < 0 || th %% SH != 0 || th / SH >= OH) continue;
                    for (long long kw = 0; kw < KW; kw++) {
                      long long tw = ww + PW - kw * DW;
                      if (tw < 0 || tw %% SW != 0 || tw / SW >= OW) continue;
                      acc += %s * %s;
                    }
                  }
                }
                dx[i] = %s;""".formatted(CudaTypes.load(t, "dy[((n * O + o) * OH + th / SH) * OW + tw / SW]"),
                CudaTypes.load(t, "w[((o * CG + c) * KH + kh) * KW + kw]"), CudaTypes.store(t, "acc")));
    }

    /** dw[o,c,kh,kw] = sum over the batch and output positions of dy * x. */
    static String backwardWeights(DType t) {
        String s = CudaTypes.storage(t);
        return kernel(t, "const " + s + "* __restrict__ x, const " + s + "* __restrict__ dy, " + s + "* __restrict__ dw", """
                long long kw = i %% KW, kh = (i / KW) %% KH, c = (i / (KW * KH)) %% CG, o = i / (KW * KH * CG);
                long long g = o / OG;
                for (long long n = 0; n < N; n++)
                  for (long long oh = 0; oh < OH; oh++) {
                    long long h = oh * SH - PH + kh * DH;
                    if (h < 0 || h >= H) continue;
                    for (long long ow = 0; ow < OW; ow++) {
                      long long ww = ow * SW - PW + kw * DW;
                      if (ww < 0 || ww >= W) continue;
                      acc += %s * %s;
                    }
                  }
                dw[i] = %s;""".formatted(CudaTypes.load(t, "dy[((n * O + o) * OH + oh) * OW + ow]"),
                CudaTypes.load(t, "x[((n * C + g * CG + c) * H + h) * W + ww]"), CudaTypes.store(t, "acc")));
    }

    /** The flat index into x of each window's first maximum; padding never wins. */
    static String maxPoolIndices(DType t) {
        String s = CudaTypes.storage(t), c = CudaTypes.compute(t);
        return CudaTypes.PRELUDE + "extern \"C\" __global__ void k(long long total, " + PARAMS + ", const " + s + "* __restrict__ x, int* __restrict__ y) {\n"
                + """
                  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total; i += (long long) gridDim.x * blockDim.x) {
                    long long ow = i %% OW, oh = (i / OW) %% OH, nc = i / (OW * OH);
                    long long best = -1;
                    %1$s bv = 0;
                    for (long long kh = 0; kh < KH; kh++) {
                      long long h = oh * SH - PH + kh * DH;
                      if (h < 0 || h >= H) continue;
                      for (long long kw = 0; kw < KW; kw++) {
                        long long ww = ow * SW - PW + kw * DW;
                        if (ww < 0 || ww >= W) continue;
                        long long at = (nc * H + h) * W + ww;
                        %1$s v = %2$s;
                        if (best < 0 || v > bv) { best = at; bv = v; }
                      }
                    }
                    y[i] = (int) best;
                  }
                }
                """.formatted(c, CudaTypes.load(t, "x[at]"));
    }
}
