package dev.kiln.api.data;

import dev.kiln.core.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** torchvision's transforms for {@code [channels, height, width]} examples, and their composition. */
public final class Transforms {
    private Transforms() {}

    /** {@code (x - mean[c]) / std[c]} per channel, as {@code transforms.Normalize}. */
    public static Transform normalize(double[] mean, double[] std) {
        if (mean.length == 0 || mean.length != std.length) throw new IllegalArgumentException("normalize needs one mean and one std per channel, got " + mean.length + " and " + std.length);
        for (double s : std) if (!(s > 0)) throw new IllegalArgumentException("normalize: every std must be positive: " + Arrays.toString(std));
        double[] m = mean.clone(), sd = std.clone();
        return new Transform() {
            @Override public Shape outputShape(Shape in) {
                if (in.rank() != 3 || in.dim(0) != m.length)
                    throw new IllegalArgumentException("normalize has " + m.length + " channels; an example is " + in + " (expected [channels, height, width])");
                return in;
            }

            @Override public void apply(float[] src, Shape in, float[] dst, int offset, SplittableRandom random) {
                int plane = in.dim(1) * in.dim(2);
                for (int c = 0; c < m.length; c++) {
                    for (int i = 0; i < plane; i++) dst[offset + c * plane + i] = (float) ((src[c * plane + i] - m[c]) / sd[c]);
                }
            }

            @Override public String toString() { return "normalize(" + Arrays.toString(m) + ", " + Arrays.toString(sd) + ")"; }
        };
    }

    /** Mirrors the example left to right with probability {@code p}, as {@code transforms.RandomHorizontalFlip}. */
    public static Transform randomHorizontalFlip(double p) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("randomHorizontalFlip: p must be in [0, 1], got " + p);
        return new Transform() {
            @Override public Shape outputShape(Shape in) { return image(in, "randomHorizontalFlip"); }

            @Override public void apply(float[] src, Shape in, float[] dst, int offset, SplittableRandom random) {
                boolean flip = random.nextDouble() < p;
                int rows = in.dim(0) * in.dim(1), w = in.dim(2);
                for (int r = 0; r < rows; r++) {
                    for (int x = 0; x < w; x++) dst[offset + r * w + x] = src[r * w + (flip ? w - 1 - x : x)];
                }
            }

            @Override public String toString() { return "randomHorizontalFlip(" + p + ")"; }
        };
    }

    /**
     * A {@code height x width} window at a random place of the example padded with {@code padding}
     * zeros on every side, as {@code transforms.RandomCrop(size, padding)}: with the example's own
     * size and padding 4, the CIFAR shift augmentation.
     */
    public static Transform randomCrop(int height, int width, int padding) {
        if (height < 1 || width < 1 || padding < 0) throw new IllegalArgumentException("randomCrop needs a positive size and padding >= 0, got " + height + "x" + width + ", " + padding);
        return new Transform() {
            @Override public Shape outputShape(Shape in) {
                image(in, "randomCrop");
                if (in.dim(1) + 2 * padding < height || in.dim(2) + 2 * padding < width)
                    throw new IllegalArgumentException("randomCrop " + height + "x" + width + " does not fit an example " + in + " padded by " + padding);
                return Shape.of(in.dim(0), height, width);
            }

            @Override public void apply(float[] src, Shape in, float[] dst, int offset, SplittableRandom random) {
                int h = in.dim(1), w = in.dim(2);
                int top = random.nextInt(h + 2 * padding - height + 1) - padding, left = random.nextInt(w + 2 * padding - width + 1) - padding;
                for (int c = 0; c < in.dim(0); c++) {
                    for (int y = 0; y < height; y++) {
                        int sy = top + y;
                        for (int x = 0; x < width; x++) {
                            int sx = left + x;
                            dst[offset + (c * height + y) * width + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[(c * h + sy) * w + sx] : 0f;
                        }
                    }
                }
            }

            @Override public String toString() { return "randomCrop(" + height + "x" + width + ", padding " + padding + ")"; }
        };
    }

    /** The transforms one after the other, as {@code transforms.Compose}. */
    public static Transform compose(Transform... steps) {
        List<Transform> all = List.of(steps);
        if (all.isEmpty()) throw new IllegalArgumentException("compose needs at least one transform");
        return new Transform() {
            @Override public Shape outputShape(Shape in) {
                Shape s = in;
                for (Transform t : all) s = t.outputShape(s);
                return s;
            }

            @Override public void apply(float[] src, Shape in, float[] dst, int offset, SplittableRandom random) {
                float[] cur = src;
                Shape s = in;
                for (int i = 0; i < all.size(); i++) {
                    Transform t = all.get(i);
                    Shape next = t.outputShape(s);
                    boolean last = i == all.size() - 1;
                    float[] out = last ? dst : new float[Math.toIntExact(next.size())];
                    t.apply(cur, s, out, last ? offset : 0, random);
                    cur = out;
                    s = next;
                }
            }

            @Override public String toString() { return "compose" + all; }
        };
    }

    private static Shape image(Shape in, String name) {
        if (in.rank() != 3) throw new IllegalArgumentException(name + " needs [channels, height, width] examples, got " + in);
        return in;
    }
}
