package dev.kiln.api;

import dev.kiln.api.internal.StateUpdates;
import dev.kiln.api.internal.StepSeeds;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Parameter;
import dev.kiln.runtime.trace.Tracer;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A tensor function traced once per input signature and run as one compiled graph, as JAX's
 * {@code jit} or {@code torch.compile}: see {@link Kiln#compile}. Tensors the function reads
 * besides its arguments (weights, constants) become inputs of the graph; a parameter of the
 * modules named at compile time is read afresh on every call, so an optimizer's steps between
 * calls are seen without retracing. Any other captured tensor must stay open; if it has been
 * closed, the function is traced again.
 *
 * <p>The function must be pure: no batch-norm statistics updated (training mode), no dropout
 * (random numbers are drawn per step by the trainer). Those are refused at tracing, naming what to
 * do instead. Calls may come from any thread; the graph compiles once and then only runs.
 */
public final class CompiledFunction {
    private final Kiln kiln;
    private final Function<List<Tensor>, List<Tensor>> fn;
    private final List<Module> modules;
    private final Map<List<TensorType>, Trace> traces = new ConcurrentHashMap<>();

    /** One signature's graph and what to feed after the arguments: a Parameter's current value or a captured tensor. */
    private record Trace(Graph graph, List<Object> captured) {}

    CompiledFunction(Kiln kiln, Function<List<Tensor>, List<Tensor>> fn, List<Module> modules) {
        this.kiln = kiln;
        this.fn = fn;
        this.modules = List.copyOf(modules);
    }

    /** Runs the compiled graph on {@code inputs} (eager tensors of this Kiln); returns new tensors. */
    public List<Tensor> apply(Tensor... inputs) {
        List<TensorType> key = new ArrayList<>(inputs.length);
        for (Tensor t : inputs) {
            if (t.kiln() != kiln) throw new IllegalArgumentException("compiled function: an input belongs to another Kiln");
            if (t.isSymbolic()) throw new IllegalArgumentException("compiled function: the inputs must be concrete tensors, not traced ones");
            key.add(t.type());
        }
        Trace tr = traces.get(key);
        if (tr == null || stale(tr)) {
            tr = trace(key);
            traces.put(key, tr);
        }
        List<Tensor> in = new ArrayList<>(List.of(inputs));
        for (Object c : tr.captured()) in.add(c instanceof Parameter p ? p.value(kiln) : (Tensor) c);
        List<Buffer> out = kiln.run(tr.graph(), in);
        List<Tensor> result = new ArrayList<>(out.size());
        for (Buffer b : out) result.add(Tensor.wrap(kiln, b));
        return result;
    }

    /** The first output, for functions of one result. */
    public Tensor apply1(Tensor... inputs) { return apply(inputs).getFirst(); }

    private static boolean stale(Trace t) {
        for (Object c : t.captured()) if (c instanceof Tensor x && x.isClosed()) return true;
        return false;
    }

    private Trace trace(List<TensorType> types) {
        Map<Tensor, Parameter> parameterOf = new IdentityHashMap<>();
        for (Module m : modules) for (Parameter p : m.parameters()) parameterOf.put(p.value(kiln), p);
        Tracer tr = new Tracer();
        List<Tensor> args = new ArrayList<>(types.size());
        for (TensorType t : types) args.add(Tensor.symbolic(kiln, tr, tr.builder().input(t)));
        List<Tensor> outs = fn.apply(args);
        if (!StateUpdates.take(tr).isEmpty()) {
            throw new IllegalArgumentException("compiled function: it updates module state (batch norm in training mode); call eval() on the model, or train with a Trainer");
        }
        if (!StepSeeds.take(tr).isEmpty()) {
            throw new IllegalArgumentException("compiled function: it draws random numbers (dropout in training mode); call eval() on the model, or train with a Trainer");
        }
        if (outs == null || outs.isEmpty()) throw new IllegalArgumentException("compiled function: the function returned no tensors");
        List<Value> values = new ArrayList<>(outs.size());
        for (Tensor o : outs) {
            if (o.tracer() != tr) throw new IllegalArgumentException("compiled function: every result must be computed from the arguments (return x.mul(1) for a copy)");
            values.add(o.value());
        }
        Graph g = tr.builder().build(values);
        List<Object> captured = new ArrayList<>();
        for (Object owner : tr.capturedOwners()) {
            Parameter p = parameterOf.get(owner);
            captured.add(p != null ? p : owner);
        }
        return new Trace(g, captured);
    }
}
