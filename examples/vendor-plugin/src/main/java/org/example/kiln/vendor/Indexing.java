package org.example.kiln.vendor;

/** Row-major coordinates and the element an output reads under NumPy broadcasting. */
final class Indexing {
    private Indexing() {}

    static int size(int[] dims) {
        int n = 1;
        for (int d : dims) n *= d;
        return n;
    }

    static int[] coordinates(int flat, int[] dims) {
        int[] c = new int[dims.length];
        for (int i = dims.length - 1; i >= 0; i--) {
            c[i] = flat % dims[i];
            flat /= dims[i];
        }
        return c;
    }

    static int flat(int[] coordinates, int[] dims) {
        int f = 0;
        for (int i = 0; i < dims.length; i++) f = f * dims[i] + coordinates[i];
        return f;
    }

    /** For each element of an {@code out}-shaped result, the element of an {@code in}-shaped operand it reads. */
    static int[] broadcast(int[] in, int[] out) {
        int[] source = new int[size(out)];
        int lead = out.length - in.length;
        for (int f = 0; f < source.length; f++) {
            int[] c = coordinates(f, out), ci = new int[in.length];
            for (int i = 0; i < in.length; i++) ci[i] = in[i] == 1 ? 0 : c[lead + i];
            source[f] = flat(ci, in);
        }
        return source;
    }
}
