package dev.kiln.accel.xla.hlo;

import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Fused;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a Kiln {@link Graph} as one StableHLO module in MLIR text, {@code func.func public @main},
 * for XLA to compile: TensorFlow's {@code XlaCallModule} on XLA:CPU, or a PJRT plugin.
 *
 * <h2>Dialect and syntax</h2>
 * The text targets StableHLO 1.x as built into TensorFlow 2.18 (XLA of mid/late 2024). MLIR text
 * carries no compatibility promise, so ops are written in the <em>generic</em> form
 * {@code %r = "stablehlo.add"(%a, %b) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>}, whose
 * only dependence on the release is the attributes' names and kinds (StableHLO 1.x: dense
 * {@code array<i64: ...>} for dimension lists, {@code dense<...> : tensor<Nx2xi64>} for padding,
 * {@code #stablehlo.gather<...>} / {@code #stablehlo.scatter<...>} / {@code #stablehlo<comparison_direction GT>}
 * for the structured ones). Reduce and scatter carry an explicit region block. The exceptions are
 * {@code stablehlo.dot_general} and {@code stablehlo.convolution}, written in the pretty forms that
 * were checked to compile on TensorFlow 2.18's XLA ({@code contracting_dims = [1] x [0]},
 * {@code dim_numbers = [b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1], window = {...}}). Every value has one
 * name: graph values are {@code %v<id>} (the IR value's id, so XLA's diagnostics point back at the
 * graph), and values inside a lowering are {@code %t<n>}.
 *
 * <p>Every lowering below was run on TensorFlow 2.18's XLA:CPU through {@code XlaCallModule}
 * (version 5) and compared with the TCK's reference interpreter, including some 600 random window
 * geometries for the three convolutions and max-pool indices; random numbers, casts and pooling
 * indices matched bit for bit.
 *
 * <h2>Primitives</h2>
 * <table>
 * <caption>How each primitive is written (NumPy-broadcast operands first get a {@code broadcast_in_dim} to the result shape)</caption>
 * <tr><th>Primitive</th><th>StableHLO</th></tr>
 * <tr><td>Unary NEG, EXP, LOG, SQRT, TANH, SIGMOID, ABS</td><td>negate, exponential, log, sqrt, tanh, logistic, abs</td></tr>
 * <tr><td>Unary RELU</td><td>maximum(x, 0) (NaN propagates, as PyTorch and oneDNN)</td></tr>
 * <tr><td>Unary GELU</td><td>the tanh formula in multiply/add/tanh, in f32 for f16/bf16</td></tr>
 * <tr><td>Binary ADD, SUB, MUL, DIV, MAX, MIN, POW</td><td>add, subtract, multiply, divide, maximum, minimum, power;
 *     integer DIV: select(b == 0, 0, a / select(b == 0, 1, b)); integer POW: selects give the reference's values for
 *     negative exponents; bool: or / xor / and / and / or / and / or(a, not b)</td></tr>
 * <tr><td>Binary EQ, GT, LT</td><td>compare with compare_type FLOAT, SIGNED or UNSIGNED (bool)</td></tr>
 * <tr><td>Where</td><td>select</td></tr>
 * <tr><td>Cast</td><td>convert; to bool compare NE 0; float to i32/i8 via i64 (wraps like the reference);
 *     f64 and integers to f16/bf16 via f32 (rounds twice like the reference)</td></tr>
 * <tr><td>Reduce SUM, MAX</td><td>reduce with init 0 / least value and region add / maximum (or for bool),
 *     reshape for keepDims; f16/bf16 sums in f32</td></tr>
 * <tr><td>MatMul</td><td>dot_general: contracting_dims from the transposes, batching_dims = [0] x [0] at rank 3</td></tr>
 * <tr><td>Conv2d</td><td>convolution [b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1], stride, pad, rhs_dilate, feature_group_count</td></tr>
 * <tr><td>Conv2dBackwardData</td><td>reverse (and, with groups, reshape/transpose/reshape) of the weight; pad of dy with
 *     interior padding stride - 1; convolution [b, f, 0, 1]x[i, o, 0, 1]->[b, f, 0, 1] with rhs_dilate = dilation,
 *     feature_group_count; a slice where the padding would be negative</td></tr>
 * <tr><td>Conv2dBackwardWeights</td><td>convolution [f, b, 0, 1]x[i, o, 0, 1]->[f, b, 0, 1] with stride = dilation,
 *     rhs_dilate = stride, batch_group_count = groups; a slice where floor mode left rows unread</td></tr>
 * <tr><td>MaxPool2dIndices</td><td>pad, then per kernel tap a strided slice of the values and of an iota of flat indices,
 *     folded with compare/and/or/select (first strictly greater wins)</td></tr>
 * <tr><td>Reshape, Permute, Broadcast, Slice, Concat</td><td>reshape, transpose, broadcast_in_dim, slice, concatenate</td></tr>
 * <tr><td>Gather</td><td>gather, one collapsed axis, index_vector_dim = rank(indices)</td></tr>
 * <tr><td>ScatterAdd</td><td>scatter with region add into a broadcast 0 (f32 for f16/bf16)</td></tr>
 * <tr><td>Fill</td><td>constant scalar, broadcast_in_dim</td></tr>
 * <tr><td>Iota</td><td>iota (f32, f64, i32, i64), else an i32 iota and the Cast lowering</td></tr>
 * <tr><td>RandomUniform</td><td>the reference's SplitMix64 hash in ui64: bitcast_convert, iota, multiply, add, xor,
 *     shift_right_logical, convert, reshape (bit-exact, see {@link StableHloSources})</td></tr>
 * </table>
 *
 * <p>Composites are decomposed into primitives with {@link Lowering} unless the caller names them
 * native in {@link Options}; {@link Composite.Linear}, {@link Composite.Softmax},
 * {@link Composite.LogSoftmax} and {@link Composite.SoftmaxCrossEntropy} can be. {@link Fused} ops
 * belong to other plugins and are refused. Every refusal is an {@link IllegalArgumentException}
 * naming the node and the reason.
 */
public final class StableHloEmitter {
    private static final Pattern LOCAL = Pattern.compile("%t\\d+");

    private StableHloEmitter() {}

    /**
     * What to emit besides the graph.
     *
     * @param donations graph input index to graph output index: that input's buffer may be reused
     *     for that output (same type), written as {@code tf.aliasing_output = N} on the argument
     * @param nativeComposites composite records to write directly instead of decomposing; a subset
     *     of those {@link #supportedComposites()} lists
     */
    public record Options(Map<Integer, Integer> donations, Set<Class<? extends Composite>> nativeComposites) {
        public Options {
            donations = Map.copyOf(donations);
            nativeComposites = Set.copyOf(nativeComposites);
        }

        /** No donations, every composite decomposed. */
        public static Options defaults() { return new Options(Map.of(), Set.of()); }

        public Options withDonations(Map<Integer, Integer> d) { return new Options(d, nativeComposites); }

        public Options withNativeComposites(Set<Class<? extends Composite>> c) { return new Options(donations, c); }
    }

    /**
     * The emitted module.
     *
     * @param text the MLIR text: {@code module @kiln { func.func public @main(...) -> (...) { ... } }}
     * @param inputs the types of {@code @main}'s arguments, the graph's inputs in order
     * @param outputs the types of {@code @main}'s results, the graph's outputs in order
     * @param donations input index to the output index it is aliased with, as in {@link Options}
     */
    public record Module(String text, List<TensorType> inputs, List<TensorType> outputs, Map<Integer, Integer> donations) {
        public Module {
            inputs = List.copyOf(inputs);
            outputs = List.copyOf(outputs);
            donations = Map.copyOf(donations);
        }
    }

    /** The composites that {@link Options#nativeComposites()} may name. */
    public static Set<Class<? extends Composite>> supportedComposites() { return StableHloComposites.SUPPORTED; }

    /** {@code graph} as StableHLO text; throws {@link IllegalArgumentException} naming the node it cannot write. */
    public static Module emit(Graph graph, Options options) {
        for (Class<? extends Composite> c : options.nativeComposites()) {
            if (!StableHloComposites.SUPPORTED.contains(c)) {
                throw new IllegalArgumentException("stablehlo: no native lowering for composite " + c.getSimpleName() + "; supported: "
                        + StableHloComposites.SUPPORTED.stream().map(Class::getSimpleName).sorted().toList());
            }
        }
        Graph g = Lowering.decompose(graph, c -> options.nativeComposites().contains(c.getClass()));
        checkDonations(g, options.donations());
        return new StableHloEmitter.Run(g).emit(options.donations());
    }

    private static void checkDonations(Graph g, Map<Integer, Integer> donations) {
        Set<Integer> targets = new HashSet<>();
        for (Map.Entry<Integer, Integer> d : donations.entrySet()) {
            int in = d.getKey(), out = d.getValue();
            if (in < 0 || in >= g.inputs().size() || out < 0 || out >= g.outputs().size()) {
                throw new IllegalArgumentException("stablehlo: donation of input " + in + " to output " + out + " is out of range for a graph with "
                        + g.inputs().size() + " inputs and " + g.outputs().size() + " outputs");
            }
            TensorType it = g.inputs().get(in).type(), ot = g.outputs().get(out).type();
            if (!it.equals(ot)) throw new IllegalArgumentException("stablehlo: input " + in + " (" + it + ") cannot be donated to output " + out + " (" + ot + ")");
            if (!targets.add(out)) throw new IllegalArgumentException("stablehlo: output " + out + " is the target of two donations");
        }
    }

    /** One emission: the writer, the lowering groups sharing it, and the IR value to SSA value map. */
    private static final class Run {
        private final Graph graph;
        private final StableHloWriter w = new StableHloWriter();
        private final StableHloElementwise elementwise = new StableHloElementwise(w);
        private final StableHloReduce reduce = new StableHloReduce(w);
        private final StableHloContraction contraction = new StableHloContraction(w);
        private final StableHloPooling pooling = new StableHloPooling(w);
        private final StableHloMovement movement = new StableHloMovement(w);
        private final StableHloIndexing indexing = new StableHloIndexing(w);
        private final StableHloSources sources = new StableHloSources(w, elementwise);
        private final StableHloComposites composites = new StableHloComposites(w, elementwise, reduce, contraction, sources);
        private final Map<Integer, Ssa> values = new HashMap<>();
        /** Each node's result, named {@code %t<n>} when written, renamed to {@code %v<id>} at the end. */
        private final Map<String, String> renamed = new LinkedHashMap<>();

        Run(Graph graph) { this.graph = graph; }

        Module emit(Map<Integer, Integer> donations) {
            List<String> args = new ArrayList<>();
            for (int i = 0; i < graph.inputs().size(); i++) {
                Value v = graph.inputs().get(i);
                if (values.containsKey(v.id())) throw new IllegalArgumentException("stablehlo: value %" + v.id() + " is a graph input twice");
                Ssa arg = new Ssa(name(v), HloElement.of(v.type().dtype()), v.type().shape());
                values.put(v.id(), arg);
                args.add(arg + (donations.containsKey(i) ? " {tf.aliasing_output = " + donations.get(i) + " : i32}" : ""));
            }
            for (Node n : graph.nodes()) node(n);
            List<Ssa> results = new ArrayList<>();
            for (Value v : graph.outputs()) results.add(lookup(v, "graph output"));

            StringBuilder sb = new StringBuilder("module @kiln attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {\n");
            sb.append("  func.func public @main(").append(String.join(", ", args)).append(')');
            if (!results.isEmpty()) sb.append(" -> (").append(String.join(", ", results.stream().map(Ssa::type).toList())).append(')');
            sb.append(" {\n");
            Matcher m = LOCAL.matcher(w.text());
            sb.append(m.replaceAll(r -> Matcher.quoteReplacement(renamed.getOrDefault(r.group(), r.group()))));
            sb.append("    \"func.return\"(").append(String.join(", ", results.stream().map(Ssa::name).toList())).append(") : (")
                    .append(String.join(", ", results.stream().map(Ssa::type).toList())).append(") -> ()\n");
            sb.append("  }\n}\n");
            return new Module(sb.toString(), graph.inputs().stream().map(Value::type).toList(), graph.outputs().stream().map(Value::type).toList(), donations);
        }

        private void node(Node n) {
            try {
                n.checkTypes();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("stablehlo: cannot emit " + n.describe() + ": " + e.getMessage(), e);
            }
            if (n.outputs().size() != 1) throw refuse(n, "nodes with " + n.outputs().size() + " outputs have no lowering");
            List<Ssa> in = new ArrayList<>();
            for (Value v : n.inputs()) in.add(lookup(v, "input of " + n.describe()));
            Value outValue = n.output();
            TensorType out = outValue.type();
            Ssa r = switch (n.op()) {
                case Primitive p -> primitive(p, in, out);
                case Composite c when StableHloComposites.SUPPORTED.contains(c.getClass()) -> composites.lower(c, in);
                case Composite c -> throw refuse(n, "composite " + c.opName() + " was neither decomposed nor has a native lowering");
                case Fused f -> throw refuse(n, "fused op " + f.opName() + " belongs to another plugin's compile");
            };
            if (r.element() != HloElement.of(out.dtype()) || !r.shape().equals(out.shape())) {
                throw new IllegalStateException("stablehlo: lowering " + n.describe() + " produced " + r.type() + ", not " + Ssa.tensorType(out));
            }
            // The node's value needs a definition of its own to carry its name: a lowering that
            // returned an existing value (an argument, or another node's) gets a copy.
            if (!r.name().startsWith("%t") || renamed.containsKey(r.name())) r = w.copy(r);
            if (values.containsKey(outValue.id())) throw refuse(n, "value %" + outValue.id() + " is defined twice");
            renamed.put(r.name(), name(outValue));
            values.put(outValue.id(), new Ssa(name(outValue), r.element(), r.shape()));
        }

        private Ssa primitive(Primitive p, List<Ssa> in, TensorType out) {
            HloElement e = HloElement.of(out.dtype());
            return switch (p) {
                case Primitive.Unary u -> elementwise.unary(u.fn(), in.getFirst());
                case Primitive.Binary b -> elementwise.binary(b.fn(), in.get(0), in.get(1), out.shape());
                case Primitive.Where x -> elementwise.where(in.get(0), in.get(1), in.get(2), out.shape());
                case Primitive.Cast c -> elementwise.cast(in.getFirst(), e);
                case Primitive.Reduce r -> reduce.reduce(r.fn(), in.getFirst(), r.axes(), r.keepDims());
                case Primitive.MatMul m -> contraction.matmul(in.get(0), in.get(1), m.transA(), m.transB(), out.shape());
                case Primitive.Conv2d c -> contraction.conv(in.get(0), in.get(1), c.window(), c.groups(), out.shape());
                case Primitive.Conv2dBackwardData c -> contraction.convBackwardData(in.get(0), in.get(1), c.window(), c.groups(), c.input());
                case Primitive.Conv2dBackwardWeights c -> contraction.convBackwardWeights(in.get(0), in.get(1), c.window(), c.groups(), c.weight());
                case Primitive.MaxPool2dIndices m -> pooling.maxPoolIndices(in.getFirst(), m.window(), out.shape());
                case Primitive.Reshape r -> movement.reshape(in.getFirst(), r.shape());
                case Primitive.Permute x -> movement.permute(in.getFirst(), x.perm(), out.shape());
                case Primitive.Broadcast b -> movement.broadcast(in.getFirst(), b.shape());
                case Primitive.Slice s -> movement.slice(in.getFirst(), s.axis(), s.start(), s.end(), out.shape());
                case Primitive.Concat c -> movement.concat(in, c.axis(), out.shape());
                case Primitive.Gather g -> indexing.gather(in.get(0), in.get(1), g.axis(), out.shape());
                case Primitive.ScatterAdd s -> indexing.scatterAdd(in.get(0), in.get(1), s.axis(), s.shape());
                case Primitive.Fill f -> sources.fill(f.value(), e, out.shape());
                case Primitive.Iota i -> sources.iota(i.axis(), e, out.shape());
                case Primitive.RandomUniform r -> sources.randomUniform(in.getFirst(), e, out.shape());
            };
        }

        private Ssa lookup(Value v, String what) {
            Ssa s = values.get(v.id());
            if (s == null) throw new IllegalArgumentException("stablehlo: " + what + " uses %" + v.id() + ", which is not defined before it");
            return s;
        }

        private static String name(Value v) { return "%v" + v.id(); }

        private static IllegalArgumentException refuse(Node n, String reason) {
            return new IllegalArgumentException("stablehlo: cannot emit " + n.describe() + ": " + reason);
        }
    }
}
