package dev.kiln.spi.ir;

import dev.kiln.spi.ir.Primitive.UnaryFn;
import java.util.List;

/**
 * {@code xhat = (x - mean) * inv} over {@code over}, with {@code inv = 1 / sqrt(var + eps)} and the
 * biased variance (mean and var keep their reduced axes as size 1): the statistics layer and batch
 * norm share, forward and backward.
 */
record Normalized(Value xhat, Value inv, Value mean, Value var, List<Integer> over, long count) {
    static Normalized of(Graph.Builder b, Value x, List<Integer> over, double eps) {
        long count = 1;
        for (int a : over) count *= x.type().shape().dim(a);
        Value mean = b.mul(b.sum(x, over, true), b.scalar(1.0 / count, x));
        Value d = b.sub(x, mean);
        Value var = b.mul(b.sum(b.mul(d, d), over, true), b.scalar(1.0 / count, x));
        Value inv = b.div(b.scalar(1, x), b.unary(UnaryFn.SQRT, b.add(var, b.scalar(eps, x))));
        return new Normalized(b.mul(d, inv), inv, mean, var, List.copyOf(over), count);
    }

    /** The input's gradient given {@code g}, the gradient of xhat: {@code inv * (g - mean(g) - xhat * mean(g * xhat))}. */
    Value inputGrad(Graph.Builder b, Value g) {
        Value meanG = b.mul(b.sum(g, over, true), b.scalar(1.0 / count, g));
        Value meanGx = b.mul(b.sum(b.mul(g, xhat), over, true), b.scalar(1.0 / count, g));
        return b.mul(inv, b.sub(b.sub(g, meanG), b.mul(xhat, meanGx)));
    }
}
