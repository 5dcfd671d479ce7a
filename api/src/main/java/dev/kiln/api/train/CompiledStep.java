package dev.kiln.api.train;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.api.internal.Internal;
import dev.kiln.api.internal.Lease;
import dev.kiln.api.internal.StateUpdates;
import dev.kiln.api.internal.StepSeeds;
import dev.kiln.api.loss.Loss;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.optim.Optimizer;
import dev.kiln.core.DType;
import dev.kiln.runtime.autodiff.Autodiff;
import dev.kiln.runtime.trace.Tracer;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A whole training step — forward, loss, backward, optimizer update — traced once into one graph
 * and compiled once; each {@link #run} is one call into the plugin. With {@code train == false}
 * it is the forward pass and loss only, for evaluation. With a {@link LossScaler} the step
 * differentiates the scaled loss and applies the update only when every gradient is finite.
 */
final class CompiledStep implements AutoCloseable {
    /** Where each graph input's buffer comes from at run time. */
    private sealed interface Source permits Batch, Param, State, Constant, Seed, Scalar, ModuleBuffer, ScalerState {}
    private record Batch(int which) implements Source {}
    private record Param(int index) implements Source {}
    private record State(int param, int slot) implements Source {}
    private record Constant(Tensor tensor) implements Source {}
    private record Seed() implements Source {}
    private record Scalar(int which) implements Source {}
    /** A module buffer (BatchNorm running statistics): read fresh each run, since the step replaces it. */
    private record ModuleBuffer(Parameter buffer) implements Source {}
    /** One of the {@link LossScaler#STATE} scalars. */
    private record ScalerState(int slot) implements Source {}

    private static final TensorType F32_SCALAR = LossScaler.F32_SCALAR;

    private final Kiln kiln;
    private final boolean train;
    private final List<Parameter> params;
    private final List<Source> sources = new ArrayList<>();
    private final Executable executable;
    private final TensorType xType, yType;
    private final int logitsSize;
    private final LossScaler scaler;

    /** {@code scaler} is null for evaluation and for training without loss scaling. */
    CompiledStep(Kiln kiln, Module model, Loss loss, Optimizer optimizer, LossScaler scaler, TensorType xType, TensorType yType, boolean train) {
        this.kiln = kiln;
        this.train = train;
        this.scaler = train ? scaler : null;
        this.xType = xType;
        this.yType = yType;
        this.params = model.parameters();
        Internal.Access a = Internal.access();
        Map<Tensor, Integer> paramOf = new IdentityHashMap<>();
        for (int i = 0; i < params.size(); i++) paramOf.put(params.get(i).value(kiln), i);
        Map<Tensor, Parameter> bufferOf = new IdentityHashMap<>();
        for (Parameter p : model.namedBuffers().values()) bufferOf.put(p.value(kiln), p);

        Tracer tr = new Tracer();
        Value xv = tr.builder().input(xType), yv = tr.builder().input(yType);
        boolean wasTraining = model.isTraining();
        if (train) model.train(); else model.eval();
        Tensor out, l;
        try {
            out = model.forward(a.symbolic(kiln, tr, xv));
            l = loss.compute(out, a.symbolic(kiln, tr, yv));
        } finally {
            if (wasTraining) model.train(); else model.eval();
        }
        if (!l.isSymbolic() || l.shape().rank() != 0) throw new IllegalArgumentException("the loss must be a scalar computed from the model output, got " + l.shape());
        logitsSize = Math.toIntExact(out.shape().size());
        // Buffer updates (running statistics) are extra forward outputs, so they survive lowering and autodiff.
        List<StateUpdates.Update> updates = StateUpdates.take(tr);
        List<Value> forwardOuts = new ArrayList<>(List.of(a.value(l), a.value(out)));
        // Autodiff differentiates the first output: with loss scaling that is loss * scale, and the loss itself comes next.
        Value scaleIn = null;
        if (this.scaler != null) {
            scaleIn = tr.builder().input(F32_SCALAR);
            forwardOuts.addFirst(a.value(l.mul(a.symbolic(kiln, tr, scaleIn))));
        }
        int first = scaleIn == null ? 0 : 1;
        for (StateUpdates.Update u : updates) forwardOuts.add(u.value());
        bufferTargets = updates.stream().map(StateUpdates.Update::target).toList();
        int nb = bufferTargets.size();
        Graph forward = tr.builder().build(forwardOuts);

        List<Value> seeds = StepSeeds.take(tr);
        List<Object> owners = tr.capturedOwners();
        List<Integer> wrt = new ArrayList<>();
        List<Integer> paramInput = new ArrayList<>();
        for (int i = 0; i < forward.inputs().size(); i++) {
            Value in = forward.inputs().get(i);
            if (in.equals(xv)) sources.add(new Batch(0));
            else if (in.equals(yv)) sources.add(new Batch(1));
            else if (seeds.contains(in)) sources.add(new Seed());
            else if (in.equals(scaleIn)) sources.add(new ScalerState(LossScaler.SCALE));
            else {
                Tensor owner = (Tensor) owners.get(indexOfCaptured(tr, owners, in));
                Integer p = paramOf.get(owner);
                if (p != null) {
                    sources.add(new Param(p));
                    wrt.add(i);
                    paramInput.add(p);
                } else if (bufferOf.containsKey(owner)) sources.add(new ModuleBuffer(bufferOf.get(owner)));
                else sources.add(new Constant(owner));
            }
        }
        Graph graph = forward;
        if (train) {
            if (wrt.isEmpty()) throw new IllegalArgumentException("the model has no trainable parameters that reach the loss");
            Graph grads = Autodiff.gradients(forward, wrt);
            Graph.Builder b = Graph.Builder.from(grads);
            Tracer upd = new Tracer(b);
            Value lr = b.input(F32_SCALAR), step = b.input(F32_SCALAR);
            sources.add(new Scalar(0));
            sources.add(new Scalar(1));
            Tensor stepT = a.symbolic(kiln, upd, step);
            List<Value> outs = new ArrayList<>(grads.outputs().subList(first, first + 2));
            List<Value> newStates = new ArrayList<>();
            // Global-norm clipping needs every gradient before any update, so it is one graph section here.
            List<Tensor> gs = new ArrayList<>();
            for (int k = 0; k < wrt.size(); k++) gs.add(a.symbolic(kiln, upd, grads.outputs().get(first + 2 + nb + k)));
            LossScaler.Unscaled unscaled = null;
            if (this.scaler != null) {
                Value good = b.input(F32_SCALAR), skipped = b.input(F32_SCALAR);
                sources.add(new ScalerState(LossScaler.GOOD_STEPS));
                sources.add(new ScalerState(LossScaler.SKIPPED_STEPS));
                Tensor skippedT = a.symbolic(kiln, upd, skipped);
                unscaled = this.scaler.unscale(gs, a.symbolic(kiln, upd, scaleIn), a.symbolic(kiln, upd, good), skippedT);
                gs = unscaled.grads();
                // PyTorch never calls optimizer.step() for a skipped step, so Adam's bias correction does not count it.
                stepT = stepT.sub(skippedT);
            }
            gs = optimizer.clipGradients(gs);
            for (int k = 0; k < wrt.size(); k++) {
                Value pv = forward.inputs().get(wrt.get(k));
                List<Tensor> state = new ArrayList<>();
                for (int s = 0; s < optimizer.stateSize(); s++) {
                    state.add(a.symbolic(kiln, upd, b.input(pv.type())));
                    sources.add(new State(paramInput.get(k), s));
                }
                Tensor param = a.symbolic(kiln, upd, pv);
                List<Tensor> r = optimizer.update(param, gs.get(k), state, a.symbolic(kiln, upd, lr), stepT);
                if (unscaled != null) r = keepOnOverflow(unscaled.finite(), r, param, state);
                outs.add(a.value(r.getFirst()));
                for (int s = 1; s < r.size(); s++) newStates.add(a.value(r.get(s)));
            }
            outs.addAll(newStates);
            outs.addAll(grads.outputs().subList(first + 2, first + 2 + nb));
            if (unscaled != null) for (Tensor t : unscaled.nextState()) outs.add(a.value(t));
            graph = b.build(outs);
            updatedParams = paramInput;
        } else {
            updatedParams = List.of();
        }
        this.graphNodes = graph.nodes().size();
        this.graphInputs = graph.inputs().size();
        a.enter(kiln);
        try {
            this.executable = a.compiler(kiln).compile(graph);
        } finally {
            a.exit(kiln);
        }
        this.executableOutputs = graph.outputs().stream().map(Value::type).toList();
        this.fixed = new Buffer[sources.size()];
        this.stateSize = optimizer == null ? 0 : optimizer.stateSize();
    }

    private final List<Integer> updatedParams;
    /** Per source: the buffer refilled each run (batch, seed, scalar), else null. */
    private final Buffer[] fixed;
    private final List<TensorType> executableOutputs;
    private Buffer loss, logits;
    /** Host staging for seeds and scalars, reused every run. */
    private final MemorySegment scratch = MemorySegment.ofArray(new long[1]);
    /** Buffers the step updates, in the order of the graph's last outputs. */
    private final List<Parameter> bufferTargets;
    /** Size of the traced graph before plugin compilation, for the compile JFR event. */
    final int graphNodes, graphInputs;
    private final int stateSize;

    /**
     * The update where the gradients were finite, else the old parameter and state: a select
     * rather than a branch, so the step stays one static graph.
     */
    private static List<Tensor> keepOnOverflow(Tensor finite, List<Tensor> updated, Tensor param, List<Tensor> state) {
        List<Tensor> kept = new ArrayList<>(updated.size());
        kept.add(finite.where(updated.getFirst(), param));
        for (int s = 0; s < state.size(); s++) kept.add(finite.where(updated.get(s + 1), state.get(s)));
        return kept;
    }

    private static int indexOfCaptured(Tracer tr, List<Object> owners, Value in) {
        for (int i = 0; i < owners.size(); i++) if (tr.capturedValue(owners.get(i)).equals(in)) return i;
        throw new IllegalStateException("graph input " + in + " has no source");
    }

    /** The width of the model's output per example: the number of classes labels index. */
    int classes() { return logitsSize / xType.shape().dim(0); }

    /** Loss and model output of one step; in training mode the parameters and {@code state} are updated. */
    record Result(float loss, float[] output) {}

    /**
     * One step with no per-step native allocation: the batch, seeds and scalars are copied into
     * buffers made on the first run, and the executable writes the parameters, optimizer state and
     * module buffers straight back into their own buffers (donated outputs), so the tensors users
     * hold keep their identity and see the new values, as in PyTorch.
     */
    Result run(float[] x, int[] y, double lr, long step, Map<Parameter, Buffer[]> state) {
        Internal.Access a = Internal.access();
        a.enter(kiln);
        leases.clear();
        try {
            return runEntered(a, x, y, lr, step, state);
        } finally {
            for (Lease l : leases) l.close();
            leases.clear();
            a.exit(kiln);
        }
    }

    /** The tensors a run reads or writes, pinned so that closing one on another thread cannot free it mid-step. */
    private final List<Lease> leases = new ArrayList<>();

    private Buffer pinned(Tensor t) {
        Lease l = Internal.access().lease(t);
        leases.add(l);
        return l.buffer();
    }

    private Result runEntered(Internal.Access a, float[] x, int[] y, double lr, long step, Map<Parameter, Buffer[]> state) {
        Accelerator acc = a.compiler(kiln).accelerator();
        if (loss == null) allocateFixed(acc);
        List<Buffer> inputs = new ArrayList<>(sources.size());
        for (int i = 0; i < sources.size(); i++) {
            Buffer fixedBuffer = fixed[i];
            Buffer b = switch (sources.get(i)) {
                case Batch bt when bt.which() == 0 -> fill(acc, fixedBuffer, MemorySegment.ofArray(x));
                case Batch bt -> fill(acc, fixedBuffer, MemorySegment.ofArray(y));
                case Param p -> pinned(params.get(p.index()).value(kiln));
                case State st -> state.computeIfAbsent(params.get(st.param()), k -> zeros(k))[st.slot()];
                case Constant c -> pinned(c.tensor());
                case ModuleBuffer m -> pinned(m.buffer().value(kiln));
                case ScalerState ss -> scaler.state()[ss.slot()];
                case Seed sd -> {
                    scratch.set(ValueLayout.JAVA_LONG, 0, a.nextSeed(kiln));
                    yield fill(acc, fixedBuffer, scratch);
                }
                case Scalar sc -> {
                    scratch.set(ValueLayout.JAVA_FLOAT, 0, sc.which() == 0 ? (float) lr : (float) step);
                    yield fill(acc, fixedBuffer, scratch);
                }
            };
            inputs.add(b);
        }
        List<Buffer> outs = new ArrayList<>(2 + updatedParams.size() * (1 + stateSize) + bufferTargets.size());
        outs.add(loss);
        outs.add(logits);
        if (train) {
            for (int k : updatedParams) outs.add(pinned(params.get(k).value(kiln)));
            for (int k : updatedParams) for (Buffer b : state.get(params.get(k))) outs.add(b);
        }
        for (Parameter p : bufferTargets) outs.add(pinned(p.value(kiln)));
        if (scaler != null) for (Buffer b : scaler.state()) outs.add(b);
        executable.run(inputs, outs);
        float[] lossHost = new float[1];
        float[] outHost = new float[logitsSize];
        a.download(kiln, loss, MemorySegment.ofArray(lossHost));
        a.download(kiln, logits, MemorySegment.ofArray(outHost));
        return new Result(lossHost[0], outHost);
    }

    /** The buffers refilled every step (batch, seeds, scalars) and the loss and output buffers. */
    private void allocateFixed(Accelerator acc) {
        for (int i = 0; i < sources.size(); i++) {
            TensorType t = switch (sources.get(i)) {
                case Batch bt -> bt.which() == 0 ? xType : yType;
                case Seed sd -> StepSeeds.SEED;
                case Scalar sc -> F32_SCALAR;
                default -> null;
            };
            if (t != null) fixed[i] = acc.allocate(t);
        }
        logits = acc.allocate(executableOutputs.get(1));
        loss = acc.allocate(executableOutputs.get(0));
    }

    private static Buffer fill(Accelerator acc, Buffer dst, MemorySegment host) {
        acc.copyIn(host, dst);
        return dst;
    }

    private Buffer[] zeros(Parameter p) {
        Buffer[] b = new Buffer[stateSize];
        TensorType t = new TensorType(DType.F32, p.shape());
        for (int i = 0; i < stateSize; i++) {
            b[i] = Internal.access().upload(kiln, t, MemorySegment.ofArray(new float[Math.toIntExact(p.shape().size())]));
        }
        return b;
    }

    @Override public void close() {
        executable.close();
        for (Buffer b : fixed) if (b != null) b.close();
        if (loss != null) loss.close();
        if (logits != null) logits.close();
    }
}
