package dev.kiln.examples;

import dev.kiln.api.GradientTape;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.nn.Embedding;
import dev.kiln.api.nn.GELU;
import dev.kiln.api.nn.LayerNorm;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.MultiHeadAttention;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.nn.Residual;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.core.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A tiny character-level transformer (GPT-style: token and position embeddings, pre-norm blocks
 * of causal self-attention and a GELU (tanh form, as GPT-2) MLP, each in a residual connection) trained on public-domain
 * verse shipped with the examples (Shakespeare's sonnets and the Gettysburg Address), with a
 * hand-written eager loop and a {@link GradientTape}. Prints the loss as it falls, the final loss,
 * and text sampled from the trained model. Options: {@code --steps N (600) --batch B (32)}.
 */
public final class CharTransformer {
    private CharTransformer() {}

    static final int CONTEXT = 32, DIM = 64, HEADS = 4, BLOCKS = 2;

    public static void main(String[] args) {
        int steps = 600, batch = 32;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--steps" -> steps = Integer.parseInt(args[i + 1]);
                case "--batch" -> batch = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("options: --steps N (600)  --batch B (32); got " + args[i]);
            }
        }
        String text = load();
        String vocab = text.chars().distinct().sorted().collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        int[] ids = text.chars().map(vocab::indexOf).toArray();
        System.out.printf("text: %,d characters, vocabulary %d%n", ids.length, vocab.length());
        Random random = new Random(7);
        try (Kiln kiln = Kiln.open(KilnConfig.builder().build())) {
            Model model = new Model(vocab.length());
            System.out.printf("backend: %s, %,d parameters, context %d, batch %d, %d steps%n", kiln.backend(), model.parameterCount(), CONTEXT, batch, steps);
            Adam adam = new Adam(3e-3);
            List<Parameter> params = model.parameters();
            double recent = 0;
            long start = System.nanoTime();
            for (int step = 1; step <= steps; step++) {
                int[] x = new int[batch * CONTEXT], y = new int[batch * CONTEXT];
                for (int b = 0; b < batch; b++) {
                    int at = random.nextInt(ids.length - CONTEXT - 1);
                    System.arraycopy(ids, at, x, b * CONTEXT, CONTEXT);
                    System.arraycopy(ids, at + 1, y, b * CONTEXT, CONTEXT);
                }
                double loss;
                List<Tensor> grads;
                try (GradientTape tape = kiln.tape()) {
                    Tensor logits = model.forward(kiln.tensor(x, batch, CONTEXT)).reshape(batch * CONTEXT, vocab.length());
                    Tensor l = logits.softmaxCrossEntropy(kiln.tensor(y, batch * CONTEXT));
                    loss = l.item();
                    grads = tape.gradient(l, params.stream().map(p -> p.value(kiln)).toList());
                }
                adam.step(kiln, params, grads);
                grads.forEach(Tensor::close);
                recent = step == 1 ? loss : 0.95 * recent + 0.05 * loss;
                if (step % 50 == 0 || step == 1) System.out.printf("step %4d  loss %.4f  (smoothed %.4f)  %.1f s%n", step, loss, recent, (System.nanoTime() - start) / 1e9);
            }
            System.out.printf("final loss (smoothed over the last ~20 steps): %.4f%n", recent);
            model.eval();
            System.out.println("sample:");
            System.out.println(sample(kiln, model, vocab, text.substring(0, CONTEXT), 400, random));
        }
    }

    /** Appends {@code count} characters, each drawn from the model's softmax at temperature 0.8 over the last CONTEXT characters. */
    static String sample(Kiln kiln, Model model, String vocab, String prompt, int count, Random random) {
        StringBuilder out = new StringBuilder(prompt);
        int v = vocab.length();
        for (int i = 0; i < count; i++) {
            int[] window = out.substring(out.length() - CONTEXT).chars().map(vocab::indexOf).toArray();
            float[] logits = model.forward(kiln.tensor(window, 1, CONTEXT)).toFloatArray();
            double[] p = new double[v];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int c = 0; c < v; c++) max = Math.max(max, logits[(CONTEXT - 1) * v + c] / 0.8);
            for (int c = 0; c < v; c++) sum += p[c] = Math.exp(logits[(CONTEXT - 1) * v + c] / 0.8 - max);
            double r = random.nextDouble() * sum;
            int c = 0;
            while (c < v - 1 && (r -= p[c]) > 0) c++;
            out.append(vocab.charAt(c));
        }
        return out.toString();
    }

    private static String load() {
        try (InputStream in = CharTransformer.class.getResourceAsStream("sonnets.txt")) {
            if (in == null) throw new IllegalStateException("sonnets.txt is missing from the examples jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Token and position embeddings, BLOCKS pre-norm transformer blocks, a final norm and the vocabulary head. */
    static final class Model extends Module {
        private final Embedding tokens;
        private final Parameter positions = new Parameter(Shape.of(CONTEXT, DIM), Parameter.Initializer.normal(0.02));
        private final Sequential body;

        Model(int vocab) {
            tokens = new Embedding(vocab, DIM);
            List<Module> layers = new ArrayList<>();
            for (int i = 0; i < BLOCKS; i++) {
                layers.add(new Residual(Sequential.of(new LayerNorm(DIM), new MultiHeadAttention(DIM, HEADS, true))));
                layers.add(new Residual(Sequential.of(new LayerNorm(DIM), new Linear(DIM, 4 * DIM), new GELU(GELU.Approximate.TANH), new Linear(4 * DIM, DIM))));
            }
            layers.add(new LayerNorm(DIM));
            layers.add(new Linear(DIM, vocab));
            body = Sequential.of(layers.toArray(Module[]::new));
        }

        @Override public Tensor forward(Tensor x) {
            return body.forward(tokens.forward(x).add(positions.value(x.kiln())));
        }

        @Override public List<Module> children() { return List.of(tokens, body); }

        @Override protected Map<String, Parameter> ownParameters() { return Map.of("positions", positions); }
    }
}
