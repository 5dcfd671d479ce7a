package dev.kiln.api.internal;

import dev.kiln.api.Tensor;
import dev.kiln.api.nn.Parameter;
import dev.kiln.runtime.trace.Tracer;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * New values for module buffers (BatchNorm's running statistics) computed in a forward pass.
 * Eagerly the buffer takes the value at once; in a traced step the value is remembered, the
 * compiled step returns it as an extra output and writes it back after each run, so buffers
 * update inside compiled training exactly as they do eagerly.
 */
public final class StateUpdates {
    /** Buffer {@code target} gets the traced {@code value} when the step runs. */
    public record Update(Parameter target, Value value) {}

    private static final Map<Tracer, List<Update>> PENDING = Collections.synchronizedMap(new WeakHashMap<>());

    private StateUpdates() {}

    /** Sets {@code target} to {@code value} now (eager) or when the traced step runs. */
    public static void assign(Parameter target, Tensor value) {
        Internal.Access a = Internal.access();
        Tracer tr = a.tracer(value);
        if (tr == null) {
            target.assign(value);
            return;
        }
        PENDING.computeIfAbsent(tr, t -> new ArrayList<>()).add(new Update(target, a.value(value)));
    }

    /** The updates a trace recorded, in order; forgets them. */
    public static List<Update> take(Tracer tr) {
        List<Update> u = PENDING.remove(tr);
        return u == null ? List.of() : u;
    }
}
