package dev.kiln.runtime.dist;

import static dev.kiln.runtime.dist.StoreProtocol.*;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One rank's connection to the rendezvous store. Requests are answered in order on one socket,
 * so calls take turns (they are synchronized). Every key is prefixed with the namespace. After an
 * I/O failure the client is broken for good: a half-read reply cannot be resynchronised.
 */
public final class StoreClient implements AutoCloseable {
    private final String where;
    private final String prefix;
    private final StoreOptions options;
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private volatile boolean closed;
    private String broken;

    private StoreClient(String where, String namespace, StoreOptions options, Socket socket) throws IOException {
        this.where = where;
        this.prefix = namespace + "/";
        this.options = options;
        this.socket = socket;
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(Math.toIntExact(Math.min(Integer.MAX_VALUE, options.serverSilence().toMillis())));
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
    }

    /**
     * Connects to {@code host:port}, retrying with backoff (50 ms doubling to 1 s) while the
     * connection is refused, until the options' connect timeout.
     */
    public static StoreClient connect(String host, int port, String namespace, StoreOptions options) {
        String where = host + ":" + port;
        long deadline = System.nanoTime() + options.connectTimeout().toNanos();
        long backoffMillis = 50;
        IOException last;
        while (true) {
            Socket s = new Socket();
            try {
                long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                s.connect(new InetSocketAddress(host, port), (int) Math.min(left, 10_000));
                StoreClient c = new StoreClient(where, namespace, options, s);
                c.hello();
                return c;
            } catch (IOException e) {
                last = e;
                closeQuietly(s);
            } catch (RuntimeException e) {
                closeQuietly(s);
                throw e;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) break;
            try {
                Thread.sleep(Math.min(backoffMillis, Math.max(1, left / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RendezvousException("interrupted while connecting to the rendezvous store at " + where, e);
            }
            backoffMillis = Math.min(1_000, backoffMillis * 2);
        }
        throw new RendezvousException("cannot reach the rendezvous store at " + where + " within "
                + seconds(options.connectTimeout()) + " (is rank 0 running, and MASTER_ADDR/MASTER_PORT right?): " + last, last);
    }

    private void hello() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(6).put(HELLO).putInt(MAGIC).put(VERSION).flip();
        writeFrame(out, b);
        out.flush();
        ByteBuffer r = readFrame(in, options.maxFrameBytes());
        if (r == null) throw new IOException("the server closed the connection during the handshake");
        byte status = getByte(r);
        if (status == ERROR) throw new RendezvousException("rendezvous store at " + where + " refused this client: " + message(r));
        if (status != OK) throw new RendezvousException("rendezvous store at " + where + " answered the handshake with status " + status);
    }

    public synchronized void set(String key, byte[] value) {
        byte[] k = wireKey(key);
        int size = 1 + 2 + k.length + 4 + value.length;
        if (size > options.maxFrameBytes())
            throw new IllegalArgumentException("value of key '" + key + "' is " + value.length + " bytes; a frame may hold "
                    + options.maxFrameBytes() + " bytes in all");
        ByteBuffer b = ByteBuffer.allocate(size).put(SET);
        putKey(b, k);
        putValue(b, value);
        ByteBuffer r = call(b.flip(), "setting key '" + key + "'");
        expectStatus(r, "setting key '" + key + "'", false);
    }

    /** The value of {@code key}, waiting until another rank sets it or {@code timeout} passes. */
    public synchronized byte[] get(String key, Duration timeout) {
        String what = "waiting for key '" + key + "'";
        ByteBuffer r = call(request(GET, wireKey(key), Math.max(0, timeout.toMillis())), what);
        if (expectStatus(r, what, true) == TIMED_OUT) {
            throw new RendezvousTimeoutException("timed out after " + seconds(timeout) + " waiting for key '" + key
                    + "' in the rendezvous store at " + where + " (namespace " + prefix.substring(0, prefix.length() - 1) + ")");
        }
        try {
            byte[] v = getValue(r);
            expectEnd(r);
            return v;
        } catch (java.net.ProtocolException e) {
            throw broken(what, e);
        }
    }

    /** Adds {@code delta} to the counter {@code key} (absent counts as 0) and returns the sum, atomically. */
    public synchronized long add(String key, long delta) {
        String what = "adding to key '" + key + "'";
        ByteBuffer r = call(request(ADD, wireKey(key), delta), what);
        expectStatus(r, what, false);
        try {
            long v = getLong(r);
            expectEnd(r);
            return v;
        } catch (java.net.ProtocolException e) {
            throw broken(what, e);
        }
    }

    /** A request of an op, a key and one long (a timeout or a delta). */
    private static ByteBuffer request(byte op, byte[] k, long arg) {
        ByteBuffer b = ByteBuffer.allocate(1 + 2 + k.length + 8).put(op);
        putKey(b, k);
        return b.putLong(arg).flip();
    }

    /**
     * Waits until {@code worldSize} ranks have entered barrier {@code name}. A name serves one
     * barrier: each rank adds 1 to its count, the last one sets a "done" key everyone waits for.
     */
    public void barrier(String name, int worldSize, Duration timeout) {
        if (worldSize < 1) throw new IllegalArgumentException("world size must be >= 1, got " + worldSize);
        long deadline = System.nanoTime() + timeout.toNanos();
        String count = "barrier/" + name + "/count", done = "barrier/" + name + "/done";
        long arrived = add(count, 1);
        if (arrived > worldSize)
            throw new RendezvousException("barrier '" + name + "' was entered by " + arrived + " ranks, more than the world size "
                    + worldSize + ": a barrier name serves one barrier");
        if (arrived == worldSize) set(done, new byte[] {1});
        try {
            get(done, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        } catch (RendezvousTimeoutException e) {
            long now = add(count, 0);
            throw new RendezvousTimeoutException("barrier '" + name + "' timed out after " + seconds(timeout) + ": " + now + " of "
                    + worldSize + " ranks arrived (rendezvous store at " + where + ")");
        }
    }

    /** Sends one request and reads its reply, skipping the heartbeats of a server still waiting. */
    private ByteBuffer call(ByteBuffer request, String what) {
        if (closed) throw new IllegalStateException("this rendezvous client is closed");
        if (broken != null) throw new RendezvousException("rendezvous client for " + where + " is unusable: " + broken);
        try {
            writeFrame(out, request);
            out.flush();
            while (true) {
                ByteBuffer r = readFrame(in, options.maxFrameBytes());
                if (r == null) throw new IOException("the server closed the connection");
                if (r.get(0) == HEARTBEAT && r.remaining() == 1) continue;
                return r;
            }
        } catch (SocketTimeoutException e) {
            throw broken(what, new IOException("no word from the server for " + seconds(options.serverSilence())
                    + " (heartbeats are every " + seconds(options.heartbeat()) + ")", e));
        } catch (IOException e) {
            throw broken(what, e);
        }
    }

    /** Reads a reply's status: OK, or TIMED_OUT where {@code mayTimeOut}; anything else becomes an exception. */
    private byte expectStatus(ByteBuffer r, String what, boolean mayTimeOut) {
        try {
            byte status = getByte(r);
            if (status == ERROR) throw new RendezvousException("rendezvous store at " + where + " refused " + what + ": " + message(r));
            if (status != OK && !(mayTimeOut && status == TIMED_OUT)) throw broken(what, new java.net.ProtocolException("unexpected status " + status));
            return status;
        } catch (java.net.ProtocolException e) {
            throw broken(what, e);
        }
    }

    private RendezvousException broken(String what, IOException e) {
        String reason = closed ? "this client was closed" : e.getMessage();
        broken = "lost the rendezvous store at " + where + " while " + what + ": " + reason;
        closeQuietly(socket);
        return new RendezvousException(broken + " (rank 0 may have exited)", e);
    }

    private byte[] wireKey(String key) {
        if (key.isEmpty()) throw new IllegalArgumentException("a store key must not be empty");
        return keyBytes(prefix + key);
    }

    private static String message(ByteBuffer r) {
        byte[] m = new byte[r.remaining()];
        r.get(m);
        return new String(m, StandardCharsets.UTF_8);
    }

    static String seconds(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    /** This end's address of the connection: one the store's host reaches this host on, for peers that bind a port of their own. */
    InetAddress localAddress() { return socket.getLocalAddress(); }

    /** Closes the socket; a call blocked in another thread fails at once. */
    @Override public void close() {
        closed = true;
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing to do about a socket that will not close
        }
    }
}
