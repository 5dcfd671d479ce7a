package dev.kiln.spi.ir;

import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import java.util.List;

/** {@code xhat = (x - mean) * inv} over the trailing {@code axes}, with {@code inv = 1 / sqrt(var + eps)}. */
record Normalized(Value xhat, Value inv, List<Integer> over, long count) {
    static Normalized of(Graph.Builder b, Value x, int axes, double eps) {
        Shape s = x.type().shape();
        List<Integer> over = new java.util.ArrayList<>();
        long count = 1;
        for (int i = s.rank() - axes; i < s.rank(); i++) {
            over.add(i);
            count *= s.dim(i);
        }
        Value mean = b.mul(b.sum(x, over, true), b.scalar(1.0 / count, x));
        Value d = b.sub(x, mean);
        Value var = b.mul(b.sum(b.mul(d, d), over, true), b.scalar(1.0 / count, x));
        Value inv = b.div(b.scalar(1, x), b.unary(UnaryFn.SQRT, b.add(var, b.scalar(eps, x))));
        return new Normalized(b.mul(d, inv), inv, over, count);
    }
}
