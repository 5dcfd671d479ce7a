package dev.kiln.runtime.dist;

import static java.nio.channels.SelectionKey.OP_ACCEPT;
import static java.nio.channels.SelectionKey.OP_READ;
import static java.nio.channels.SelectionKey.OP_WRITE;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * One rank's two connections in the ring: it only writes to its right neighbour (rank + 1) and
 * only reads from its left one (rank - 1), after a hello in both directions. Both channels are
 * non-blocking under one selector so that one thread sends and receives at once: with blocking
 * sockets every rank would write a chunk larger than the socket buffers before reading its own,
 * and the ring would deadlock.
 */
final class RingLink implements Closeable {
    private static final int MAGIC = 0x4B524E47; // "KRNG": a stray connection to the ring port fails the hello
    private static final byte VERSION = 1;
    private static final int HELLO_BYTES = 4 + 1 + 1 + 4 + 4;
    /** Asked for, not promised: the kernel caps it (net.core.rmem_max); large windows keep a fast link full. */
    private static final int SOCKET_BUFFER = 4 << 20;
    /** At most this much per read or write, so a reduction starts on the first bytes of a chunk rather than its last. */
    private static final int PIECE = 256 << 10;

    final int rank, size, left, right;
    private final Duration timeout;
    private final Selector selector;
    private final SocketChannel fromLeft, toRight;
    private final SelectionKey leftKey, rightKey;
    private volatile boolean aborted;

    private RingLink(int rank, int size, Duration timeout, Selector selector, SocketChannel fromLeft, SocketChannel toRight)
            throws IOException {
        this.rank = rank;
        this.size = size;
        this.left = (rank + size - 1) % size;
        this.right = (rank + 1) % size;
        this.timeout = timeout;
        this.selector = selector;
        this.fromLeft = fromLeft;
        this.toRight = toRight;
        this.leftKey = fromLeft.register(selector, 0);
        this.rightKey = toRight.register(selector, 0);
    }

    /**
     * Publishes this rank's listening address in the store, connects to the right neighbour,
     * accepts the left one and checks both hellos, all within {@code timeout}.
     */
    static RingLink open(RendezvousStore store, int rank, int size, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int right = (rank + 1) % size, left = (rank + size - 1) % size;
        List<Closeable> opened = new ArrayList<>();
        try {
            // Every rank joins the same number of rings in the same order, so counting joins per rank
            // keeps a second ring on one store from reading the first one's addresses.
            long generation = store.add("ring/" + rank + "/joins", 1);
            Endpoint endpoint = endpoint(store.localAddress(), store.spec().masterAddr());
            ServerSocketChannel listener = ServerSocketChannel.open();
            opened.add(listener);
            // Accepted sockets inherit the receive buffer, and TCP fixes the window scale at the handshake.
            listener.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
            listener.bind(new InetSocketAddress(endpoint.bind(), 0), 4);
            listener.configureBlocking(false);
            int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
            store.set(addressKey(generation, rank), (endpoint.host() + ":" + port).getBytes(UTF_8));
            String rightAddress = new String(store.get(addressKey(generation, right), Duration.ofNanos(remaining(deadline))), UTF_8);
            SocketChannel toRight = connect(rightAddress, right, deadline, timeout);
            opened.add(toRight);
            Selector selector = Selector.open();
            opened.add(selector);
            SocketChannel fromLeft = accept(listener, selector, left, deadline, timeout);
            opened.add(fromLeft);
            listener.close();
            RingLink link = new RingLink(rank, size, timeout, selector, fromLeft, toRight);
            link.handshake(deadline);
            return link;
        } catch (IOException | RendezvousException e) {
            closeAll(opened);
            throw new CollectiveException("join on rank " + rank + " of " + size + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeAll(opened);
            throw e;
        }
    }

    /** Where to listen ({@code null}: every interface) and the host to publish for the other ranks. */
    record Endpoint(InetAddress bind, String host) {}

    /**
     * The address this rank's store connection leaves from is one the store's host reached it on,
     * so peers can too. A loopback one means this rank shares rank 0's host; unless the master
     * address itself says loopback, other hosts reach this one by the master's name (Debian maps a
     * host's own name to 127.0.1.1), so listen on every interface and publish that name.
     */
    static Endpoint endpoint(InetAddress storeLocal, String masterAddr) {
        if (!storeLocal.isLoopbackAddress() || loopbackLiteral(masterAddr)) return new Endpoint(storeLocal, storeLocal.getHostAddress());
        return new Endpoint(null, masterAddr);
    }

    private static boolean loopbackLiteral(String host) {
        if (host.equalsIgnoreCase("localhost")) return true;
        try {
            return InetAddress.ofLiteral(host).isLoopbackAddress();
        } catch (IllegalArgumentException notALiteral) {
            return false;
        }
    }

    private static String addressKey(long generation, int rank) { return "ring/" + rank + "/" + generation + "/addr"; }

    private static SocketChannel connect(String hostPort, int peer, long deadline, Duration timeout) throws IOException {
        int colon = hostPort.lastIndexOf(':');
        InetSocketAddress address = new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
        long backoffMillis = 10;
        while (true) {
            SocketChannel c = SocketChannel.open();
            try {
                c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                c.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER);
                c.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
                c.socket().connect(address, (int) Math.clamp(remaining(deadline) / 1_000_000, 1, 10_000));
                c.configureBlocking(false);
                return c;
            } catch (IOException e) {
                c.close();
                long left = remaining(deadline);
                if (left <= 0)
                    throw new IOException("cannot connect to rank " + peer + " at " + hostPort + " within " + seconds(timeout) + ": " + e.getMessage(), e);
                sleep(Math.min(backoffMillis, Math.max(1, left / 1_000_000)));
                backoffMillis = Math.min(500, backoffMillis * 2);
            }
        }
    }

    private static SocketChannel accept(ServerSocketChannel listener, Selector selector, int peer, long deadline, Duration timeout)
            throws IOException {
        SelectionKey key = listener.register(selector, OP_ACCEPT);
        try {
            while (true) {
                SocketChannel c = listener.accept();
                if (c != null) {
                    c.configureBlocking(false);
                    c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    c.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER);
                    return c;
                }
                long left = remaining(deadline);
                if (left <= 0) throw new IOException("rank " + peer + " did not connect within " + seconds(timeout));
                selector.select(Math.max(1, left / 1_000_000));
                selector.selectedKeys().clear();
            }
        } finally {
            key.cancel();
        }
    }

    /** The connector speaks first, the acceptor answers, so each side checks the other's claim. */
    private void handshake(long deadline) throws IOException {
        transfer(rightKey, hello(), OP_WRITE, right, deadline);
        ByteBuffer fromLeftHello = ByteBuffer.allocate(HELLO_BYTES);
        transfer(leftKey, fromLeftHello, OP_READ, left, deadline);
        check(fromLeftHello.flip(), left, "connecting from the left", fromLeft);
        transfer(leftKey, hello(), OP_WRITE, left, deadline);
        ByteBuffer fromRightHello = ByteBuffer.allocate(HELLO_BYTES);
        transfer(rightKey, fromRightHello, OP_READ, right, deadline);
        check(fromRightHello.flip(), right, "on the right", toRight);
    }

    private ByteBuffer hello() {
        return ByteBuffer.allocate(HELLO_BYTES).putInt(MAGIC).put(VERSION)
                .put((byte) (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? 0 : 1)).putInt(rank).putInt(size).flip();
    }

    private void check(ByteBuffer h, int expectedRank, String side, SocketChannel channel) throws IOException {
        String peer = String.valueOf(channel.getRemoteAddress());
        if (h.getInt() != MAGIC) throw new IOException("the peer " + side + " (" + peer + ") does not speak Kiln's ring protocol");
        byte version = h.get(), order = h.get();
        int theirRank = h.getInt(), theirSize = h.getInt();
        if (version != VERSION) throw new IOException("the peer " + side + " speaks ring protocol version " + version + ", not " + VERSION);
        if (theirRank != expectedRank || theirSize != size)
            throw new IOException("the peer " + side + " (" + peer + ") is rank " + theirRank + " of " + theirSize
                    + ", expected rank " + expectedRank + " of " + size + ": the ranks disagree on the group");
        // Data travel in native byte order, which is only safe between hosts that share one.
        if (order != hello().get(5)) throw new IOException("rank " + theirRank + " has the other byte order; the ring cannot mix them");
    }

    /** Moves all of {@code b} in one direction on one connection; used only by the hello. */
    private void transfer(SelectionKey key, ByteBuffer b, int op, int peer, long deadline) throws IOException {
        SocketChannel c = (SocketChannel) key.channel();
        while (b.hasRemaining()) {
            int n = op == OP_WRITE ? c.write(b) : c.read(b);
            if (n < 0) throw new IOException("rank " + peer + " closed its connection during the hello");
            if (n > 0) continue;
            long left = remaining(deadline);
            if (left <= 0) throw new IOException("rank " + peer + " did not finish the hello within " + seconds(timeout));
            key.interestOps(op);
            selector.select(Math.max(1, left / 1_000_000));
            selector.selectedKeys().clear();
            key.interestOps(0);
        }
    }

    /**
     * Sends all of {@code send} to the right while receiving all of {@code recv} from the left,
     * calling {@code arrived} with the bytes received so far after each read. With {@code relay},
     * {@code send} is the memory {@code recv} fills and is sent no further than received.
     */
    void exchange(String op, MemorySegment send, MemorySegment recv, boolean relay, LongConsumer arrived) {
        long sendEnd = send.byteSize(), recvEnd = recv.byteSize(), sent = 0, got = 0;
        long limit = timeout.toNanos(), lastRead = System.nanoTime(), lastWrite = lastRead;
        while (sent < sendEnd || got < recvEnd) {
            if (aborted) throw failure(op, "the ring was closed by another thread during the call", null);
            long sendable = relay ? Math.min(sendEnd, got) : sendEnd;
            boolean moved = false;
            if (sent < sendable) {
                int n = write(op, piece(send, sent, sendable));
                if (n > 0) {
                    sent += n;
                    moved = true;
                    lastWrite = System.nanoTime();
                }
            } else {
                lastWrite = System.nanoTime(); // nothing waits to go out, so the right is not stalling us
            }
            if (got < recvEnd) {
                int n = read(op, piece(recv, got, recvEnd));
                if (n > 0) {
                    got += n;
                    moved = true;
                    lastRead = System.nanoTime();
                    if (arrived != null) arrived.accept(got);
                }
            }
            if (moved) continue;
            long now = System.nanoTime();
            boolean reading = got < recvEnd, writing = sent < sendable;
            if (reading && now - lastRead >= limit) throw failure(op, "rank " + left + " sent nothing for " + seconds(timeout), null);
            if (writing && now - lastWrite >= limit) throw failure(op, "rank " + right + " took nothing for " + seconds(timeout), null);
            long wait = Math.min(reading ? lastRead + limit - now : Long.MAX_VALUE, writing ? lastWrite + limit - now : Long.MAX_VALUE);
            leftKey.interestOps(reading ? OP_READ : 0);
            rightKey.interestOps(writing ? OP_WRITE : 0);
            try {
                selector.select(Math.max(1, (wait + 999_999) / 1_000_000));
                selector.selectedKeys().clear();
            } catch (IOException e) {
                throw failure(op, "the selector failed: " + e.getMessage(), e);
            }
            if (Thread.currentThread().isInterrupted()) throw failure(op, "interrupted during the call", null);
        }
    }

    private static ByteBuffer piece(MemorySegment s, long from, long to) { return s.asSlice(from, Math.min(PIECE, to - from)).asByteBuffer(); }

    private int write(String op, ByteBuffer b) {
        try {
            return toRight.write(b);
        } catch (IOException e) {
            throw lost(op, right, e);
        }
    }

    private int read(String op, ByteBuffer b) {
        int n;
        try {
            n = fromLeft.read(b);
        } catch (IOException e) {
            throw lost(op, left, e);
        }
        if (n < 0) throw failure(op, "rank " + left + " closed its connection", null);
        return n;
    }

    /** A reset or broken pipe is what a killed peer looks like from this side. */
    private CollectiveException lost(String op, int peer, IOException e) {
        if (aborted) return failure(op, "the ring was closed by another thread during the call", e);
        return failure(op, "rank " + peer + " closed its connection (" + e.getMessage() + ")", e);
    }

    CollectiveException failure(String op, String what, Throwable cause) {
        return new CollectiveException(op + " on rank " + rank + " of " + size + ": " + what, cause);
    }

    /** Makes a call in progress on another thread give up at its next wait instead of running to its timeout. */
    void abort() {
        aborted = true;
        selector.wakeup();
    }

    @Override public void close() {
        aborted = true;
        closeAll(List.of(fromLeft, toRight, selector));
    }

    private static void closeAll(List<Closeable> cs) {
        for (Closeable c : cs) {
            try {
                c.close();
            } catch (IOException ignored) {
                // a socket that fails to close has nothing left to say
            }
        }
    }

    private static long remaining(long deadline) { return Math.max(0, deadline - System.nanoTime()); }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while connecting", e);
        }
    }

    static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }
}
