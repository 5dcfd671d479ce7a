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
 * it is the forward pass and loss only, for evaluation; with no loss either, the forward pass
 * alone, for prediction (the targets input is then left out). With a {@link LossScaler} the step
 * differentiates the scaled loss and applies the update only when every gradient is finite.
 */
final class CompiledStep implements AutoCloseable {
    /** Where each graph input's buffer comes from at run time. */
    private sealed interface Source permits Batch, Param, State, Constant, Seed, Scalar, ModuleBuffer, ScalerState, Bucket {}
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
    /** A gradient bucket of a split step (see {@link Split}). */
    private record Bucket(int index) implements Source {}

    /**
     * A step split at the gradients, for data-parallel training and gradient accumulation: one
     * executable computes the loss and the gradients packed into {@link Buckets}; the buckets are
     * then summed across ranks by {@code group} (when there is one); a second executable
     * unscales, clips and applies the optimizer. With {@code accumulation > 1} a third variant
     * of the first adds the gradients into the buckets. Each batch's gradients come out already
     * multiplied by its share of the step, so the sums are the mean.
     */
    record Split(int accumulation, long firstBucketBytes, long bucketBytes, DataParallel group, SharedBuckets shared) {}

    /**
     * The gradient buckets of all of a trainer's split steps: micro-batches of different sizes
     * (an epoch's short last batch) accumulate into the same buffers.
     */
    static final class SharedBuckets {
        private Buffer[] buffers;

        Buffer[] get(Accelerator acc, Buckets plan) {
            if (buffers == null) {
                buffers = new Buffer[plan.size()];
                for (int j = 0; j < buffers.length; j++) buffers[j] = acc.allocate(plan.list().get(j).type());
            }
            return buffers;
        }

        /** Unless a collective may still be writing into them. */
        void close(boolean stuck) {
            if (buffers != null && !stuck) for (Buffer b : buffers) b.close();
            buffers = null;
        }
    }

    private static final TensorType F32_SCALAR = LossScaler.F32_SCALAR;

    private final Kiln kiln;
    private final boolean train;
    private final List<Parameter> params;
    private final List<Source> sources = new ArrayList<>();
    private final Executable executable;
    private final TensorType xType, yType;
    private final int logitsSize;
    private final dev.kiln.core.Shape outputShape;
    /** No loss and no targets: the forward pass only ({@link Trainer#predict}). */
    private final boolean predictOnly;
    private final LossScaler scaler;

    /**
     * {@code scaler} is null for evaluation and for training without loss scaling; {@code loss}
     * and {@code yType} are null for prediction.
     */
    CompiledStep(Kiln kiln, Module model, Loss loss, Optimizer optimizer, LossScaler scaler, TensorType xType, TensorType yType, boolean train, Split split) {
        this.kiln = kiln;
        this.split = train ? split : null;
        this.train = train;
        this.scaler = train ? scaler : null;
        this.xType = xType;
        this.yType = yType;
        this.predictOnly = loss == null;
        if (predictOnly && train) throw new IllegalArgumentException("a training step needs a loss");
        this.params = model.parameters();
        Internal.Access a = Internal.access();
        Map<Tensor, Integer> paramOf = new IdentityHashMap<>();
        for (int i = 0; i < params.size(); i++) paramOf.put(params.get(i).value(kiln), i);
        Map<Tensor, Parameter> bufferOf = new IdentityHashMap<>();
        for (Parameter p : model.namedBuffers().values()) bufferOf.put(p.value(kiln), p);

        Tracer tr = new Tracer();
        Value xv = tr.builder().input(xType), yv = predictOnly ? null : tr.builder().input(yType);
        boolean wasTraining = model.isTraining();
        if (train) model.train(); else model.eval();
        Tensor out, l;
        try {
            out = model.forward(a.symbolic(kiln, tr, xv));
            l = predictOnly ? null : computeLoss(loss, out, a.symbolic(kiln, tr, yv));
        } finally {
            if (wasTraining) model.train(); else model.eval();
        }
        if (!predictOnly && (!l.isSymbolic() || l.shape().rank() != 0)) {
            throw new IllegalArgumentException("the loss must be a scalar computed from the model output, got " + l.shape()
                    + " from output " + out.shape() + " and targets " + yType);
        }
        logitsSize = Math.toIntExact(out.shape().size());
        outputShape = out.shape();
        // Buffer updates (running statistics) are extra forward outputs, so they survive lowering and autodiff.
        List<StateUpdates.Update> updates = StateUpdates.take(tr);
        List<Value> forwardOuts = new ArrayList<>(predictOnly ? List.of(a.value(out)) : List.of(a.value(l), a.value(out)));
        // Autodiff differentiates the first output: with loss scaling that is loss * scale, and the loss itself comes next.
        // A split step also multiplies by this batch's share of the step, 1 / (micro-batches x ranks), so that summing
        // the buckets over micro-batches and ranks gives the mean gradient with no pass over them to divide.
        Value scaleIn = null, shareIn = null;
        Tensor objective = l;
        if (this.scaler != null) {
            scaleIn = tr.builder().input(F32_SCALAR);
            objective = objective.mul(a.symbolic(kiln, tr, scaleIn));
        }
        if (this.split != null) {
            shareIn = tr.builder().input(F32_SCALAR);
            objective = objective.mul(a.symbolic(kiln, tr, shareIn));
        }
        if (objective != l) forwardOuts.addFirst(a.value(objective)); // only in training, where there is a loss
        int first = objective == l ? 0 : 1;
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
            else if (in.equals(shareIn)) sources.add(new Scalar(2));
            else {
                Tensor owner = (Tensor) owners.get(indexOfCaptured(tr, owners, in));
                Integer p = paramOf.get(owner);
                if (p != null) {
                    sources.add(new Param(p));
                    // A frozen parameter is read like a constant: no gradient, no update.
                    if (params.get(p).isTrainable()) {
                        wrt.add(i);
                        paramInput.add(p);
                    }
                } else if (bufferOf.containsKey(owner)) sources.add(new ModuleBuffer(bufferOf.get(owner)));
                else sources.add(new Constant(owner));
            }
        }
        Graph graph = forward;
        if (train) {
            if (wrt.isEmpty()) throw new IllegalArgumentException("the model has no trainable parameters that reach the loss");
            Graph grads = Autodiff.gradients(forward, wrt);
            updatedParams = paramInput;
            List<TensorType> paramTypes = wrt.stream().map(i -> forward.inputs().get(i).type()).toList();
            if (split == null) {
                Graph.Builder b = Graph.Builder.from(grads);
                Tracer upd = new Tracer(b);
                List<Value> outs = new ArrayList<>(grads.outputs().subList(first, first + 2));
                List<Tensor> gs = new ArrayList<>();
                List<Tensor> ps = new ArrayList<>();
                for (int k = 0; k < wrt.size(); k++) {
                    gs.add(a.symbolic(kiln, upd, grads.outputs().get(first + 2 + nb + k)));
                    ps.add(a.symbolic(kiln, upd, forward.inputs().get(wrt.get(k))));
                }
                Update u = update(b, upd, sources, optimizer, gs, ps, scaleIn);
                outs.addAll(u.paramsAndStates());
                outs.addAll(grads.outputs().subList(first + 2, first + 2 + nb));
                outs.addAll(u.scalerNext());
                graph = b.build(outs);
            } else {
                buckets = Buckets.plan(paramTypes, paramInput, split.firstBucketBytes(), split.bucketBytes());
                graph = gradientGraph(grads, first, nb, false);
                if (split.accumulation() > 1) {
                    sourcesAcc = new ArrayList<>(sources);
                    Graph accumulate = gradientGraph(grads, first, nb, true);
                    executableAcc = compile(a, accumulate);
                }
                executableUpdate = compile(a, updateGraph(optimizer, paramTypes));
            }
        } else {
            updatedParams = List.of();
        }
        this.graphNodes = graph.nodes().size();
        this.graphInputs = graph.inputs().size();
        this.executable = compile(a, graph);
        this.executableOutputs = graph.outputs().stream().map(Value::type).toList();
        this.fixed = new Buffer[sources.size()];
        this.stateSize = optimizer == null ? 0 : optimizer.stateSize();
    }

    private final List<Integer> updatedParams;
    /** Per source: the buffer refilled each run (batch, seed, scalar), else null. */
    private final Buffer[] fixed;
    private final Split split;
    // The split step's parts; null when the step is one executable.
    private Buckets buckets;
    private Buffer[] bucketBuffers;
    private Executable executableAcc, executableUpdate;
    private List<Source> sourcesAcc;
    private final List<Source> sourcesUpdate = new ArrayList<>();
    private Buffer[] fixedAcc, fixedUpdate;
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


    /** The optimizer section's outputs: new parameters then new states, and the loss scaler's next state. */
    private record Update(List<Value> paramsAndStates, List<Value> scalerNext) {}

    /**
     * Unscale (with a loss scaler), clip, and one optimizer update of every trainable parameter,
     * appended to {@code b}; each graph input it makes is recorded in {@code src}, in order.
     * Global-norm clipping needs every gradient before any update, so this is one section.
     */
    private Update update(Graph.Builder b, Tracer upd, List<Source> src, Optimizer optimizer, List<Tensor> gs, List<Tensor> ps, Value scaleIn) {
        Internal.Access a = Internal.access();
        Value lr = b.input(F32_SCALAR), step = b.input(F32_SCALAR);
        src.add(new Scalar(0));
        src.add(new Scalar(1));
        Tensor stepT = a.symbolic(kiln, upd, step);
        LossScaler.Unscaled unscaled = null;
        if (scaler != null) {
            Value good = b.input(F32_SCALAR), skipped = b.input(F32_SCALAR);
            src.add(new ScalerState(LossScaler.GOOD_STEPS));
            src.add(new ScalerState(LossScaler.SKIPPED_STEPS));
            Tensor skippedT = a.symbolic(kiln, upd, skipped);
            unscaled = scaler.unscale(gs, a.symbolic(kiln, upd, scaleIn), a.symbolic(kiln, upd, good), skippedT);
            gs = unscaled.grads();
            // PyTorch never calls optimizer.step() for a skipped step, so Adam's bias correction does not count it.
            stepT = stepT.sub(skippedT);
        }
        gs = optimizer.clipGradients(gs);
        List<Value> newParams = new ArrayList<>(), newStates = new ArrayList<>();
        for (int k = 0; k < gs.size(); k++) {
            Tensor param = ps.get(k);
            List<Tensor> state = new ArrayList<>();
            for (int s = 0; s < optimizer.stateSize(); s++) {
                state.add(a.symbolic(kiln, upd, b.input(a.value(param).type())));
                src.add(new State(updatedParams.get(k), s));
            }
            List<Tensor> r = optimizer.update(params.get(updatedParams.get(k)), param, gs.get(k), state, a.symbolic(kiln, upd, lr), stepT);
            if (unscaled != null) r = keepOnOverflow(unscaled.finite(), r, param, state);
            newParams.add(a.value(r.getFirst()));
            for (int s = 1; s < r.size(); s++) newStates.add(a.value(r.get(s)));
        }
        List<Value> out = new ArrayList<>(newParams);
        out.addAll(newStates);
        List<Value> next = new ArrayList<>();
        if (unscaled != null) for (Tensor t : unscaled.nextState()) next.add(a.value(t));
        return new Update(out, next);
    }

    /**
     * The first half of a split step: loss, output, buffer updates and the gradients packed into
     * buckets; with {@code accumulate} each bucket is added to the bucket passed in.
     */
    private Graph gradientGraph(Graph grads, int first, int nb, boolean accumulate) {
        Internal.Access a = Internal.access();
        Graph.Builder b = Graph.Builder.from(grads);
        Tracer t = new Tracer(b);
        List<Value> outs = new ArrayList<>(grads.outputs().subList(first, first + 2 + nb));
        for (int j = 0; j < buckets.size(); j++) {
            Buckets.Bucket bucket = buckets.list().get(j);
            Tensor[] parts = new Tensor[bucket.members().size()];
            for (int m = 0; m < parts.length; m++) {
                parts[m] = a.symbolic(kiln, t, grads.outputs().get(first + 2 + nb + bucket.members().get(m))).reshape(-1);
            }
            Tensor flat = parts.length == 1 ? parts[0] : Tensor.concat(0, parts);
            if (accumulate) {
                flat = a.symbolic(kiln, t, b.input(bucket.type())).add(flat);
                sourcesAcc.add(new Bucket(j));
            }
            outs.add(a.value(flat));
        }
        return b.build(outs);
    }

    /** The second half of a split step: gradients sliced back out of their buckets, then {@link #update}. */
    private Graph updateGraph(Optimizer optimizer, List<TensorType> paramTypes) {
        Internal.Access a = Internal.access();
        Graph.Builder b = Graph.builder();
        Tracer t = new Tracer(b);
        List<Tensor> ps = new ArrayList<>();
        for (int k = 0; k < paramTypes.size(); k++) {
            ps.add(a.symbolic(kiln, t, b.input(paramTypes.get(k))));
            sourcesUpdate.add(new Param(updatedParams.get(k)));
        }
        Tensor[] gs = new Tensor[paramTypes.size()];
        for (int j = 0; j < buckets.size(); j++) {
            Buckets.Bucket bucket = buckets.list().get(j);
            Tensor flat = a.symbolic(kiln, t, b.input(bucket.type()));
            sourcesUpdate.add(new Bucket(j));
            for (int m = 0; m < bucket.members().size(); m++) {
                int k = bucket.members().get(m), off = bucket.offsets().get(m);
                int[] dims = paramTypes.get(k).shape().dims();
                Tensor g = bucket.members().size() == 1 ? flat : flat.slice(0, off, Math.toIntExact(off + paramTypes.get(k).shape().size()));
                gs[k] = g.reshape(dims);
            }
        }
        Value scaleIn = null;
        if (scaler != null) {
            scaleIn = b.input(F32_SCALAR);
            sourcesUpdate.add(new ScalerState(LossScaler.SCALE));
        }
        Update u = update(b, t, sourcesUpdate, optimizer, List.of(gs), ps, scaleIn);
        List<Value> outs = new ArrayList<>(u.paramsAndStates());
        outs.addAll(u.scalerNext());
        return b.build(outs);
    }

    private Executable compile(Internal.Access a, Graph g) {
        a.enter(kiln);
        try {
            return a.compiler(kiln).compile(g);
        } finally {
            a.exit(kiln);
        }
    }

    boolean isSplit() { return split != null; }

    /** The loss over the traced output and targets; a refusal says which shapes and types it was given. */
    private static Tensor computeLoss(Loss loss, Tensor out, Tensor y) {
        try {
            return loss.compute(out, y);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the loss refused the model's output " + out.dtype().name().toLowerCase() + out.shape()
                    + " and the targets " + y.dtype().name().toLowerCase() + y.shape() + ": " + e.getMessage(), e);
        }
    }

    private static int indexOfCaptured(Tracer tr, List<Object> owners, Value in) {
        for (int i = 0; i < owners.size(); i++) if (tr.capturedValue(owners.get(i)).equals(in)) return i;
        throw new IllegalStateException("graph input " + in + " has no source");
    }

    /**
     * The number of classes integer targets index: the model's outputs per target value (per
     * example for one label each; per position for a sequence of labels), 0 when the outputs do
     * not divide evenly among the targets (the loss then reads the targets some other way).
     */
    int classes() {
        long targets = yType.shape().size();
        return targets == 0 || logitsSize % targets != 0 ? 0 : (int) (logitsSize / targets);
    }

    /** Shape of the model's output for this step's batch, batch dimension first. */
    dev.kiln.core.Shape outputShape() { return outputShape; }

    /** Loss (NaN for prediction) and model output of one step; in training mode the parameters and {@code state} are updated. */
    record Result(float loss, float[] output) {}

    /**
     * One step with no per-step native allocation: the batch, seeds and scalars are copied into
     * buffers made on the first run, and the executable writes the parameters, optimizer state and
     * module buffers straight back into their own buffers (donated outputs), so the tensors users
     * hold keep their identity and see the new values, as in PyTorch. A split step runs through
     * {@link #gradients} and {@link #applyGradients} instead.
     */
    Result run(float[] x, MemorySegment y, double lr, long step, Map<Parameter, Buffer[]> state) {
        if (split != null) throw new IllegalStateException("a split step runs as gradients() then applyGradients()");
        return entered(() -> fused(x, y, lr, step, state));
    }

    /**
     * The first half of a split step: loss, output and this batch's gradients times
     * {@code share} (its part of the step: 1 / (micro-batches x ranks)), written into the buckets
     * ({@code fresh}) or added to what they hold (accumulation; no collective runs).
     */
    Result gradients(float[] x, MemorySegment y, boolean fresh, double share) {
        return entered(() -> {
            Accelerator acc = Internal.access().compiler(kiln).accelerator();
            if (logits == null) allocateFixed(acc);
            boolean add = !fresh && executableAcc != null;
            if (add && fixedAcc == null) fixedAcc = allocate(acc, sourcesAcc);
            List<Buffer> inputs = inputs(acc, add ? sourcesAcc : sources, add ? fixedAcc : fixed, x, y, 0, 0, (float) share, null);
            List<Buffer> outs = new ArrayList<>();
            outs.add(loss);
            outs.add(logits);
            for (Parameter p : bufferTargets) outs.add(pinned(p.value(kiln)));
            outs.addAll(List.of(bucketBuffers));
            (add ? executableAcc : executable).run(inputs, outs);
            return download();
        });
    }

    /** The second half: the buckets summed over the ranks (when there is a group), then the optimizer update. */
    void applyGradients(double lr, long step, Map<Parameter, Buffer[]> state) {
        entered(() -> {
            if (split.group() != null) {
                for (int j = 0; j < bucketBuffers.length; j++) {
                    split.group().sumGradients(bucketBuffers[j], "gradient bucket " + (j + 1) + " of " + bucketBuffers.length + " at step " + step);
                }
            }
            Accelerator acc = Internal.access().compiler(kiln).accelerator();
            if (fixedUpdate == null) fixedUpdate = allocate(acc, sourcesUpdate);
            List<Buffer> inputs = inputs(acc, sourcesUpdate, fixedUpdate, null, null, lr, step, 1, state);
            List<Buffer> outs = new ArrayList<>();
            for (int k : updatedParams) outs.add(pinned(params.get(k).value(kiln)));
            for (int k : updatedParams) outs.addAll(List.of(state.get(params.get(k))));
            if (scaler != null) outs.addAll(List.of(scaler.state()));
            executableUpdate.run(inputs, outs);
            return null;
        });
    }

    /** Runs {@code body} as one accelerator call, with every tensor it pins released after. */
    private <T> T entered(java.util.function.Supplier<T> body) {
        Internal.Access a = Internal.access();
        a.enter(kiln);
        leases.clear();
        try {
            return body.get();
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

    private Result fused(float[] x, MemorySegment y, double lr, long step, Map<Parameter, Buffer[]> state) {
        Accelerator acc = Internal.access().compiler(kiln).accelerator();
        if (logits == null) allocateFixed(acc);
        List<Buffer> inputs = inputs(acc, sources, fixed, x, y, lr, step, 1, state);
        List<Buffer> outs = new ArrayList<>(2 + updatedParams.size() * (1 + stateSize) + bufferTargets.size());
        if (!predictOnly) outs.add(loss);
        outs.add(logits);
        if (train) {
            for (int k : updatedParams) outs.add(pinned(params.get(k).value(kiln)));
            for (int k : updatedParams) outs.addAll(List.of(state.get(params.get(k))));
        }
        for (Parameter p : bufferTargets) outs.add(pinned(p.value(kiln)));
        if (scaler != null) outs.addAll(List.of(scaler.state()));
        executable.run(inputs, outs);
        return download();
    }

    private Result download() {
        Internal.Access a = Internal.access();
        float[] lossHost = {Float.NaN};
        float[] outHost = new float[logitsSize];
        if (!predictOnly) a.download(kiln, loss, MemorySegment.ofArray(lossHost));
        a.download(kiln, logits, MemorySegment.ofArray(outHost));
        return new Result(lossHost[0], outHost);
    }

    /** The buffers of one executable's inputs, in graph order; refilled ones are copied into {@code fixed}. */
    private List<Buffer> inputs(Accelerator acc, List<Source> src, Buffer[] fixedBuffers, float[] x, MemorySegment y, double lr, long step,
                                float share, Map<Parameter, Buffer[]> state) {
        Internal.Access a = Internal.access();
        List<Buffer> inputs = new ArrayList<>(src.size());
        for (int i = 0; i < src.size(); i++) {
            Buffer fixedBuffer = fixedBuffers[i];
            Buffer b = switch (src.get(i)) {
                case Batch bt when bt.which() == 0 -> fill(acc, fixedBuffer, MemorySegment.ofArray(x));
                case Batch bt -> fill(acc, fixedBuffer, y);
                case Param p -> pinned(params.get(p.index()).value(kiln));
                case State st -> state.computeIfAbsent(params.get(st.param()), k -> zeros(k))[st.slot()];
                case Constant c -> pinned(c.tensor());
                case ModuleBuffer m -> pinned(m.buffer().value(kiln));
                case ScalerState ss -> scaler.state()[ss.slot()];
                case Bucket bk -> bucketBuffers[bk.index()];
                case Seed sd -> {
                    scratch.set(ValueLayout.JAVA_LONG, 0, a.nextSeed(kiln));
                    yield fill(acc, fixedBuffer, scratch);
                }
                case Scalar sc -> {
                    scratch.set(ValueLayout.JAVA_FLOAT, 0, switch (sc.which()) {
                        case 0 -> (float) lr;
                        case 1 -> (float) step;
                        default -> share;
                    });
                    yield fill(acc, fixedBuffer, scratch);
                }
            };
            inputs.add(b);
        }
        return inputs;
    }

    /** The buffers refilled every step (batch, seeds, scalars), the loss and output buffers, and the buckets. */
    private void allocateFixed(Accelerator acc) {
        System.arraycopy(allocate(acc, sources), 0, fixed, 0, fixed.length);
        logits = acc.allocate(executableOutputs.get(predictOnly ? 0 : 1));
        if (!predictOnly) loss = acc.allocate(executableOutputs.get(0));
        if (buckets != null) bucketBuffers = split.shared().get(acc, buckets);
    }

    private Buffer[] allocate(Accelerator acc, List<Source> src) {
        Buffer[] out = new Buffer[src.size()];
        for (int i = 0; i < src.size(); i++) {
            TensorType t = switch (src.get(i)) {
                case Batch bt -> bt.which() == 0 ? xType : yType;
                case Seed sd -> StepSeeds.SEED;
                case Scalar sc -> F32_SCALAR;
                default -> null;
            };
            if (t != null) out[i] = acc.allocate(t);
        }
        return out;
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

    /** Frees what this step owns; the buckets belong to the trainer ({@link SharedBuckets}). */
    @Override public void close() {
        executable.close();
        if (executableAcc != null) executableAcc.close();
        if (executableUpdate != null) executableUpdate.close();
        for (Buffer[] bs : java.util.Arrays.asList(fixed, fixedAcc, fixedUpdate)) {
            if (bs != null) for (Buffer b : bs) if (b != null) b.close();
        }
        if (loss != null) loss.close();
        if (logits != null) logits.close();
    }
}
