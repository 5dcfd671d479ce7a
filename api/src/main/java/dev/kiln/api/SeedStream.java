package dev.kiln.api;

/**
 * The n-th value of the SplitMix64 sequence that {@code java.util.SplittableRandom(seed)}
 * produces, computed directly from n: seeking is O(1), so a saved position restores the stream.
 */
final class SeedStream {
    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

    private SeedStream() {}

    static long at(long seed, long position) {
        long z = seed + (position + 1) * GOLDEN_GAMMA;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
