package dev.kiln.runtime.dist;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;

/**
 * The key-value store through which the ranks of a job find each other: rank 0 serves it at
 * {@code masterAddr:masterPort} and every rank, rank 0 included, is a client of it. Keys live in
 * the namespace {@code attempt-<n>} unless the options name another.
 *
 * <p>Rank 0 binds the loopback interface when the master address is a loopback address (nobody
 * else could reach it there), else every interface, as PyTorch's store does: a host name often
 * resolves to 127.0.1.1 on the host itself (Debian's /etc/hosts) while other hosts reach it on
 * another address. The store has no authentication; keep its port inside the cluster.
 */
public final class RendezvousStore implements AutoCloseable {
    private final ProcessGroupSpec spec;
    private final StoreServer server;
    private final StoreClient client;

    private RendezvousStore(ProcessGroupSpec spec, StoreServer server, StoreClient client) {
        this.spec = spec;
        this.server = server;
        this.client = client;
    }

    public static RendezvousStore open(ProcessGroupSpec spec, StoreOptions options) {
        String namespace = options.namespace() != null ? options.namespace() : "attempt-" + spec.attempt();
        StoreServer server = spec.isMain() ? StoreServer.start(bindAddress(spec.masterAddr()), spec.masterPort(), options) : null;
        try {
            int port = server != null ? server.port() : spec.masterPort();
            if (port == 0) throw new IllegalArgumentException("rank " + spec.rank() + " cannot connect to master port 0: only rank 0 may ask for any free port");
            String host = server != null && isLoopback(spec.masterAddr()) ? InetAddress.getLoopbackAddress().getHostAddress() : spec.masterAddr();
            return new RendezvousStore(spec, server, StoreClient.connect(host, port, namespace, options));
        } catch (RuntimeException e) {
            if (server != null) server.close();
            throw e;
        }
    }

    private static InetAddress bindAddress(String masterAddr) {
        return isLoopback(masterAddr) ? InetAddress.getLoopbackAddress() : null;
    }

    /**
     * Only {@code localhost} and loopback literals count: a host name that resolves to loopback on
     * its own host (Debian maps it to 127.0.1.1) is how the other hosts reach rank 0.
     */
    static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) return true;
        boolean literal = host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
        if (!literal) return false;
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new RendezvousException("cannot resolve the master address '" + host + "' (MASTER_ADDR)", e);
        }
    }

    public ProcessGroupSpec spec() { return spec; }

    /** The port the store listens on: rank 0's bound port (useful with port 0), else the master port. */
    public int port() { return server != null ? server.port() : spec.masterPort(); }

    public void set(String key, byte[] value) { client.set(key, value); }

    public byte[] get(String key, Duration timeout) { return client.get(key, timeout); }

    public long add(String key, long delta) { return client.add(key, delta); }

    /** Waits for every rank of the group at barrier {@code name} (one name, one barrier). */
    public void barrier(String name, Duration timeout) { client.barrier(name, spec.worldSize(), timeout); }

    public void barrier(String name, int worldSize, Duration timeout) { client.barrier(name, worldSize, timeout); }

    /** The local address of this rank's connection to the store, where other ranks can reach this one. */
    InetAddress localAddress() { return client.localAddress(); }

    /** Closes this rank's connection; on rank 0 also the server, which ends every other rank's pending calls. */
    @Override public void close() {
        client.close();
        if (server != null) server.close();
    }
}
