package dev.kiln.examples;

import dev.kiln.api.Precision;
import java.util.Arrays;

/**
 * Command-line options shared by the examples and bench/compare.sh:
 * {@code --epochs N --batch B --hidden 128[,64...] --precision fp32 --backend onednn}.
 */
record Options(int epochs, int batch, int[] hidden, Precision precision, String backend) {

    static Options parse(String[] args) { return parse(args, 5); }

    /** With {@code epochs} when {@code --epochs} is not given: a small table needs many more epochs than Fashion-MNIST. */
    static Options parse(String[] args, int defaultEpochs) {
        int epochs = defaultEpochs, batch = 32;
        int[] hidden = {128};
        Precision precision = Precision.fp32();
        String backend = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) throw new IllegalArgumentException(usage());
            if (i + 1 >= args.length) throw new IllegalArgumentException("option " + a + " needs a value\n" + usage());
            String v = args[++i];
            switch (a) {
                case "--epochs" -> epochs = positive(a, v);
                case "--batch" -> batch = positive(a, v);
                case "--hidden" -> hidden = Arrays.stream(v.split(",")).mapToInt(s -> positive(a, s.trim())).toArray();
                case "--precision" -> precision = Precision.parse(v);
                case "--backend" -> backend = v;
                default -> throw new IllegalArgumentException("unknown option " + a + "\n" + usage());
            }
        }
        return new Options(epochs, batch, hidden, precision, backend);
    }

    static String usage() {
        return "options: --epochs N (5)  --batch B (32)  --hidden W[,W...] (128)  --precision fp32|bf16-mixed|auto (fp32)  --backend NAME (best available)";
    }

    private static int positive(String option, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n > 0) return n;
        } catch (NumberFormatException ignored) {
            // fall through to the message below
        }
        throw new IllegalArgumentException(option + " needs a positive integer, got '" + v + "'");
    }
}
