package dev.kiln.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.UnsupportedPrimitiveException;
import dev.kiln.spi.ir.Value;
import dev.kiln.tck.internal.Compare;
import dev.kiln.tck.internal.CompositeCases;
import dev.kiln.tck.internal.ForwardCheck;
import dev.kiln.tck.internal.FusionCheck;
import dev.kiln.tck.internal.FusionGraphs;
import dev.kiln.tck.internal.GradientCheck;
import dev.kiln.tck.internal.KitFailure;
import dev.kiln.tck.internal.KitNames;
import dev.kiln.tck.internal.OpCase;
import dev.kiln.tck.internal.PluginRun;
import dev.kiln.tck.internal.PrimitiveCases;
import dev.kiln.tck.internal.RootCauses;
import dev.kiln.tck.internal.Sampler;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.opentest4j.TestAbortedException;

/**
 * The conformance kit. A plugin passes by subclassing this with one method:
 * <pre>{@code
 * class CudaConformanceTest extends AcceleratorConformanceTest {
 *     protected AcceleratorProvider provider() { return new CudaProvider(); }
 * }
 * }</pre>
 * Every primitive and composite runs as a one-node graph on the plugin and is compared with the
 * float64 {@link Reference} (in f32, and in f64 where the plugin supports it); every
 * differentiable one has its runtime-derived gradient run on the plugin and compared with finite
 * differences. Tolerances are in {@link Tolerance}. The accelerator is opened once per class; an
 * unavailable provider skips the class with its reason. Cases that need a dtype the plugin does
 * not claim, or a primitive it declared unsupported ({@code Capabilities.unsupported}) that the IR
 * cannot spell in others, are skipped with the reason. Each test is named by its section and
 * case ({@code forward f32: tanh [3,13]}) in build reports too, and a failing run ends with a
 * summary of its root causes: the first failure of each failing primitive, then what fails
 * through them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class AcceleratorConformanceTest {

    /** The plugin under test. */
    protected abstract AcceleratorProvider provider();

    /** How cases are compiled; override to test e.g. with fusion off. */
    protected CompileOptions compileOptions() { return CompileOptions.defaults(); }

    /** The forward tolerance for results of {@code type}; override only with a reason written next to it. */
    protected Tolerance tolerance(TensorType type) { return Tolerance.forward(type.dtype()); }

    private Accelerator accelerator;
    private final List<KitFailure> failures = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    public final void openAccelerator() {
        AcceleratorProvider p = provider();
        Availability a = p.probe();
        Assumptions.assumeTrue(a.available(), () -> p.name() + " is not available here: " + a.reason());
        accelerator = p.open(AcceleratorConfig.defaults());
    }

    @AfterAll
    public final void closeAccelerator() {
        if (accelerator != null) accelerator.close();
        accelerator = null;
        if (!failures.isEmpty()) System.out.println(RootCauses.summarize(provider().name(), List.copyOf(failures)));
        failures.clear();
    }

    /** The opened accelerator, for subclasses adding their own tests. */
    protected final Accelerator accelerator() { return accelerator; }

    // ---- the provider ------------------------------------------------------------------------

    @Test
    @DisplayName("provider speaks this SPI version and has a lower-case name")
    public void providerContract() {
        AcceleratorProvider p = provider();
        assertEquals(AcceleratorProvider.SPI_VERSION, p.spiVersion(), "spiVersion");
        assertTrue(p.name().matches("[a-z][a-z0-9-]*"), () -> "provider name '" + p.name() + "' must be lower-case");
        assertTrue(accelerator.capabilities().dtypes().contains(DType.F32), "every plugin computes in f32");
    }

    @TestFactory
    @DisplayName("upload (or uploadConstant) then download is the identity")
    public Stream<DynamicNode> roundTrip() {
        return Stream.of(DType.values()).map(d -> test("round trip", d.label(), null, false, () -> {
            requireDtypes(Set.of(d));
            TensorType t = TensorType.of(d, 3, 13);
            double[] x = HostData.roundTrip(sample(d, new Random(d.ordinal()), 39), t);
            try (var b = HostData.upload(accelerator, t, x); var c = accelerator.uploadConstant(t, HostData.write(x, t))) {
                assertArrayEquals(x, HostData.download(accelerator, b), d.label() + " round trip");
                assertArrayEquals(x, HostData.download(accelerator, c), d.label() + " round trip of a constant");
            }
        }));
    }

    // ---- forward -----------------------------------------------------------------------------

    @TestFactory
    @DisplayName("forward f32")
    public Stream<DynamicNode> forwardF32() { return forward(DType.F32); }

    @TestFactory
    @DisplayName("forward f64")
    public Stream<DynamicNode> forwardF64() {
        // One skip for the whole section rather than hundreds, when the plugin has no f64.
        requireDtypes(Set.of(DType.F64));
        return forward(DType.F64);
    }

    private Stream<DynamicNode> forward(DType f) {
        List<OpCase> cases = new ArrayList<>(PrimitiveCases.all(f));
        cases.addAll(CompositeCases.all(f));
        return grouped("forward " + f.label(), false, cases, c -> ForwardCheck.check(accelerator, compileOptions(), c, this::tolerance));
    }

    /**
     * The layers whose weights a model for inference holds as constants (Linear, and the int8
     * QuantizedLinear whose weights Kiln uploads with {@code uploadConstant}), again with every
     * operand but the input a constant buffer, run twice.
     */
    @TestFactory
    @DisplayName("forward f32 of linear layers on constant weights, run twice")
    public Stream<DynamicNode> forwardOnConstantWeights() {
        List<OpCase> cases = new ArrayList<>(CompositeCases.all(DType.F32));
        cases.removeIf(c -> !c.group().equals("linear") && !c.group().equals("quantizedlinear"));
        return grouped("forward f32 on constant weights", false, cases, c -> ForwardCheck.check(accelerator, compileOptions(), c, this::tolerance, true));
    }

    // ---- gradients ---------------------------------------------------------------------------

    @TestFactory
    @DisplayName("gradients f32")
    public Stream<DynamicNode> gradientsF32() {
        List<OpCase> cases = new ArrayList<>(PrimitiveCases.all(DType.F32));
        cases.addAll(CompositeCases.all(DType.F32));
        cases.removeIf(c -> c.wrt().isEmpty());
        return grouped("gradients f32", true, cases, c -> GradientCheck.check(accelerator, compileOptions(), c, tolerance(TensorType.of(DType.F32))));
    }

    // ---- graphs and errors -------------------------------------------------------------------

    @Test
    @DisplayName("a multi-node graph: two-layer MLP with softmax cross-entropy")
    public void mlpGraph() {
        checked("mlp graph", "two-layer MLP with softmax cross-entropy", null, false, this::runMlpGraph);
    }

    private void runMlpGraph() {
        requireDtypes(Set.of(DType.F32, DType.I32, DType.BOOL));
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, 7, 13));
        Value w1 = b.input(TensorType.of(DType.F32, 5, 13));
        Value b1 = b.input(TensorType.of(DType.F32, 5));
        Value w2 = b.input(TensorType.of(DType.F32, 3, 5));
        Value labels = b.input(TensorType.of(DType.I32, 7));
        Value h = b.apply1(new Composite.Linear(Composite.Activation.TANH), x, w1, b1);
        Value logits = b.matmul(h, w2, false, true);
        Value loss = b.apply1(new Composite.SoftmaxCrossEntropy(), logits, labels);
        Value probs = b.apply1(new Composite.Softmax(1), logits);
        Graph g = b.build(List.of(loss, probs, h));
        Random r = new Random(7);
        List<double[]> data = new ArrayList<>();
        for (Value in : g.inputs()) {
            Sampler s = in.type().dtype() == DType.I32 ? Sampler.integers(0, 3) : Sampler.uniform(-2, 2);
            data.add(HostData.roundTrip(s.draw(r, Math.toIntExact(in.type().shape().size())), in.type()));
        }
        List<double[]> want = Reference.run(g, data);
        List<double[]> got = PluginRun.run(accelerator, compileOptions(), g, data);
        for (int i = 0; i < want.size(); i++) {
            TensorType t = g.outputs().get(i).type();
            Compare.assertClose("mlp output " + i, t, got.get(i), want.get(i), tolerance(t), 13);
        }
    }

    @Test
    @DisplayName("an executable runs twice, and outputs may repeat values or be inputs")
    public void executableReuse() {
        checked("executable reuse", "an executable runs twice", null, false, this::runExecutableTwice);
    }

    private void runExecutableTwice() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, 7));
        Value y = b.input(TensorType.of(DType.F32, 7));
        Value s = b.add(x, y);
        Graph g = b.build(List.of(s, s, x));
        for (int run = 0; run < 2; run++) {
            double[] a = HostData.roundTrip(Sampler.uniform(-2, 2).draw(new Random(run), 7), TensorType.of(DType.F32, 7));
            double[] c = HostData.roundTrip(Sampler.uniform(-2, 2).draw(new Random(run + 10), 7), TensorType.of(DType.F32, 7));
            List<double[]> got = PluginRun.run(accelerator, compileOptions(), g, List.of(a, c));
            List<double[]> want = Reference.run(g, List.of(a, c));
            for (int i = 0; i < 3; i++) assertArrayEquals(HostData.roundTrip(want.get(i), TensorType.of(DType.F32, 7)), got.get(i), 1e-6, "run " + run + " output " + i);
        }
    }

    // ---- fusion and memory ---------------------------------------------------------------------

    @TestFactory
    @DisplayName("fused kernels agree with their decomposition (fusion on and off)")
    public Stream<DynamicNode> fusedAgainstDecomposition() {
        requireDtypes(Set.of(DType.F32, DType.I32, DType.BOOL));
        return FusionGraphs.all().stream().map(c -> test("fused", c.name(), null, false,
                () -> FusionCheck.fusedMatchesDecomposition(accelerator, compileOptions(), c, this::tolerance)));
    }

    @TestFactory
    @DisplayName("fused mixed-precision layers agree with their decomposition (fusion on and off)")
    public Stream<DynamicNode> fusedMixedAgainstDecomposition() {
        requireDtypes(Set.of(DType.F32, DType.BF16, DType.BOOL));
        return FusionGraphs.mixed().stream().map(c -> test("fused", c.name(), null, false,
                () -> FusionCheck.fusedMatchesDecomposition(accelerator, compileOptions(), c, this::tolerance)));
    }

    @TestFactory
    @DisplayName("outputs donated to input buffers are updated in place, step after step")
    public Stream<DynamicNode> donatedOutputs() {
        requireDtypes(Set.of(DType.F32));
        List<DynamicNode> tests = new ArrayList<>();
        for (boolean fusion : new boolean[] {true, false}) {
            CompileOptions o = compileOptions().withFusion(fusion);
            String mode = fusion ? " (fused)" : " (unfused)";
            for (FusionGraphs.GraphCase c : FusionGraphs.all()) {
                if (!c.graph().nodes().getFirst().op().opName().endsWith("update")) continue;
                int[] donate = c.graph().outputs().size() == 3 ? new int[] {0, 2, 3} : new int[] {0, 2};
                tests.add(test("donated", c.name() + mode, null, false, () -> FusionCheck.donated(accelerator, o, c, donate, 3, this::tolerance)));
            }
            // -x is computed before x * y reads x: writing -x straight into x's buffer would corrupt x * y.
            Graph.Builder b = Graph.builder();
            Value x = b.input(TensorType.of(DType.F32, 5, 7)), y = b.input(TensorType.of(DType.F32, 5, 7));
            Value neg = b.neg(x);
            Graph g = b.build(List.of(neg, b.mul(x, y), b.add(neg, y)));
            FusionGraphs.GraphCase early = new FusionGraphs.GraphCase("donated input read after its replacement is computed", g,
                    List.of(Sampler.uniform(-2, 2), Sampler.uniform(-2, 2)), 1);
            tests.add(test("donated", early.name() + mode, null, false, () -> FusionCheck.donated(accelerator, o, early, new int[] {0, -1, 1}, 1, this::tolerance)));
        }
        return tests.stream();
    }

    @Test
    @DisplayName("the builder rejects a bad matmul naming the op and both shapes")
    public void builderNamesOpInShapeErrors() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, 7, 13));
        Value w = b.input(TensorType.of(DType.F32, 5, 13));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.matmul(x, w, false, false));
        assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("[7, 13]") && e.getMessage().contains("[5, 13]"), e.getMessage());
    }

    @Test
    @DisplayName("compile rejects a malformed node with an IllegalArgumentException naming the op")
    public void compileNamesOpInErrors() {
        // Built by hand, bypassing inference, as a buggy pass might: a [7,13] @ [5,13] matmul claiming a [7,5] result.
        Value x = new Value(0, TensorType.of(DType.F32, 7, 13));
        Value w = new Value(1, TensorType.of(DType.F32, 5, 13));
        Value y = new Value(2, TensorType.of(DType.F32, 7, 5));
        Graph g = new Graph(List.of(x, w), List.of(new Node(new Primitive.MatMul(false, false), List.of(x, w), List.of(y))), List.of(y));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> accelerator.compile(g, compileOptions()).close());
        assertTrue(e.getMessage().contains("matmul"), e.getMessage());
    }

    // ---- helpers -----------------------------------------------------------------------------

    /** One container per op group, one named test per case, in catalog order. */
    private Stream<DynamicNode> grouped(String section, boolean gradient, List<OpCase> cases, Consumer<OpCase> check) {
        Map<String, List<DynamicNode>> groups = new LinkedHashMap<>();
        for (OpCase c : cases) {
            groups.computeIfAbsent(c.group(), k -> new ArrayList<>()).add(test(section, c.name(), c, gradient, () -> {
                requireDtypes(c.dtypes());
                check.accept(c);
            }));
        }
        return groups.entrySet().stream().map(e -> DynamicContainer.dynamicContainer(e.getKey(), e.getValue()));
    }

    /** A dynamic test named for build reports ({@link KitNames}) whose failure is {@link #checked}. */
    private DynamicTest test(String section, String name, OpCase c, boolean gradient, Runnable check) {
        return KitNames.test(section, name, () -> checked(section, name, c, gradient, check));
    }

    /**
     * Runs a check. A primitive the plugin declared unsupported and the IR cannot spell in others
     * skips the test; a failure is recorded for the summary, and an exception from the plugin or
     * the runtime (not a mismatch, which already names its case) is rethrown saying which test
     * raised it, because surefire's summary shows only the message.
     */
    private void checked(String section, String name, OpCase c, boolean gradient, Runnable check) {
        try {
            check.run();
        } catch (UnsupportedPrimitiveException e) {
            Assumptions.abort(e.getMessage());
        } catch (TestAbortedException e) {
            throw e;
        } catch (AssertionError e) {
            failures.add(new KitFailure(section, name, c, gradient, KitFailure.firstLine(e)));
            throw e;
        } catch (RuntimeException e) {
            AssertionError named = new AssertionError(section + ": " + name + ": " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
            failures.add(new KitFailure(section, name, c, gradient, KitFailure.firstLine(named)));
            throw named;
        }
    }

    /** Skips (rather than fails) a case that needs a dtype the plugin does not claim. */
    private void requireDtypes(Set<DType> needed) {
        for (DType d : needed) {
            Assumptions.assumeTrue(accelerator.capabilities().dtypes().contains(d), () -> accelerator.name() + " does not support " + d.label()
                    + " (not in its Capabilities.dtypes); these cases run against a plugin that declares it, such as onednn on a CPU with AVX512_BF16 for bf16");
        }
    }

    private static double[] sample(DType d, Random r, int n) {
        if (d == DType.BOOL) return Sampler.bools().draw(r, n);
        return d.isFloating() ? Sampler.uniform(-2, 2).draw(r, n) : Sampler.integers(-100, 100).draw(r, n);
    }
}
