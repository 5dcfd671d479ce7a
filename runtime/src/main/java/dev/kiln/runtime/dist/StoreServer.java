package dev.kiln.runtime.dist;

import static dev.kiln.runtime.dist.StoreProtocol.*;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Rank 0's side of the rendezvous store: a virtual thread per connection, so a client blocked in
 * a GET costs a parked thread and nothing else. A malformed frame closes that connection only;
 * the server keeps serving everyone else.
 */
public final class StoreServer implements AutoCloseable {
    static final String LOGGER = "dev.kiln.runtime.dist";
    private static final System.Logger LOG = System.getLogger(LOGGER);

    private final ServerSocket listener;
    private final StoreOptions options;
    private final KeyValues table = new KeyValues();
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private volatile boolean closed;

    private StoreServer(ServerSocket listener, StoreOptions options) {
        this.listener = listener;
        this.options = options;
        this.acceptor = Thread.ofPlatform().daemon().name("kiln-rendezvous-accept").start(this::acceptLoop);
    }

    /** Listens on {@code bind:port}; port 0 takes a free one, see {@link #port()}. */
    public static StoreServer start(InetAddress bind, int port, StoreOptions options) {
        try {
            ServerSocket s = new ServerSocket();
            try {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(bind, port), 128);
            } catch (IOException e) {
                s.close();
                throw e;
            }
            return new StoreServer(s, options);
        } catch (IOException e) {
            throw new RendezvousException("cannot listen for the rendezvous store on " + bind.getHostAddress() + ":" + port + ": " + e.getMessage(), e);
        }
    }

    public int port() { return listener.getLocalPort(); }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = listener.accept();
            } catch (IOException e) {
                if (!closed) LOG.log(Level.WARNING, "rendezvous store stopped accepting connections: " + e);
                return;
            }
            connections.add(s);
            if (closed) { closeQuietly(s); return; } // close() ran between accept and add
            Thread.ofVirtual().name("kiln-rendezvous-" + s.getRemoteSocketAddress()).start(() -> serve(s));
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
            ByteBuffer frame;
            boolean greeted = false;
            while (!closed && (frame = readFrame(in, options.maxFrameBytes())) != null) {
                // Only a peer that proved it speaks this protocol may touch the table.
                if (!greeted && frame.get(0) != HELLO) throw new ProtocolException("first frame is not a hello");
                greeted = true;
                handle(frame, out);
                out.flush();
            }
        } catch (ProtocolException e) {
            LOG.log(Level.WARNING, "rendezvous store closed the connection from " + s.getRemoteSocketAddress() + ": malformed frame: " + e.getMessage());
        } catch (IOException | InterruptedException e) {
            if (!closed) LOG.log(Level.DEBUG, "rendezvous connection from " + s.getRemoteSocketAddress() + " ended: " + e);
        } finally {
            connections.remove(s);
        }
    }

    private void handle(ByteBuffer frame, DataOutputStream out) throws IOException, InterruptedException {
        byte op = getByte(frame);
        switch (op) {
            case HELLO -> {
                int magic = getInt(frame);
                byte version = getByte(frame);
                expectEnd(frame);
                if (magic != MAGIC) throw new ProtocolException("hello without Kiln's magic number");
                if (version != VERSION) reply(out, error("protocol version " + version + " is not " + VERSION + ", this server's"));
                else reply(out, ByteBuffer.wrap(new byte[] {OK}));
            }
            case SET -> {
                String key = getKey(frame);
                byte[] value = getValue(frame);
                expectEnd(frame);
                table.set(key, value);
                reply(out, ByteBuffer.wrap(new byte[] {OK}));
            }
            case ADD -> {
                String key = getKey(frame);
                long delta = getLong(frame);
                expectEnd(frame);
                ByteBuffer r;
                try {
                    long now = table.add(key, delta);
                    r = ByteBuffer.allocate(9).put(OK).putLong(now).flip();
                } catch (IllegalArgumentException | ArithmeticException e) {
                    r = error(e.getMessage());
                }
                reply(out, r);
            }
            case GET -> {
                String key = getKey(frame);
                long timeoutMillis = getLong(frame);
                expectEnd(frame);
                if (timeoutMillis < 0) throw new ProtocolException("negative timeout " + timeoutMillis);
                answerGet(key, timeoutMillis, out);
            }
            default -> throw new ProtocolException("unknown opcode " + op);
        }
    }

    private void answerGet(String key, long timeoutMillis, DataOutputStream out) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + KeyValues.nanosOf(timeoutMillis);
        long beat = options.heartbeat().toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            byte[] v = table.await(key, Math.min(left, beat));
            if (v != null) {
                reply(out, ByteBuffer.allocate(5 + v.length).put(OK).putInt(v.length).put(v).flip());
                return;
            }
            if (deadline - System.nanoTime() <= 0) {
                reply(out, ByteBuffer.wrap(new byte[] {TIMED_OUT}));
                return;
            }
            reply(out, ByteBuffer.wrap(new byte[] {HEARTBEAT}));
            out.flush();
        }
    }

    private static void reply(DataOutputStream out, ByteBuffer body) throws IOException { writeFrame(out, body); }

    private static ByteBuffer error(String message) {
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + m.length).put(ERROR).put(m).flip();
    }

    /** Stops listening and drops every connection: clients blocked in a GET fail at once. */
    @Override public void close() {
        if (closed) return;
        closed = true;
        closeQuietly(listener);
        table.close();
        for (Socket s : connections) closeQuietly(s);
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing a socket that already failed tells us nothing new
        }
    }
}
