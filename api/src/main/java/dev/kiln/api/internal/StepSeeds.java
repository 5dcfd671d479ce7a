package dev.kiln.api.internal;

import dev.kiln.api.Tensor;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.runtime.trace.Tracer;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Seeds for random ops. Eagerly each call draws a fresh seed from the Kiln; in a traced step each
 * call becomes an i64 graph input of its own, which the compiled step feeds with fresh seeds
 * every iteration, so masks differ per step yet a run is reproducible from the Kiln's seed.
 */
public final class StepSeeds {
    public static final TensorType SEED = new TensorType(DType.I64, Shape.scalar());
    private static final Map<Tracer, List<Value>> INPUTS = Collections.synchronizedMap(new WeakHashMap<>());

    private StepSeeds() {}

    /** A seed tensor on the same side (eager or traced) as {@code like}. */
    public static Tensor next(Tensor like) {
        Internal.Access a = Internal.access();
        Tracer tr = a.tracer(like);
        if (tr == null) return like.kiln().tensor(new long[] {a.nextSeed(like.kiln())});
        Value v = tr.builder().input(SEED);
        INPUTS.computeIfAbsent(tr, t -> new ArrayList<>()).add(v);
        return a.symbolic(like.kiln(), tr, v);
    }

    /** The seed inputs a trace created, in order; forgets them. */
    public static List<Value> take(Tracer tr) {
        List<Value> v = INPUTS.remove(tr);
        return v == null ? List.of() : v;
    }
}
