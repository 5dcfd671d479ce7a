package dev.kiln.api.data;

import dev.kiln.api.dist.ProcessGroup;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Iterates a {@link Dataset} in mini-batches. Each call to {@link #iterator()} is one epoch; with
 * shuffling on, epoch {@code e} visits the examples in a permutation drawn from {@code (seed, e)}
 * only, so a run is reproducible and any epoch can be replayed with {@link #epoch(int)}.
 *
 * <p>By default every batch gets fresh arrays, which is always safe. With {@code reuseBuffers}
 * one pair of arrays is refilled for every batch of an epoch, so a batch is only valid until
 * the next {@code next()} — the training loop's usual pattern, and no garbage per step.
 *
 * <p>Sharded ({@link Builder#shard}, {@link Builder#distributed}) as PyTorch's
 * {@code DistributedSampler}: every rank draws the same permutation of epoch {@code e} and takes
 * positions {@code rank, rank + world, ...} of it. Without {@code dropLast} the permutation is
 * first padded by repeating it from the start to {@code world * ceil(N / world)}, so every rank
 * sees {@code ceil(N / world)} examples (a few twice); with {@code dropLast} it is cut to
 * {@code world * floor(N / world)} and each rank's last partial batch is dropped too. Either way
 * every rank runs the same number of batches, which a collective per step needs.
 * Not thread-safe.
 */
public final class DataLoader implements Iterable<Batch> {
    private final Dataset dataset;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final boolean reuseBuffers;
    private final long seed;
    private final int rank;
    private final int worldSize;
    private int nextEpoch;

    private DataLoader(Builder b) {
        this.dataset = b.dataset;
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        this.dropLast = b.dropLast;
        this.reuseBuffers = b.reuseBuffers;
        this.seed = b.seed;
        this.rank = b.rank;
        this.worldSize = b.worldSize;
    }

    /** Shuffling, keeping the last partial batch, fresh arrays per batch, seed 0. */
    public static DataLoader of(Dataset dataset, int batchSize) { return builder(dataset, batchSize).build(); }

    public static Builder builder(Dataset dataset, int batchSize) { return new Builder(dataset, batchSize); }

    public Dataset dataset() { return dataset; }

    public int batchSize() { return batchSize; }

    /** This loader's shard: 0 unless sharded. */
    public int rank() { return rank; }

    /** How many shards the dataset is split into: 1 unless sharded. */
    public int worldSize() { return worldSize; }

    /** Batches per epoch: {@code floor} of examples/batch with {@code dropLast}, else {@code ceil}. */
    public int batchesPerEpoch() {
        int n = shardSize();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** Examples seen per epoch (fewer than the shard when {@code dropLast} drops a remainder). */
    public int examplesPerEpoch() { return dropLast ? batchesPerEpoch() * batchSize : shardSize(); }

    /** Examples in this rank's part of an epoch's permutation, padding included. */
    private int shardSize() {
        int n = dataset.size();
        return dropLast ? n / worldSize : (int) ((n + (long) worldSize - 1) / worldSize);
    }

    /** The next epoch: the first call gives epoch 0, the second epoch 1, and so on. */
    @Override public Iterator<Batch> iterator() { return epoch(nextEpoch++).iterator(); }

    /** Epoch {@code e}, independent of how many epochs were iterated before. */
    public Iterable<Batch> epoch(int e) {
        int[] order = order(e);
        return () -> new BatchIterator(order);
    }

    /** The order in which epoch {@code e} visits the examples: this rank's part when sharded. */
    public int[] order(int e) {
        int[] all = fullOrder(e);
        if (worldSize == 1) return all;
        int[] mine = new int[shardSize()];
        // Position j of the padded permutation is all[j % n]: padding repeats it from the start.
        for (int i = 0; i < mine.length; i++) mine[i] = all[(int) ((rank + (long) i * worldSize) % all.length)];
        return mine;
    }

    /** The whole dataset's order in epoch {@code e}, the same on every rank. */
    private int[] fullOrder(int e) {
        if (!shuffle) {
            int[] id = new int[dataset.size()];
            for (int i = 0; i < id.length; i++) id[i] = i;
            return id;
        }
        // SplittableRandom scrambles its seed, so consecutive epoch seeds give unrelated streams.
        return permutation(dataset.size(), new SplittableRandom(seed + 0x9E3779B97F4A7C15L * (e + 1L)));
    }

    /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
    static int[] permutation(int n, SplittableRandom rnd) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private final class BatchIterator implements Iterator<Batch> {
        private final int[] order;
        private final int end;
        private final BatchFiller filler = new BatchFiller(dataset);
        private Batch buffers;
        private int pos;

        BatchIterator(int[] order) {
            this.order = order;
            this.end = examplesPerEpoch();
        }

        @Override public boolean hasNext() { return pos < end; }

        @Override public Batch next() {
            if (!hasNext()) throw new NoSuchElementException("epoch finished");
            int n = Math.min(batchSize, end - pos);
            Batch buf = buffers;
            if (buf == null || !reuseBuffers) {
                // Reused buffers are sized for a full batch so the short last batch fits too.
                buf = filler.allocate(reuseBuffers ? batchSize : n);
                if (reuseBuffers) buffers = buf;
            }
            Batch b = filler.fill(buf, order, pos, n);
            pos += n;
            return b;
        }
    }

    /** Options of a {@link DataLoader}. */
    public static final class Builder {
        private final Dataset dataset;
        private final int batchSize;
        private boolean shuffle = true;
        private boolean dropLast;
        private boolean reuseBuffers;
        private long seed;
        private int rank;
        private int worldSize = 1;

        private Builder(Dataset dataset, int batchSize) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
            if (batchSize <= 0) throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
            this.batchSize = batchSize;
        }

        /** Reshuffle every epoch (default true); false visits examples in index order. */
        public Builder shuffle(boolean shuffle) { this.shuffle = shuffle; return this; }

        /** Drop the last batch when it is smaller than {@code batchSize} (default false). */
        public Builder dropLast(boolean dropLast) { this.dropLast = dropLast; return this; }

        /** Refill one pair of arrays for every batch instead of allocating (default false). */
        public Builder reuseBuffers(boolean reuse) { this.reuseBuffers = reuse; return this; }

        /** Seed of the per-epoch shuffles (default 0); every rank of a sharded loader needs the same. */
        public Builder seed(long seed) { this.seed = seed; return this; }

        /** Visit only shard {@code rank} of {@code worldSize} of every epoch (see the class comment). */
        public Builder shard(int rank, int worldSize) {
            if (worldSize < 1) throw new IllegalArgumentException("worldSize must be >= 1, got " + worldSize);
            if (rank < 0 || rank >= worldSize) throw new IllegalArgumentException("rank " + rank + " is outside [0, " + worldSize + ")");
            this.rank = rank;
            this.worldSize = worldSize;
            return this;
        }

        /** {@code shard(group.rank(), group.worldSize())}. */
        public Builder distributed(ProcessGroup group) { return shard(group.rank(), group.worldSize()); }

        public DataLoader build() { return new DataLoader(this); }
    }
}
