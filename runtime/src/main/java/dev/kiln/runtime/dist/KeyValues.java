package dev.kiln.runtime.dist;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/** The server's table. One lock: rendezvous traffic is a few keys per rank, never a hot path. */
final class KeyValues {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<String, byte[]> values = new HashMap<>();
    private boolean closed;

    void set(String key, byte[] value) {
        lock.lock();
        try {
            values.put(key, value);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Counters are stored as decimal text, so a GET of a counter reads as a number. */
    long add(String key, long delta) {
        lock.lock();
        try {
            byte[] old = values.get(key);
            long now = Math.addExact(old == null ? 0 : counter(key, old), delta);
            values.put(key, Long.toString(now).getBytes(StandardCharsets.US_ASCII));
            changed.signalAll();
            return now;
        } finally {
            lock.unlock();
        }
    }

    /** The value of {@code key}, waiting up to {@code nanos} for it; null if it is still absent. */
    byte[] await(String key, long nanos) throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                if (closed) throw new InterruptedException("store closed");
                byte[] v = values.get(key);
                if (v != null || nanos <= 0) return v;
                nanos = changed.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private static long counter(String key, byte[] v) {
        try {
            return Long.parseLong(new String(v, StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("key '" + key + "' holds a value of " + v.length + " bytes that is not a counter");
        }
    }

    static long nanosOf(long millis) { return TimeUnit.MILLISECONDS.toNanos(millis); }
}
