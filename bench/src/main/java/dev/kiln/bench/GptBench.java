package dev.kiln.bench;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Precision;
import dev.kiln.api.Tensor;
import dev.kiln.api.data.Dataset;
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
import dev.kiln.api.train.Callback;
import dev.kiln.api.train.Trainer;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A GPT-style decoder (pre-norm blocks of causal attention and a 4x GELU(tanh) MLP) trained with AdamW
 * through {@link Trainer}'s compiled step, timed in tokens/s over the steps after warm-up; the
 * PyTorch side is {@code bench/gpt_torch.py}. Tokens are seeded random bytes: throughput does not
 * depend on the text. Options: {@code --layers 6 --dim 512 --heads 8 --seq 256 --batch 32
 * --steps 20 --warmup 5 --precision bf16-mixed --backend NAME --peak-tflops 989}.
 */
public final class GptBench {
    private static final int VOCAB = 256;

    private GptBench() {}

    public static void main(String[] args) {
        int layers = 6, dim = 512, heads = 8, seq = 256, batch = 32, steps = 20, warmup = 5;
        String precision = "bf16-mixed", backend = null;
        double peakTflops = 989; // H100 SXM, dense bf16 tensor-core peak: the denominator of MFU
        for (int i = 0; i + 1 < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--layers" -> layers = Integer.parseInt(v);
                case "--dim" -> dim = Integer.parseInt(v);
                case "--heads" -> heads = Integer.parseInt(v);
                case "--seq" -> seq = Integer.parseInt(v);
                case "--batch" -> batch = Integer.parseInt(v);
                case "--steps" -> steps = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--precision" -> precision = v;
                case "--backend" -> backend = v;
                case "--peak-tflops" -> peakTflops = Double.parseDouble(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        KilnConfig config = KilnConfig.builder().backend(backend).precision(Precision.parse(precision)).build();
        try (Kiln kiln = Kiln.open(config)) {
            LanguageModel model = new LanguageModel(layers, dim, heads, seq);
            long params = model.parameterCount();
            int total = warmup + steps;
            long[] marks = new long[2];
            int warm = warmup;
            Callback timer = new Callback() {
                @Override public void onBatchEnd(int step, int of, double loss, double acc, long samples, double seconds) {
                    if (step == warm) marks[0] = System.nanoTime();
                    if (step == of) marks[1] = System.nanoTime();
                    if (step == 1 || step == of) System.out.printf("step %d/%d  loss %.4f%n", step, of, loss);
                }
            };
            try (Trainer t = Trainer.builder(kiln, model).loss((out, y) -> out).optimizer(Adam.adamW(3e-4, 0.1))
                    .batchSize(batch).callback(timer).build()) {
                t.fit(new RandomTokens(batch * total, seq + 1), 1);
            }
            double seconds = (marks[1] - marks[0]) / 1e9;
            double tokensPerSecond = (double) steps * batch * seq / seconds;
            // 6 FLOPs per parameter per token (forward and backward) plus attention's score and value products.
            double flopsPerToken = 6.0 * params + 12.0 * layers * seq * dim;
            double tflops = tokensPerSecond * flopsPerToken / 1e12;
            System.out.printf("kiln %s %s: %,d parameters, %.1f ms/step, %,.0f tokens/s, %.1f TFLOP/s model FLOPs, MFU %.1f%% of %.0f%n",
                    kiln.backend(), kiln.precision().label(), params, 1e3 * seconds / steps, tokensPerSecond, tflops, 100 * tflops / peakTflops, peakTflops);
        }
    }

    /** Takes [batch, seq + 1] token ids (as floats), predicts each next token, returns the mean cross-entropy. */
    static final class LanguageModel extends Module {
        private final int seq;
        private final Embedding tokens;
        private final Parameter positions;
        private final Sequential body;

        LanguageModel(int layers, int dim, int heads, int seq) {
            this.seq = seq;
            tokens = new Embedding(VOCAB, dim);
            positions = new Parameter(Shape.of(seq, dim), Parameter.Initializer.normal(0.02));
            List<Module> blocks = new ArrayList<>();
            for (int i = 0; i < layers; i++) {
                blocks.add(new Residual(Sequential.of(new LayerNorm(dim), new MultiHeadAttention(dim, heads, true))));
                blocks.add(new Residual(Sequential.of(new LayerNorm(dim), new Linear(dim, 4 * dim), new GELU(GELU.Approximate.TANH), new Linear(4 * dim, dim))));
            }
            blocks.add(new LayerNorm(dim));
            blocks.add(new Linear(dim, VOCAB));
            body = Sequential.of(blocks.toArray(Module[]::new));
        }

        @Override public Tensor forward(Tensor x) {
            int b = x.shape().dim(0);
            Tensor input = x.slice(1, 0, seq).cast(DType.I32), target = x.slice(1, 1, seq + 1).cast(DType.I32).reshape(b * seq);
            Tensor h = tokens.forward(input).add(positions.value(x.kiln()));
            return body.forward(h).reshape(b * seq, VOCAB).softmaxCrossEntropy(target);
        }

        @Override public List<Module> children() { return List.of(tokens, body); }

        @Override protected Map<String, Parameter> ownParameters() { return Map.of("positions", positions); }
    }

    /** Seeded random byte tokens; labels are unused (the model computes its own loss). */
    record RandomTokens(int size, int length) implements Dataset {
        public Shape exampleShape() { return Shape.of(length); }

        public int numClasses() { return 1; }

        public void features(int index, float[] dst, int offset) {
            SplittableRandom r = new SplittableRandom(index);
            for (int i = 0; i < length; i++) dst[offset + i] = r.nextInt(VOCAB);
        }

        public int label(int index) { return 0; }
    }
}
