package dev.kiln.api.data;

import dev.kiln.core.Shape;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Prepares one epoch's batches on a background thread so the training loop never waits for
 * data. Batches live in a small ring of reused arrays: a batch handed out stays valid until the
 * next call to {@code next()}, which gives its arrays back to the producer.
 */
public final class Prefetcher implements Iterator<Batch>, AutoCloseable {
    private static final Batch END = new Batch(new float[0], new int[0], 0, Shape.of(0));

    private final BlockingQueue<Batch> ready;
    private final BlockingQueue<Batch> free;
    private final Thread producer;
    private volatile RuntimeException failure;
    private Batch lookahead, current;

    /**
     * Starts preparing {@code loader}'s epoch {@code epoch}, keeping up to {@code depth} batches
     * ready ahead of the consumer.
     */
    public Prefetcher(DataLoader loader, int epoch, int depth) {
        if (depth < 1) throw new IllegalArgumentException("prefetch depth must be >= 1, got " + depth);
        Dataset ds = loader.dataset();
        int b = loader.batchSize(), exampleSize = ds.exampleSize();
        ready = new ArrayBlockingQueue<>(depth + 3);
        free = new ArrayBlockingQueue<>(depth + 2);
        for (int i = 0; i < depth + 2; i++) free.add(new Batch(new float[Math.multiplyExact(b, exampleSize)], new int[b], 0, Shape.of(0)));
        int[] order = loader.order(epoch);
        int end = loader.examplesPerEpoch();
        int[] exampleDims = ds.exampleShape().dims();
        producer = Thread.ofPlatform().daemon().name("kiln-prefetch").start(() -> {
            try {
                for (int pos = 0; pos < end; pos += b) {
                    int n = Math.min(b, end - pos);
                    Batch buf = free.take();
                    for (int i = 0; i < n; i++) {
                        int idx = order[pos + i];
                        ds.features(idx, buf.features(), i * exampleSize);
                        buf.labels()[i] = ds.label(idx);
                    }
                    int[] dims = new int[exampleDims.length + 1];
                    dims[0] = n;
                    System.arraycopy(exampleDims, 0, dims, 1, exampleDims.length);
                    ready.put(new Batch(buf.features(), buf.labels(), n, Shape.of(dims)));
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                failure = e;
            }
            ready.offer(END);
        });
    }

    @Override public boolean hasNext() {
        if (lookahead == null) lookahead = take();
        return lookahead != END;
    }

    @Override public Batch next() {
        if (!hasNext()) throw new NoSuchElementException("epoch finished");
        if (current != null) free.offer(current);
        current = lookahead;
        lookahead = null;
        return current;
    }

    private Batch take() {
        try {
            Batch b = ready.take();
            if (b == END && failure != null) throw new IllegalStateException("preparing a batch failed: " + failure.getMessage(), failure);
            return b;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a batch", e);
        }
    }

    /** Stops the producer; safe to call at any time. */
    @Override public void close() { producer.interrupt(); }
}
