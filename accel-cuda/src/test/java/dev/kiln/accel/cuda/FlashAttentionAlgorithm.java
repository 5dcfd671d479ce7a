package dev.kiln.accel.cuda;

import java.util.function.DoubleUnaryOperator;

/**
 * The algorithm of {@link FlashAttentionKernels} transcribed into Java float64, loop for loop:
 * the same query and key blocks, the same causal block limits, the same online-softmax
 * recurrences in base 2, the same row log-sum-exp, the same backward split (dK/dV per key
 * block over query blocks, dQ per query block over key blocks, both from delta). Only the
 * arithmetic is wider. {@code operand} rounds what the tensor-core kernels round before their
 * second products (P before P V, dS before dS K and dS^T Q); identity for the SIMT kernels.
 * Layouts as the composite's: q[b, t, d], k[b, s, d], v[b, s, e], row-major.
 */
final class FlashAttentionAlgorithm {
    private FlashAttentionAlgorithm() {}

    static final double LOG2E = 1 / Math.log(2);

    record Shape(int b, int t, int s, int d, int e, boolean causal, double scale) {}

    /** The forward's results: o[b, t, e], lse[b, t] (base 2, scaled units), and how many key blocks were visited. */
    record Forward(double[] o, double[] lse, long keyBlocks) {}

    record Backward(double[] dq, double[] dk, double[] dv) {}

    static Forward forward(Shape sh, double[] q, double[] k, double[] v, int br, int bc, DoubleUnaryOperator operand) {
        int T = sh.t(), S = sh.s(), D = sh.d(), E = sh.e();
        double c = sh.scale() * LOG2E;
        double[] o = new double[sh.b() * T * E], lse = new double[sh.b() * T];
        long visited = 0;
        for (int b = 0; b < sh.b(); b++) {
            for (int q0 = 0; q0 < T; q0 += br) {
                double[] m = new double[br], l = new double[br], acc = new double[br * E];
                java.util.Arrays.fill(m, Double.NEGATIVE_INFINITY);
                int kend = sh.causal() ? Math.min(S, q0 + br) : S;
                for (int k0 = 0; k0 < kend; k0 += bc) {
                    visited++;
                    double[] p = new double[br * bc];
                    for (int r = 0; r < br; r++) {
                        for (int j = 0; j < bc; j++) {
                            boolean seen = k0 + j < S && (!sh.causal() || k0 + j <= q0 + r);
                            // Rows past T read zero queries, as the kernels' zero-padded tiles do.
                            double s = 0;
                            if (q0 + r < T && k0 + j < S) for (int x = 0; x < D; x++) s += q[((b * T) + q0 + r) * D + x] * k[((b * S) + k0 + j) * D + x];
                            p[r * bc + j] = seen ? s * c : Double.NEGATIVE_INFINITY;
                        }
                    }
                    for (int r = 0; r < br; r++) {
                        double mx = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < bc; j++) mx = Math.max(mx, p[r * bc + j]);
                        double mnew = Math.max(m[r], mx), sum = 0;
                        for (int j = 0; j < bc; j++) {
                            p[r * bc + j] = Math.pow(2, p[r * bc + j] - mnew);
                            sum += p[r * bc + j];
                        }
                        double alpha = Math.pow(2, m[r] - mnew);
                        l[r] = l[r] * alpha + sum;
                        m[r] = mnew;
                        for (int x = 0; x < E; x++) {
                            double a = acc[r * E + x] * alpha;
                            for (int j = 0; j < bc; j++) if (k0 + j < S) a += operand.applyAsDouble(p[r * bc + j]) * v[((b * S) + k0 + j) * E + x];
                            acc[r * E + x] = a;
                        }
                    }
                }
                for (int r = 0; r < br && q0 + r < T; r++) {
                    for (int x = 0; x < E; x++) o[((b * T) + q0 + r) * E + x] = acc[r * E + x] / l[r];
                    lse[b * T + q0 + r] = m[r] + Math.log(l[r]) * LOG2E;
                }
            }
        }
        return new Forward(o, lse, visited);
    }

    /** delta[row] = dO[row] . o[row]. */
    static double[] delta(Shape sh, double[] o, double[] dO) {
        double[] delta = new double[sh.b() * sh.t()];
        for (int row = 0; row < delta.length; row++) {
            double s = 0;
            for (int x = 0; x < sh.e(); x++) s += dO[row * sh.e() + x] * o[row * sh.e() + x];
            delta[row] = s;
        }
        return delta;
    }

    /** The backward from the forward's lse and delta; {@code dkdv} and {@code dqTiles} are {br, bc} of the two kernels. */
    static Backward backward(Shape sh, double[] q, double[] k, double[] v, double[] dO, double[] lse, double[] delta,
                             int[] dkdv, int[] dqTiles, DoubleUnaryOperator operand) {
        int T = sh.t(), S = sh.s(), D = sh.d(), E = sh.e();
        double c = sh.scale() * LOG2E;
        double[] dq = new double[q.length], dk = new double[k.length], dv = new double[v.length];
        for (int b = 0; b < sh.b(); b++) {
            int br = dkdv[0], bc = dkdv[1];
            for (int k0 = 0; k0 < S; k0 += bc) {
                double[] ka = new double[bc * D], va = new double[bc * E];
                for (int q0 = sh.causal() ? k0 / br * br : 0; q0 < T; q0 += br) {
                    for (int r = 0; r < br; r++) {
                        for (int j = 0; j < bc; j++) {
                            double[] pd = pds(sh, q, k, v, dO, lse, delta, b, q0 + r, k0 + j, c);
                            double p = operand.applyAsDouble(pd[0]), ds = operand.applyAsDouble(pd[1]);
                            if (pd[0] == 0 && pd[1] == 0) continue;
                            for (int x = 0; x < D; x++) ka[j * D + x] += ds * q[((b * T) + q0 + r) * D + x];
                            for (int x = 0; x < E; x++) va[j * E + x] += p * dO[((b * T) + q0 + r) * E + x];
                        }
                    }
                }
                for (int j = 0; j < bc && k0 + j < S; j++) {
                    for (int x = 0; x < D; x++) dk[((b * S) + k0 + j) * D + x] = ka[j * D + x] * sh.scale();
                    for (int x = 0; x < E; x++) dv[((b * S) + k0 + j) * E + x] = va[j * E + x];
                }
            }
            br = dqTiles[0];
            bc = dqTiles[1];
            for (int q0 = 0; q0 < T; q0 += br) {
                double[] qa = new double[br * D];
                int kend = sh.causal() ? Math.min(S, q0 + br) : S;
                for (int k0 = 0; k0 < kend; k0 += bc) {
                    for (int r = 0; r < br; r++) {
                        for (int j = 0; j < bc; j++) {
                            double ds = operand.applyAsDouble(pds(sh, q, k, v, dO, lse, delta, b, q0 + r, k0 + j, c)[1]);
                            if (ds != 0) for (int x = 0; x < D; x++) qa[r * D + x] += ds * k[((b * S) + k0 + j) * D + x];
                        }
                    }
                }
                for (int r = 0; r < br && q0 + r < T; r++) {
                    for (int x = 0; x < D; x++) dq[((b * T) + q0 + r) * D + x] = qa[r * D + x] * sh.scale();
                }
            }
        }
        return new Backward(dq, dk, dv);
    }

    /** {p, dS} of query i, key j: p = exp2(s c - L), dS = p (dp - delta); zero where the pair is masked or padding. */
    private static double[] pds(Shape sh, double[] q, double[] k, double[] v, double[] dO, double[] lse, double[] delta, int b, int i, int j, double c) {
        boolean seen = i < sh.t() && j < sh.s() && (!sh.causal() || j <= i);
        if (!seen) return new double[2];
        double s = 0, dp = 0;
        for (int x = 0; x < sh.d(); x++) s += q[((b * sh.t()) + i) * sh.d() + x] * k[((b * sh.s()) + j) * sh.d() + x];
        for (int x = 0; x < sh.e(); x++) dp += dO[((b * sh.t()) + i) * sh.e() + x] * v[((b * sh.s()) + j) * sh.e() + x];
        double p = Math.pow(2, s * c - lse[b * sh.t() + i]);
        return new double[] {p, p * (dp - delta[b * sh.t() + i])};
    }

    // ---- naive attention, as the composite's decomposition computes it ---------------------------

    /** softmax(q k^T scale, masked with the composite's MASKED value) over keys: [b, t, s]. */
    static double[] probabilities(Shape sh, double[] q, double[] k) {
        int T = sh.t(), S = sh.s();
        double[] p = new double[sh.b() * T * S];
        for (int b = 0; b < sh.b(); b++) {
            for (int i = 0; i < T; i++) {
                double mx = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < S; j++) {
                    double s = 0;
                    for (int x = 0; x < sh.d(); x++) s += q[((b * T) + i) * sh.d() + x] * k[((b * S) + j) * sh.d() + x];
                    s *= sh.scale();
                    if (sh.causal() && j > i) s = dev.kiln.spi.ir.Composite.Attention.MASKED;
                    p[((b * T) + i) * S + j] = s;
                    mx = Math.max(mx, s);
                }
                double sum = 0;
                for (int j = 0; j < S; j++) sum += p[((b * T) + i) * S + j] = Math.exp(p[((b * T) + i) * S + j] - mx);
                for (int j = 0; j < S; j++) p[((b * T) + i) * S + j] /= sum;
            }
        }
        return p;
    }

    static double[] naiveForward(Shape sh, double[] q, double[] k, double[] v) {
        double[] p = probabilities(sh, q, k), o = new double[sh.b() * sh.t() * sh.e()];
        for (int b = 0; b < sh.b(); b++)
            for (int i = 0; i < sh.t(); i++)
                for (int j = 0; j < sh.s(); j++)
                    for (int x = 0; x < sh.e(); x++) o[((b * sh.t()) + i) * sh.e() + x] += p[((b * sh.t()) + i) * sh.s() + j] * v[((b * sh.s()) + j) * sh.e() + x];
        return o;
    }

    /** The decomposition of AttentionGrad: dv = P^T dO, dP = dO v^T, dS = P (dP - rowsum(dP P)) scale, dq = dS k, dk = dS^T q. */
    static Backward naiveBackward(Shape sh, double[] q, double[] k, double[] v, double[] dO) {
        int T = sh.t(), S = sh.s(), D = sh.d(), E = sh.e();
        double[] p = probabilities(sh, q, k), dq = new double[q.length], dk = new double[k.length], dv = new double[v.length];
        for (int b = 0; b < sh.b(); b++) {
            for (int i = 0; i < T; i++) {
                double[] dp = new double[S];
                double dot = 0;
                for (int j = 0; j < S; j++) {
                    for (int x = 0; x < E; x++) dp[j] += dO[((b * T) + i) * E + x] * v[((b * S) + j) * E + x];
                    dot += dp[j] * p[((b * T) + i) * S + j];
                }
                for (int j = 0; j < S; j++) {
                    double pij = p[((b * T) + i) * S + j], ds = pij * (dp[j] - dot) * sh.scale();
                    for (int x = 0; x < E; x++) dv[((b * S) + j) * E + x] += pij * dO[((b * T) + i) * E + x];
                    for (int x = 0; x < D; x++) {
                        dq[((b * T) + i) * D + x] += ds * k[((b * S) + j) * D + x];
                        dk[((b * S) + j) * D + x] += ds * q[((b * T) + i) * D + x];
                    }
                }
            }
        }
        return new Backward(dq, dk, dv);
    }
}
