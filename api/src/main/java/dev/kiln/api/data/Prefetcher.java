package dev.kiln.api.data;

import dev.kiln.core.Shape;
import java.util.Arrays;
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
    private volatile Throwable failure;
    private volatile int failedBatch;
    private Batch lookahead, current;

    /**
     * Starts preparing {@code loader}'s epoch {@code epoch}, keeping up to {@code depth} batches
     * ready ahead of the consumer.
     */
    public Prefetcher(DataLoader loader, int epoch, int depth) {
        if (depth < 1) throw new IllegalArgumentException("prefetch depth must be >= 1, got " + depth);
        BatchFiller filler = new BatchFiller(loader.dataset());
        int b = loader.batchSize();
        ready = new ArrayBlockingQueue<>(depth + 3);
        free = new ArrayBlockingQueue<>(depth + 2);
        for (int i = 0; i < depth + 2; i++) free.add(filler.allocate(b));
        int[] order = loader.order(epoch);
        int end = loader.examplesPerEpoch();
        producer = Thread.ofPlatform().daemon().name("kiln-prefetch").start(() -> {
            int batch = 0;
            try {
                for (int pos = 0; pos < end; pos += b, batch++) {
                    int n = Math.min(b, end - pos);
                    ready.put(filler.fill(free.take(), order, pos, n));
                }
            } catch (InterruptedException e) {
                // close(): the consumer has gone
            } catch (Throwable e) { // an Error from a user's Dataset too: the consumer must not wait forever
                failedBatch = batch;
                failure = e;
            } finally {
                // There is always room: at most depth + 2 batches exist, and the queue holds depth + 3.
                ready.offer(END);
            }
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
            if (b == END && failure != null) {
                ready.offer(END); // a second hasNext() after the failure sees it again
                Throwable f = failure;
                String where = "preparing batch " + (failedBatch + 1) + " on the prefetch thread failed";
                if (f instanceof Error e) { // rethrown as it is: callers may rely on its type (OutOfMemoryError, AssertionError)
                    if (Arrays.stream(e.getSuppressed()).noneMatch(x -> where.equals(x.getMessage()))) e.addSuppressed(new IllegalStateException(where));
                    throw e;
                }
                throw new IllegalStateException(where + ": " + f, f);
            }
            return b;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a batch", e);
        }
    }

    /**
     * Stops the producer and waits (a few seconds at most, for a {@link Dataset} call in progress)
     * until it has; safe to call at any time and from any thread.
     */
    @Override public void close() {
        producer.interrupt();
        if (producer == Thread.currentThread()) return;
        try {
            producer.join(STOP_WAIT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (producer.isAlive()) {
            System.getLogger(Prefetcher.class.getName()).log(System.Logger.Level.WARNING,
                    "the prefetch thread is still inside the dataset after " + STOP_WAIT_MS + " ms; leaving it to finish on its own");
        }
    }

    private static final long STOP_WAIT_MS = 5_000;
}
