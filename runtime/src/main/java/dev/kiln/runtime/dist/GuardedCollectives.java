package dev.kiln.runtime.dist;

import dev.kiln.spi.Buffer;
import dev.kiln.spi.Collectives;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A plugin's {@link Collectives} with a deadline: the watchdog PyTorch gives its process groups.
 *
 * <p>MPI and NCCL collectives block until every rank arrives, and a rank that is alive but never
 * arrives (stopped, deadlocked, stuck in I/O) hangs its peers forever. So every call runs on one
 * communication thread while the caller waits at most {@code timeout}. When it expires the group
 * is broken: the plugin's {@link Collectives#abort()} runs, and the caller gets a
 * {@link CollectiveTimeoutException} naming the ranks that had not reached this collective. To
 * name them, each rank publishes the number of the last collective it entered to the rendezvous
 * store from a heartbeat thread; the ranks behind this one's number are the missing ones.
 *
 * <p>A broken group fails every later call at once, and {@link #stuck()} tells owners that a
 * native call may still be writing into its buffers, so they must be leaked rather than freed:
 * a JVM that keeps running is worth more than the memory. Calls take turns (one thread).
 */
public final class GuardedCollectives implements AutoCloseable {
    private static final String PROGRESS = "kiln/collectives/progress/";

    private final Collectives inner;
    private final RendezvousStore store; // null when there is no one to ask
    private final String transport;
    private final Duration timeout;
    private final ExecutorService worker;
    private final Thread heartbeat;
    private final Object lock = new Object();
    private volatile long entered;
    private volatile String broken;
    private volatile boolean stuck, closed;

    public GuardedCollectives(Collectives inner, RendezvousStore store, String transport, Duration timeout) {
        this.inner = Objects.requireNonNull(inner, "collectives");
        this.store = store;
        this.transport = transport;
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        int rank = inner.rank();
        this.worker = Executors.newSingleThreadExecutor(r -> daemon(r, "kiln-collectives-rank-" + rank));
        this.heartbeat = store == null ? null : daemon(this::publishProgress, "kiln-collectives-heartbeat-rank-" + rank);
        if (heartbeat != null) heartbeat.start();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public int rank() { return inner.rank(); }

    public int size() { return inner.size(); }

    /** How the ranks talk: {@code mpi}, {@code nccl}, {@code ring}. */
    public String transport() { return transport; }

    public Duration timeout() { return timeout; }

    /** True once a collective was abandoned while it may still use its buffers. */
    public boolean stuck() { return stuck; }

    /** {@code buffer = sum over ranks of buffer}, in place. {@code what} names it in errors ("gradient bucket 1 of 2 at step 7"). */
    public void allReduceSum(Buffer buffer, String what) { call("allReduce(sum) of " + what, () -> inner.allReduce(buffer, buffer)); }

    /** {@code buffer = buffer of rank root}, in place. */
    public void broadcast(Buffer buffer, int root, String what) { call("broadcast of " + what + " from rank " + root, () -> inner.broadcast(buffer, buffer, root)); }

    public void barrier(String what) { call("barrier (" + what + ")", inner::barrier); }

    private void call(String what, Runnable op) {
        synchronized (lock) {
            if (closed) throw new IllegalStateException("the process group's collectives are closed");
            if (broken != null) throw new CollectiveException(where() + ": cannot run " + what + ": the group is broken since " + broken);
            long seq = ++entered;
            Future<?> done = worker.submit(op);
            try {
                done.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                String missing = missingRanks(seq);
                fail(what + " (collective #" + seq + ") timed out", true);
                settle(done);
                throw new CollectiveTimeoutException(where() + ": " + what + " did not finish within " + seconds(timeout) + "; " + missing);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                fail(what + " failed: " + cause.getMessage(), false);
                throw new CollectiveException(where() + ": " + what + " failed: " + cause.getMessage(), cause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail(what + " was interrupted", true);
                throw new CollectiveException(where() + ": interrupted while waiting for " + what + "; the group is now broken");
            }
        }
    }

    private void fail(String why, boolean maybeRunning) {
        broken = why;
        if (maybeRunning) stuck = true;
        try {
            inner.abort();
        } catch (RuntimeException ignored) {
            // The group is broken either way; the caller's exception says why.
        }
    }

    /** A transport that can wake its blocked call (the ring closes its sockets) returns soon after abort; MPI never does. */
    private void settle(Future<?> call) {
        try {
            call.get(1, TimeUnit.SECONDS);
            stuck = false;
        } catch (ExecutionException e) {
            stuck = false;
        } catch (TimeoutException | InterruptedException | java.util.concurrent.CancellationException e) {
            // still blocked in native code: its buffers must outlive it
        }
    }

    /** Which ranks have not entered collective {@code seq}, from their last heartbeats. */
    private String missingRanks(long seq) {
        if (store == null) return "no rendezvous to ask which ranks did not arrive";
        Duration ask = timeout.compareTo(Duration.ofSeconds(5)) < 0 ? timeout : Duration.ofSeconds(5);
        List<String> behind = new ArrayList<>();
        for (int r = 0; r < size(); r++) {
            if (r == rank()) continue;
            long theirs;
            try {
                theirs = Long.parseLong(new String(store.get(PROGRESS + r, ask), StandardCharsets.UTF_8));
            } catch (RuntimeException e) {
                return (r == 0 ? "rank 0, which hosts the rendezvous, does not answer either" : "the rendezvous does not answer") + " (" + e.getMessage() + ")";
            }
            if (theirs < seq) behind.add("rank " + r + (theirs == 0 ? " (never entered a collective)" : " (last seen at #" + theirs + ")"));
        }
        return behind.isEmpty() ? "every rank entered it, so the transport itself is stuck"
                : String.join(", ", behind) + (behind.size() == 1 ? " has" : " have") + " not arrived at #" + seq;
    }

    /**
     * Publishes this rank's progress every 100 ms (less often only for timeouts under a second):
     * a stopped rank's last report is then at most that stale. One small store write per period.
     */
    private void publishProgress() {
        long period = Math.max(10, Math.min(100, timeout.toMillis() / 10));
        long published = -1;
        try {
            while (!closed) {
                long now = entered;
                if (now != published) {
                    store.set(PROGRESS + rank(), Long.toString(now).getBytes(StandardCharsets.UTF_8));
                    published = now;
                }
                Thread.sleep(period);
            }
        } catch (InterruptedException e) {
            // closing
        } catch (RuntimeException e) {
            // The rendezvous went away (rank 0 left); the next collective's own failure says so.
        }
    }

    private String where() { return "rank " + rank() + " of " + size(); }

    private static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms / 1000.0 + " s";
    }

    /** Frees the plugin's group unless it is stuck; idempotent. */
    @Override public void close() {
        if (closed) return;
        closed = true;
        if (heartbeat != null) heartbeat.interrupt();
        worker.shutdownNow();
        if (!stuck) inner.close();
    }

    @Override public String toString() {
        return "GuardedCollectives[" + transport + ", " + where() + ", timeout " + seconds(timeout) + (broken != null ? ", broken" : "") + "]";
    }
}
